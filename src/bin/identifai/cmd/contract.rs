//! `identifai contract`: the contract checks of [`identifai::contract`]
//! against the live service (with a key), another server (`--base-url`) or
//! the built-in mock (`--mock`, `--mock-quirks`).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use clap::Args;
use identifai::contract::{self, Budget, ContractConfig, Spec, Target};
use identifai::Identifier;
use secrecy::ExposeSecret;

use crate::exit::{failure, usage, Exit};
use crate::global::Global;

/// `identifai contract` options.
#[derive(Debug, Args)]
pub struct ContractArgs {
    /// Images submitted by URL (each costs a credit on the live service).
    #[arg(long, default_value_t = 1, value_name = "N")]
    pub images_by_url: u32,
    /// Images uploaded (a 1x1 PNG; each costs a credit). None unless asked.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub uploads: u32,
    /// Videos submitted by URL (each a paid video classification)
    /// [default: 1 with --mock, else 0].
    #[arg(long, value_name = "N")]
    pub videos_by_url: Option<u32>,
    /// Audios submitted by URL (each a paid audio classification)
    /// [default: 1 with --mock, else 0].
    #[arg(long, value_name = "N")]
    pub audios_by_url: Option<u32>,
    /// The image submitted by URL [default: a small public-domain PNG on
    /// Wikimedia Commons].
    #[arg(long, value_name = "URL")]
    pub image_url: Option<String>,
    /// The video submitted by URL [default: a public video on Wikimedia
    /// Commons].
    #[arg(long, value_name = "URL")]
    pub video_url: Option<String>,
    /// The audio submitted by URL [default: a short public-domain audio on
    /// Wikimedia Commons].
    #[arg(long, value_name = "URL")]
    pub audio_url: Option<String>,
    /// Also check an override round trip: override the verdict of the first
    /// classification of the run with the server's own verdict, then read
    /// it back. No credit, but the override stays on your account. Always
    /// on with --mock.
    #[arg(long = "override")]
    pub override_round_trip: bool,
    /// Also check the results of earlier classifications (cost nothing).
    #[arg(long = "identifier", value_name = "ID")]
    pub identifiers: Vec<String>,
    /// Validate against this OpenAPI file instead of the spec built into
    /// this program.
    #[arg(long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Write the report as JUnit XML here (for CI systems).
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write the drift seen as Overlay 1.0 actions (YAML) here.
    #[arg(long, value_name = "FILE")]
    pub drift: Option<PathBuf>,
    /// Exit 1 on drift too, not only on failures.
    #[arg(long)]
    pub fail_on_drift: bool,
    /// Give up waiting for a submission's verdict after this many seconds.
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub deadline: u64,
}

/// Runs the checks; exit 1 when one fails.
pub async fn run(global: &Global, args: ContractArgs) -> anyhow::Result<Exit> {
    let target = if global.mock {
        if global.mock_quirks {
            Target::mock_quirks()
        } else {
            Target::mock()
        }
    } else {
        let key = global
            .api_key
            .as_ref()
            .map(|k| k.expose_secret())
            .filter(|k| !k.trim().is_empty())
            .ok_or_else(|| {
                failure(
                    "no_api_key",
                    "no API key: set IDENTIFAI_API_KEY (or use --mock)",
                )
            })?;
        let base = global
            .base_url
            .clone()
            .unwrap_or_else(|| "https://backend.identifai.net".into());
        Target::server(base, key)
    };
    // Video and audio cost nothing on the mock: one each there by default.
    let default_media = if global.mock { 1 } else { 0 };
    let mut config = ContractConfig::new(target).with_budget(Budget {
        images_by_url: args.images_by_url,
        image_uploads: args.uploads,
        videos_by_url: args.videos_by_url.unwrap_or(default_media),
        audios_by_url: args.audios_by_url.unwrap_or(default_media),
    });
    config = config.with_overrides(global.mock || args.override_round_trip);
    if let Some(url) = args.image_url {
        config = config.with_image_url(url);
    }
    if let Some(url) = args.video_url {
        config = config.with_video_url(url);
    }
    if let Some(url) = args.audio_url {
        config = config.with_audio_url(url);
    }
    config = config.with_deadline(Duration::from_secs(args.deadline));
    let identifiers = args
        .identifiers
        .iter()
        .map(|id| Identifier::new(id.as_str()).map_err(|e| usage(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    config = config.with_identifiers(identifiers);
    if let Some(path) = &args.spec {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        config = config.with_spec(
            Spec::from_yaml(&text).map_err(|e| usage(format!("{}: {e}", path.display())))?,
        );
    }
    let report = contract::run(config).await;
    print!("{}", report.to_text());
    if let Some(path) = &args.junit {
        crate::files::write_whole(path, report.to_junit().as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    if let Some(path) = &args.drift {
        crate::files::write_whole(path, report.drift_overlay().as_bytes())?;
        eprintln!(
            "wrote {} ({} drift actions)",
            path.display(),
            report.drift().len()
        );
    }
    let drifted = args.fail_on_drift && !report.drift().is_empty();
    Ok(if report.passed() && !drifted {
        Exit::Ok
    } else {
        Exit::Error
    })
}
