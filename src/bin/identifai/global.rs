//! The options every subcommand takes (`--api-key`, `--base-url`, `--mock`,
//! `--json`, ...).

use clap::{ArgAction, Args};
use secrecy::{ExposeSecret, SecretString};

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The identifAI API key (dashboard: user menu > API Key). Never
    /// printed. Prefer the environment variable: other users can see
    /// command lines in the process list.
    #[arg(
        long,
        env = "IDENTIFAI_API_KEY",
        hide_env_values = true,
        global = true,
        value_name = "KEY",
        value_parser = parse_key
    )]
    pub api_key: Option<SecretString>,

    /// The API's base URL [default: https://backend.identifai.net]. Results
    /// link to identifAI's dashboard only with the default.
    #[arg(long, env = "IDENTIFAI_BASE_URL", global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// Start a built-in fake identifAI on loopback and use it: no key
    /// needed, nothing leaves the machine, the verdicts are made up.
    #[arg(long, global = true)]
    pub mock: bool,

    /// --mock, answering like the PHP backend at its oddest (empty maps
    /// as `[]`, booleans as `0`/`1`, fields the spec does not name).
    #[arg(long, global = true)]
    pub mock_quirks: bool,

    /// Machine-readable output: JSON on stdout (one object per input; JSON
    /// lines for batch), messages and errors on stderr only.
    #[arg(long, global = true)]
    pub json: bool,

    /// Log what the client does on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Share the rate limits with every other process on this key through
    /// Redis (`redis://host:6379`): run several `identifai` next to each
    /// other, or next to a service using the library, without 429s. Only a
    /// hash of the key and base URL is stored. An unreachable Redis fails the requests
    /// (it never falls back to pacing alone).
    #[arg(long, env = "IDENTIFAI_PACER_URL", global = true, value_name = "URL")]
    pub pacer: Option<String>,

    /// For tests: multiply the client's pacing, retry and poll intervals by
    /// this factor (e.g. 0.01 against a MockServer with time_scale 0.01).
    #[arg(long, env = "IDENTIFAI_RATE_SCALE", hide = true, global = true)]
    pub rate_scale: Option<f64>,
}

impl Global {
    /// The key given, trimmed; `None` when none or a blank one was given.
    pub fn key(&self) -> Option<SecretString> {
        let key = self.api_key.as_ref()?.expose_secret().trim();
        (!key.is_empty()).then(|| SecretString::from(key))
    }
}

/// `--api-key` (or `IDENTIFAI_API_KEY`) as a secret from the moment it is read.
fn parse_key(s: &str) -> Result<SecretString, String> {
    Ok(SecretString::from(s))
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use secrecy::ExposeSecret;

    /// The global options alone, as the whole command line holds them.
    #[derive(Debug, Parser)]
    struct Options {
        #[command(flatten)]
        global: super::Global,
    }

    #[test]
    fn the_key_is_read_trimmed_and_never_shown_by_debug() {
        let key = "sk-live-0123456789";
        let o = Options::try_parse_from(["identifai", "--api-key", &format!(" {key} ")]).unwrap();
        let shown = format!("{o:?}");
        assert!(!shown.contains(key), "{shown}");
        let read = o.global.key().unwrap();
        assert_eq!(read.expose_secret(), key);
        let blank = Options::try_parse_from(["identifai", "--api-key", "  "]).unwrap();
        assert!(blank.global.key().is_none());
    }
}
