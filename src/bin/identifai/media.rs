//! Inputs (files or URLs), telling images, videos and audio apart, and the submission
//! options from the flags.

use std::ffi::OsStr;
use std::io::Read;
use std::path::{Path, PathBuf};

use identifai::api::forms::{AudioOptions, ImageOptions, VideoOptions};
use identifai::{Kind, Source};

use crate::flags::SubmitArgs;

/// One thing to classify.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    /// A file on disk.
    Path(PathBuf),
    /// An http(s) URL the service downloads itself.
    Url(String),
}

impl Input {
    /// A URL when it starts with `http://` or `https://`, or with another
    /// `scheme://` and no such file exists (`htp://x/a.png` is then refused
    /// as a URL, naming its scheme, not as a missing file); a path
    /// otherwise.
    pub fn parse(raw: &OsStr) -> Input {
        match raw.to_str() {
            Some(s) if is_url(s) => Input::Url(s.trim().to_string()),
            Some(s) if has_scheme(s) && !Path::new(raw).exists() => {
                Input::Url(s.trim().to_string())
            }
            _ => Input::Path(PathBuf::from(raw)),
        }
    }

    /// How the input is shown and recorded.
    pub fn display(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Url(u) => u.clone(),
        }
    }

    /// The path, for files.
    pub fn path(&self) -> Option<&Path> {
        match self {
            Input::Path(p) => Some(p),
            Input::Url(_) => None,
        }
    }

    /// Image or video: from `--kind`, then `--content-type`, then the
    /// content's magic bytes, then the extension. Unknown: image (and the
    /// client's own checks then say what is wrong with it).
    pub fn kind(&self, args: &SubmitArgs) -> Kind {
        if let Some(kind) = args.kind {
            return kind;
        }
        if let Some(kind) = args.content_type.as_deref().and_then(kind_of_mime) {
            return kind;
        }
        match self {
            Input::Url(u) => {
                let path = url::Url::parse(u)
                    .map(|u| u.path().to_string())
                    .unwrap_or_default();
                kind_of_extension(Path::new(&path)).unwrap_or(Kind::Image)
            }
            Input::Path(p) => sniff(p)
                .or_else(|| kind_of_extension(p))
                .unwrap_or(Kind::Image),
        }
    }

    /// The library's source, with `--content-type` if given.
    pub fn source(&self, args: &SubmitArgs) -> Source {
        let source = match self {
            Input::Path(p) => Source::path(p.clone()),
            Input::Url(u) => Source::url(u.clone()),
        };
        match (&args.content_type, self) {
            (Some(ct), Input::Path(_)) => source.content_type(ct.clone()),
            _ => source,
        }
    }
}

