//! The flags several commands share: what is submitted and how (`classify`,
//! `batch`), waiting for verdicts, `--kind`, and the parsers of their values.
//! Every value is a library type: `--kind` is an `Option<identifai::Kind>`
//! (`auto` is `None`), a verdict an `api::types::Classification`.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::Args;
use identifai::api::forms::{Frames, KeyFramesMethod};
use identifai::api::types::Classification;
use identifai::{Identifier, Kind};

/// `--kind`'s values: `auto` (`None`: told from the input), then every kind
/// the spec declares, in `Kind::ALL`'s order (a kind the spec adds is one).
pub fn kind_parser() -> impl TypedValueParser<Value = Option<Kind>> {
    let auto = PossibleValue::new("auto")
        .help("Told from the content (then the extension); URLs by their extension");
    let values = std::iter::once(auto).chain(Kind::ALL.map(|k| PossibleValue::new(k.as_str())));
    PossibleValuesParser::new(values).map(|s| Kind::ALL.into_iter().find(|k| k.as_str() == s))
}

/// A verdict flag's values (as the API writes them) with their help, in
/// the order the flag lists them.
pub type Verdicts = [(&'static str, &'static str); 2];

/// `--fail-on`'s verdicts.
pub const VERDICTS: Verdicts = [
    ("artificial", "Made by generative AI"),
    ("human", "Made by a human"),
];

/// A flag taking one of `verdicts`, read as the library's `Classification`.
pub fn verdict_parser(verdicts: Verdicts) -> impl TypedValueParser<Value = Classification> {
    let values = verdicts.map(|(name, help)| PossibleValue::new(name).help(help));
    PossibleValuesParser::new(values).map(|s| Classification::from(s.as_str()))
}

/// The submission options (the API's form fields) and how inputs are sent.
#[derive(Debug, Clone, Args)]
pub struct SubmitArgs {
    /// Classify inputs as this kind instead of telling it from their type.
    #[arg(long, value_parser = kind_parser(), default_value = "auto", help_heading = "Input")]
    pub kind: ::std::option::Option<Kind>,

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
    #[arg(long, value_name = "VERDICT", value_parser = verdict_parser(VERDICTS))]
    pub fail_on: Option<Classification>,
}

pub fn parse_frames(s: &str) -> Result<Frames, String> {
    let n: i64 = s
        .trim()
        .parse()
        .map_err(|_| "frames must be one of 5, 10, 30".to_string())?;
    Frames::try_from(n).map_err(|e| e.to_string())
}

/// Older pages spell the default `iframe`, newer ones `iframes`: both are
/// read, and `iframes` (the seed page's spelling) is what is sent.
pub fn parse_key_frames_method(s: &str) -> Result<KeyFramesMethod, String> {
    match s
        .trim()
        .parse()
        .map_err(|e: identifai::api::PartError| e.to_string())?
    {
        KeyFramesMethod::Iframe => Ok(KeyFramesMethod::Iframes),
        m => Ok(m),
    }
}

pub fn parse_identifier(s: &str) -> Result<Identifier, String> {
    Identifier::new(s.trim()).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

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
