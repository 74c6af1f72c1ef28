//! The command line, declared with clap's derive API.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{ArgAction, Args, Parser, Subcommand, ValueEnum};
use identifai::api::forms::{Frames, KeyFramesMethod};
use identifai::Identifier;

/// Every exit code, with what leads to it.
const EXITS: &[(u8, &str)] = &[
    (0, "success"),
    (1, "another error (e.g. a file that could not be written)"),
    (2, "usage: bad arguments or settings"),
    (3, "--fail-on matched: some verdict is the one given to --fail-on\n     (and nothing failed: a failure's code comes first)"),
    (4, "refused: the service refuses the key's requests (429s); batch:\n     what was not sent is left for --resume"),
    (5, "auth: no API key (try --mock), or the key was refused (401, 403)"),
    (6, "input: a file not found, empty, too large or of a type not taken,\n     a bad URL, an unknown identifier, refused by the service (400,\n     422) or not classifiable by it (errored)"),
    (7, "service: a 5xx, the network, a timeout, an answer not as the spec\n     says, an unreachable --pacer"),
    (8, "partial: some inputs failed, others succeeded (each record's\n     `code` says why)"),
    (130, "stopped by SIGINT or SIGTERM; every accepted upload is recorded"),
];

/// The `Exit codes:` section of a `--help`, with the codes in `codes`.
pub fn exit_codes(codes: &[u8]) -> String {
    let mut text = String::from("Exit codes:");
    for (code, what) in EXITS.iter().filter(|(c, _)| codes.contains(c)) {
        text.push_str(&format!("\n{code:>3}  {what}"));
    }
    text.push_str("\nWith --json, errors carry a stable `code` (see README).");
    text
}

/// Every exit code the program has.
const ALL_EXITS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8, 130];
/// Those of `classify` and `result` (no signal handling of their own).
const CLASSIFY_EXITS: &[u8] = &[0, 1, 2, 3, 4, 5, 6, 7, 8];
/// Those of `api`: one operation, no verdict to match.
pub const API_EXITS: &[u8] = &[0, 1, 2, 4, 5, 6, 7];

/// `contract`'s own.
const CONTRACT_EXITS: &str = "\
Exit codes:
  0  every check passed (and, with --fail-on-drift, no drift)
  1  a check failed (or drift, with --fail-on-drift), or a report file
     could not be written
  2  usage: bad arguments, an unreadable --spec
  5  no API key (use --mock to check the built-in mock)";

const ABOUT: &str = "Tell whether images, videos and audio were made by a human or by generative AI, with the identifAI API.";

const LONG_ABOUT: &str = "\
Tell whether images, videos and audio were made by a human or by generative AI, with the identifAI API.

Get an API key from the identifAI dashboard (user menu > API Key) and set IDENTIFAI_API_KEY, or try everything without one with --mock, which starts a built-in fake identifAI on loopback (its verdicts are made up).

  identifai --mock classify examples/media/sunset.png --heatmap
  identifai classify photo.jpg https://example.com/clip.mp4 --fail-on artificial
  identifai batch ./photos --out results.jsonl --resume";

/// `identifai`: the identifAI command-line client.
#[derive(Debug, Parser)]
#[command(
    name = "identifai",
    version,
    about = ABOUT,
    long_about = LONG_ABOUT,
    after_help = exit_codes(ALL_EXITS),
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

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
        value_name = "KEY"
    )]
    pub api_key: Option<String>,

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

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check that the service is up (needs no key).
    Health,
    /// Classify images, videos and audio (files or URLs) as human- or
    /// AI-made.
    #[command(after_help = exit_codes(CLASSIFY_EXITS))]
    Classify(ClassifyArgs),
    /// Show the results of earlier classifications, by identifier.
    #[command(after_help = exit_codes(CLASSIFY_EXITS))]
    Result(ResultArgs),
    /// Save the AI heatmap of an image, or a picture of it over the original.
    Heatmap(HeatmapArgs),
    /// Correct a verdict: later answers for the file carry it as
    /// `force_classification`.
    Override(OverrideArgs),
    /// Classify every media file of a directory or list file into a
    /// JSON-lines file, under the published rate limits.
    #[command(after_help = exit_codes(ALL_EXITS))]
    Batch(BatchArgs),
    /// Check that the service answers as the spec built into this program
    /// says (spends one small image by URL unless told otherwise; `--mock`
    /// checks the built-in mock).
    #[command(after_help = CONTRACT_EXITS)]
    Contract(crate::contract::ContractArgs),
    /// Run the built-in fake identifAI as a server of its own (prints its
    /// base URL and key; stops on SIGINT or SIGTERM).
    Mock(crate::serve::MockArgs),
    /// Call any operation of the API by its name, with its parameters as
    /// flags, and print its JSON answer (`--list` lists the operations;
    /// `identifai api <OPERATION> --help` shows an operation's inputs).
    #[command(after_help = exit_codes(API_EXITS), subcommand_value_name = "OPERATION")]
    Api(crate::api::ApiArgs),
    /// Print a shell completion script (e.g. `identifai completions bash >
    /// /etc/bash_completion.d/identifai`).
    Completions {
        /// The shell to complete for.
        shell: clap_complete::Shell,
    },
}