/// Whether `s` is an http(s) URL (by its scheme).
pub fn is_url(s: &str) -> bool {
    let lower = s.trim_start().to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Whether `s` starts with a URL scheme and `://` (`ftp://`, `htp://`).
pub fn has_scheme(s: &str) -> bool {
    s.trim_start().split_once("://").is_some_and(|(scheme, _)| {
        scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

fn kind_of_mime(mime: &str) -> Option<Kind> {
    let lower = mime.trim().to_ascii_lowercase();
    if lower.starts_with("image/") {
        Some(Kind::Image)
    } else if lower.starts_with("video/") {
        Some(Kind::Video)
    } else if lower.starts_with("audio/") {
        Some(Kind::Audio)
    } else {
        // A kind the spec adds: the one whose file part takes this type.
        Kind::ALL.into_iter().find(|k| {
            k.content_types()
                .iter()
                .any(|p| identifai::api::mime_matches(p, &lower))
        })
    }
}

/// Image, video or audio by the file's extension.
pub fn kind_of_extension(path: &Path) -> Option<Kind> {
    mime_guess::from_path(path)
        .iter()
        .find_map(|m| kind_of_mime(m.essence_str()))
}

/// Image, video or audio by the file's first bytes.
pub fn sniff(path: &Path) -> Option<Kind> {
    // Only a regular file is opened: a FIFO or a device would block.
    identifai::Source::check_file(path).ok()?;
    let mut head = Vec::with_capacity(8192);
    std::fs::File::open(path)
        .ok()?
        .take(8192)
        .read_to_end(&mut head)
        .ok()?;
    infer::get(&head).and_then(|t| kind_of_mime(t.mime_type()))
}

/// Sets on options `$o` the flags of `$a` its type takes by the same
/// builder method: `[flag => method(arg)]`, `flag` a `bool` field (set
/// with `true`) or an `Option` one (set with its value). Evaluates to the
/// fields it names: the flags the kind takes.
macro_rules! set_flags {
    ($o:ident, $a:expr, bools: [$($b:ident => $bm:ident),* $(,)?], values: [$($v:ident => $vm:ident),* $(,)?]) => {{
        $( if $a.$b { $o = $o.$bm(true); } )*
        $( if let Some(x) = &$a.$v { $o = $o.$vm(x.clone()); } )*
        vec![$(stringify!($b),)* $(stringify!($v),)*]
    }};
}

/// The flags set in `a` that a kind does not take: all but those of the
/// fields `taken` (`no_cache` is `--no-cache`), in the order [`flags_set`]
/// gives.
fn not_taken(a: &SubmitArgs, taken: &[&str]) -> Vec<&'static str> {
    let field = |flag: &str| flag.trim_start_matches("--").replace('-', "_");
    flags_set(a)
        .into_iter()
        .filter(|f| !taken.contains(&field(f).as_str()))
        .collect()
}

/// The options of an image submission, and the flags that do not apply to
/// images.
pub fn image_options(a: &SubmitArgs) -> (ImageOptions, Vec<&'static str>) {
    let mut o = ImageOptions::new();
    let taken = set_flags!(o, a,
        bools: [heatmap => with_heatmap, tampering => with_tampering, morphing => with_morphing,
                nsfw => with_nsfw, no_cache => no_cache, prevent_c2pa_forces => prevent_c2pa_forces],
        values: [ref_id => ref_id, webhook_url => webhook_url]);
    (o, not_taken(a, &taken))
}

/// The options of a video submission, and the flags that do not apply to
/// videos.
pub fn video_options(a: &SubmitArgs) -> (VideoOptions, Vec<&'static str>) {
    let mut o = VideoOptions::new();
    if let Some(f) = a.frames {
        o = o.frames(f);
    }
    if a.key_frames || a.key_frames_method.is_some() {
        o = o.key_frames(true);
    }
    if let Some(m) = a.key_frames_method {
        o = o.key_frames_method(m);
    }
    let mut taken = set_flags!(o, a,
        bools: [tampering => with_tampering, morphing => with_morphing, audio => with_audio,
                nsfw => with_nsfw, ensure_face_per_frame => ensure_face_per_frame,
                no_cache => no_cache, prevent_c2pa_forces => prevent_c2pa_forces],
        values: [ref_id => ref_id, webhook_url => webhook_url]);
    taken.extend(["frames", "key_frames"]);
    (o, not_taken(a, &taken))
}

/// The options of an audio submission, and the flags that do not apply to
/// audio. The forms differ: an upload takes `--prevent-c2pa-forces`, a URL
/// (`by_url`) does not (the speech-from-URL page lists no such field).
pub fn audio_options(a: &SubmitArgs, by_url: bool) -> (AudioOptions, Vec<&'static str>) {
    let mut o = AudioOptions::new();
    let mut taken = set_flags!(o, a,
        bools: [no_cache => no_cache],
        values: [ref_id => ref_id, webhook_url => webhook_url]);
    if !by_url {
        taken.extend(
            set_flags!(o, a, bools: [prevent_c2pa_forces => prevent_c2pa_forces], values: []),
        );
    }
    (o, not_taken(a, &taken))
}

/// The submission flags set in `a`: all of them are ignored for a kind this
/// command has no options for (a kind the spec adds is sent with its
/// defaults).
pub fn flags_set(a: &SubmitArgs) -> Vec<&'static str> {
    let set = [
        (a.heatmap, "--heatmap"),
        (a.tampering, "--tampering"),
        (a.morphing, "--morphing"),
        (a.nsfw, "--nsfw"),
        (a.no_cache, "--no-cache"),
        (a.prevent_c2pa_forces, "--prevent-c2pa-forces"),
        (a.ref_id.is_some(), "--ref-id"),
        (a.webhook_url.is_some(), "--webhook-url"),
        (a.frames.is_some(), "--frames"),
        (
            a.key_frames || a.key_frames_method.is_some(),
            "--key-frames",
        ),
        (a.audio, "--audio"),
        (a.ensure_face_per_frame, "--ensure-face-per-frame"),
    ];
    set.into_iter()
        .filter_map(|(on, flag)| on.then_some(flag))
        .collect()
}

/// The SHA-256 of a file, in hex, read in chunks. Anything but a regular
/// file is refused before it is opened.
pub async fn sha256_file(path: &Path) -> std::io::Result<String> {
    use sha2::{Digest, Sha256};
    use tokio::io::AsyncReadExt;
    identifai::Source::check_file(path).map_err(std::io::Error::other)?;
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    Ok(hex::encode(hasher.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_and_paths() {
        assert_eq!(
            Input::parse(OsStr::new("https://x.test/a.mp4")),
            Input::Url("https://x.test/a.mp4".into())
        );
        assert_eq!(
            Input::parse(OsStr::new("HTTP://x.test/a")),
            Input::Url("HTTP://x.test/a".into())
        );
        assert_eq!(
            Input::parse(OsStr::new("photos/http.png")),
            Input::Path("photos/http.png".into())
        );
    }

    /// Every submission flag set.
    fn all_flags() -> SubmitArgs {
        use clap::Parser;
        #[derive(Parser)]
        struct T {
            #[command(flatten)]
            a: SubmitArgs,
        }
        let argv = [
            "t",
            "--heatmap",
            "--tampering",
            "--morphing",
            "--nsfw",
            "--frames",
            "10",
            "--key-frames",
            "--audio",
            "--ensure-face-per-frame",
            "--ref-id",
            "r",
            "--no-cache",
            "--prevent-c2pa-forces",
            "--webhook-url",
            "https://h.test/w",
        ];
        T::try_parse_from(argv).unwrap().a
    }

    #[test]
    fn each_kind_takes_its_flags_and_names_the_others() {
        let a = all_flags();
        let (image, ignored) = image_options(&a);
        assert_eq!(
            ignored,
            [
                "--frames",
                "--key-frames",
                "--audio",
                "--ensure-face-per-frame"
            ]
        );
        let want = ImageOptions::new()
            .with_heatmap(true)
            .with_tampering(true)
            .with_morphing(true)
            .with_nsfw(true)
            .no_cache(true)
            .prevent_c2pa_forces(true)
            .ref_id("r".to_string())
            .webhook_url("https://h.test/w".to_string());
        assert_eq!(image, want);
        let (video, ignored) = video_options(&a);
        assert_eq!(ignored, ["--heatmap"]);
        assert_ne!(video, VideoOptions::new());
        let (upload, ignored) = audio_options(&a, false);
        assert_eq!(
            ignored,
            [
                "--heatmap",
                "--tampering",
                "--morphing",
                "--nsfw",
                "--frames",
                "--key-frames",
                "--audio",
                "--ensure-face-per-frame"
            ]
        );
        let (by_url, ignored_by_url) = audio_options(&a, true);
        assert_eq!(ignored_by_url.len(), ignored.len() + 1);
        assert!(ignored_by_url.contains(&"--prevent-c2pa-forces"));
        assert_ne!(
            upload, by_url,
            "only the upload takes --prevent-c2pa-forces"
        );
    }

    #[test]
    fn kinds_by_extension_and_mime() {
        assert_eq!(kind_of_extension(Path::new("a.MP4")), Some(Kind::Video));
        assert_eq!(kind_of_extension(Path::new("a.webp")), Some(Kind::Image));
        assert_eq!(kind_of_extension(Path::new("a.txt")), None);
        assert_eq!(kind_of_mime("Video/QuickTime"), Some(Kind::Video));
        assert_eq!(kind_of_mime("application/pdf"), None);
    }
}