/// The whole command line: `cmd` (with `api`'s operations) with the global
/// options a subcommand has no use for hidden from its `--help`.
pub fn tidy(mut cmd: clap::Command) -> clap::Command {
    // Global options are copied into the subcommands when the command is
    // built: only then can a subcommand's copy be hidden.
    cmd.build();
    // The flags that only matter for talking to a service.
    const CLIENT: &[&str] = &[
        "api_key",
        "base_url",
        "mock",
        "mock_quirks",
        "json",
        "pacer",
    ];
    let unused = |command: &str, id: &str| match command {
        "mock" => CLIENT.contains(&id),
        "completions" => CLIENT.contains(&id) || id == "verbose",
        _ => false,
    };
    // In place: moving a built command's args or subcommands would break
    // its lookup tables.
    cmd.mut_subcommands(|sc| {
        let name = sc.get_name().to_string();
        sc.mut_args(|a| {
            let hide = unused(&name, a.get_id().as_str()) || a.is_hide_set();
            a.hide(hide)
        })
    })
}

/// What an input is classified as: told from the input, or a kind the spec
/// declares (`image`, `video`, `audio`, ...: the possible values come from
/// the generated `identifai::Kind`, so a kind the spec adds is one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KindArg {
    /// Told from the content (then the extension); URLs by their extension.
    Auto,
    /// This kind.
    Kind(identifai::Kind),
}

impl KindArg {
    /// The kind asked for; `None` for `auto`.
    pub fn kind(self) -> Option<identifai::Kind> {
        match self {
            KindArg::Auto => None,
            KindArg::Kind(k) => Some(k),
        }
    }
}

/// `auto` and every kind of the spec, in `identifai::Kind::ALL`'s order.
static KIND_ARGS: std::sync::LazyLock<Vec<KindArg>> = std::sync::LazyLock::new(|| {
    std::iter::once(KindArg::Auto)
        .chain(identifai::Kind::ALL.into_iter().map(KindArg::Kind))
        .collect()
});

impl ValueEnum for KindArg {
    fn value_variants<'a>() -> &'a [Self] {
        &KIND_ARGS
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(match self {
            KindArg::Auto => clap::builder::PossibleValue::new("auto")
                .help("Told from the content (then the extension); URLs by their extension"),
            KindArg::Kind(k) => clap::builder::PossibleValue::new(k.as_str()),
        })
    }
}

/// A verdict, for `--fail-on`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum VerdictArg {
    /// Made by generative AI.
    Artificial,
    /// Made by a human.
    Human,
}

impl VerdictArg {
    /// The verdict as the API writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            VerdictArg::Artificial => "artificial",
            VerdictArg::Human => "human",
        }
    }
}

/// The submission options (the API's form fields) and how inputs are sent.
#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// Classify inputs as this kind instead of telling it from their type.
    #[arg(long, value_enum, default_value_t = KindArg::Auto, help_heading = "Input")]
    pub kind: KindArg,

    /// Send files with this content type instead of the detected one
    /// (e.g. video/quicktime); image/* or video/* also sets the kind.
    #[arg(long, value_name = "MIME", help_heading = "Input")]
    pub content_type: Option<String>,

    /// Images: also compute an AI heatmap (classify saves it, and an overlay
    /// on the image, in the current directory; see --heatmap-out).
    #[arg(long, help_heading = "Options")]
    pub heatmap: bool,

    /// Also look for tampering or manipulation done without generative AI.
    #[arg(long, help_heading = "Options")]
    pub tampering: bool,

    /// Also analyse people's faces for morphing.
    #[arg(long, help_heading = "Options")]
    pub morphing: bool,

    /// Also detect NSFW content.
    #[arg(long, help_heading = "Options")]
    pub nsfw: bool,

    /// Videos: classify at most this many frames (5, 10 or 30).
    #[arg(long, value_name = "N", value_parser = parse_frames, help_heading = "Options")]
    pub frames: Option<Frames>,

    /// Videos: classify key frames instead of evenly spaced ones.
    #[arg(long, help_heading = "Options")]
    pub key_frames: bool,

    /// Videos: how key frames are found (iframes, flow or color; the older
    /// spelling iframe is read as iframes, which is sent); implies
    /// --key-frames.
    #[arg(long, value_name = "METHOD", value_parser = parse_key_frames_method, help_heading = "Options")]
    pub key_frames_method: Option<KeyFramesMethod>,

    /// Videos: also analyse the audio track (beta; needs a plan that has it).
    #[arg(long, help_heading = "Options")]
    pub audio: bool,

    /// Videos: make sure every classified frame shows a face (with --morphing).
    #[arg(long, help_heading = "Options")]
    pub ensure_face_per_frame: bool,

    /// A reference of yours, kept with the classification.
    #[arg(long, value_name = "REF", help_heading = "Options")]
    pub ref_id: Option<String>,

    /// Classify again even if the same media was already classified with
    /// the same options (may cost credits).
    #[arg(long, help_heading = "Options")]
    pub no_cache: bool,

    /// Keep C2PA signatures from forcing the verdict to artificial (images,
    /// videos, audio uploads; not audio by URL).
    #[arg(long, help_heading = "Options")]
    pub prevent_c2pa_forces: bool,

    /// Also send the result to this URL (needs enabling by identifAI).
    #[arg(long, value_name = "URL", help_heading = "Options")]
    pub webhook_url: Option<String>,
}

/// Waiting for verdicts.
#[derive(Debug, Clone, Args)]
pub struct WaitArgs {
    /// Give up waiting for a verdict after this many seconds.
    #[arg(long, value_name = "SECS", default_value_t = 600)]
    pub timeout: u64,

    /// Exit with 3 when any verdict is this one (for pipelines).
    #[arg(long, value_enum, value_name = "VERDICT")]
    pub fail_on: Option<VerdictArg>,
}

#[derive(Debug, Args)]
pub struct ClassifyArgs {
    /// Files or http(s) URLs of images, videos and audio.
    #[arg(required = true, value_name = "PATH|URL")]
    pub inputs: Vec<OsString>,

    #[command(flatten)]
    pub submit: SubmitArgs,

    /// Print the identifiers and return, without waiting for verdicts.
    #[arg(long, conflicts_with_all = ["fail_on", "heatmap_out"])]
    pub no_wait: bool,

    #[command(flatten)]
    pub wait: WaitArgs,

    /// With --heatmap: save the bare heatmap here instead (a file for one
    /// input, a directory for several: DIR/<name>.heatmap.png). Without
    /// it, --heatmap saves NAME.heatmap.png and NAME.overlay.png (the
    /// heatmap over the image) in the current directory, NAME from the
    /// input's name; when either is taken, NAME-2.*, NAME-3.*: nothing is
    /// overwritten.
    #[arg(long, value_name = "PATH", requires = "heatmap")]
    pub heatmap_out: Option<PathBuf>,

    /// Inputs in flight at once.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,
}

#[derive(Debug, Args)]
pub struct ResultArgs {
    /// Identifiers given by `classify`.
    #[arg(required = true, value_name = "ID", value_parser = parse_identifier)]
    pub ids: Vec<Identifier>,

    /// Whether the identifiers are images', videos' or audios' (auto:
    /// image, then video, then audio, until one knows it).
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    pub kind: KindArg,

    /// Wait until each classification is finished.
    #[arg(long)]
    pub wait: bool,

    #[command(flatten)]
    pub waiting: WaitArgs,
}

/// The verdict an override sets.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ClassificationArg {
    /// Made by a human.
    Human,
    /// Made by generative AI.
    Artificial,
}

#[derive(Debug, Args)]
pub struct OverrideArgs {
    /// The file's hash (the `hash` of its result: hex SHA-256), or the
    /// identifier of its classification (its result is fetched for the hash).
    #[arg(value_name = "HASH|IDENTIFIER", value_parser = parse_identifier)]
    pub target: Identifier,

    /// The correct verdict.
    #[arg(value_enum)]
    pub classification: ClassificationArg,

    /// The kind of the file (auto: from the identifier's result; for a bare
    /// hash, image, then video, then audio, until one knows it).
    #[arg(long, value_enum, default_value_t = KindArg::Auto)]
    pub kind: KindArg,
}

#[derive(Debug, Args)]
pub struct HeatmapArgs {
    /// The identifier of an image classified with --heatmap.
    #[arg(value_name = "ID", value_parser = parse_identifier)]
    pub id: Identifier,

    /// Where to write the picture: .png, .jpg/.jpeg, .webp, .tif/.tiff or
    /// .gif (by the extension; PNG without one).
    #[arg(short, long, value_name = "FILE")]
    pub out: PathBuf,

    /// Blend the heatmap over this original image instead of saving it bare.
    #[arg(long, value_name = "ORIGINAL")]
    pub overlay: Option<PathBuf>,

    /// How strongly the heatmap shows over the original, from 0 to 1.
    #[arg(long, value_name = "ALPHA", default_value_t = 0.5, value_parser = parse_unit, requires = "overlay")]
    pub opacity: f32,
}

#[derive(Debug, Args)]
pub struct BatchArgs {
    /// A directory of media files, or a list file: one path or URL a line,
    /// `#` starts a comment, relative paths are taken from the current
    /// directory.
    #[arg(value_name = "DIR|LIST-FILE")]
    pub source: PathBuf,

    /// The JSON-lines file the results go to, one line per input as soon as
    /// it finishes (in completion order).
    #[arg(long, short, value_name = "FILE")]
    pub out: PathBuf,

    /// Continue an earlier run: skip inputs already in --out with the same
    /// path and SHA-256 (inputs that failed with `status: error` are tried
    /// again).
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,

    /// Start over when --out already has results.
    #[arg(long)]
    pub overwrite: bool,

    /// Look into subdirectories too.
    #[arg(long, short)]
    pub recursive: bool,

    /// Inputs in flight at once (requests are paced under the published
    /// rate limits whatever this is).
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub concurrency: u16,

    #[command(flatten)]
    pub submit: SubmitArgs,

    #[command(flatten)]
    pub wait: WaitArgs,
}

fn parse_frames(s: &str) -> Result<Frames, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| "frames must be one of 5, 10, 30".to_string())?;
    Frames::try_from(n).map_err(|e| e.to_string())
}

/// Older pages spell the default `iframe`, newer ones `iframes`: both are
/// read, and `iframes` (the seed page's spelling) is what is sent.
fn parse_key_frames_method(s: &str) -> Result<KeyFramesMethod, String> {
    match s
        .trim()
        .parse()
        .map_err(|e: identifai::api::PartError| e.to_string())?
    {
        KeyFramesMethod::Iframe => Ok(KeyFramesMethod::Iframes),
        m => Ok(m),
    }
}

fn parse_identifier(s: &str) -> Result<Identifier, String> {
    Identifier::new(s.trim()).map_err(|e| e.to_string())
}

fn parse_unit(s: &str) -> Result<f32, String> {
    match s.trim().parse::<f32>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err("expected a number from 0 to 1".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn both_spellings_of_the_iframes_method_are_read_and_iframes_is_sent() {
        for s in ["iframes", "iframe", " iframe "] {
            let m = parse_key_frames_method(s).unwrap();
            assert_eq!(m, KeyFramesMethod::Iframes, "{s}");
            assert_eq!(m.to_string(), "iframes");
        }
        assert_eq!(
            parse_key_frames_method("flow").unwrap(),
            KeyFramesMethod::Flow
        );
        assert!(parse_key_frames_method("iframez").is_err());
    }
}
