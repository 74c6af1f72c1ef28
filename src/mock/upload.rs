//! Reading and validating submissions: the multipart body is streamed part
//! by part, and uploaded files are hashed chunk by chunk, never buffered.

use axum::extract::{FromRequest, Multipart};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use super::state::{Options, Shared};
use super::wire::json_response;
use crate::Kind;

/// How far past the size limit an oversized upload is still read (and
/// discarded) so that the client can read the 400 cleanly; beyond this the
/// answer is sent at once and the connection is closed.
const DRAIN_PAST_LIMIT: u64 = 64 * 1024 * 1024;

/// Longest accepted text field, in bytes.
const MAX_TEXT_FIELD: usize = 64 * 1024;

/// Image MIME types the service accepts.
const IMAGE_TYPES: [&str; 5] = [
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "image/tiff",
];

/// Which submission route is being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// The media is uploaded in the named file part.
    File(&'static str),
    /// The media is given as `file_url`.
    Url,
}

/// What one submission route accepts.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Spec {
    pub kind: Kind,
    pub source: Source,
}

impl Spec {
    fn bool_fields(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Image => &[
                "with_morphing",
                "with_tampering",
                "with_heatmap",
                "no_cache",
                "prevent_c2pa_forces",
                "with_nsfw",
            ],
            Kind::Video => &[
                "key_frames",
                "with_tampering",
                "with_morphing",
                "with_audio",
                "no_cache",
                "prevent_c2pa_forces",
                "with_nsfw",
                "ensure_face_per_frame",
            ],
            Kind::Audio => &["no_cache", "prevent_c2pa_forces"],
            #[allow(unreachable_patterns)]
            _ => &["no_cache"],
        }
    }

    fn text_fields(&self) -> &'static [&'static str] {
        match (self.kind, self.source) {
            (Kind::Image, Source::File(_)) => &["ref_id", "webhook_url"],
            (Kind::Image, Source::Url) => &["file_url", "ref_id", "webhook_url"],
            (Kind::Video, Source::File(_)) => {
                &["ref_id", "webhook_url", "frames", "key_frames_method"]
            }
            (Kind::Video, Source::Url) => &[
                "file_url",
                "ref_id",
                "webhook_url",
                "frames",
                "key_frames_method",
            ],
            (Kind::Audio, Source::File(_)) => &["ref_id", "webhook_url"],
            (Kind::Audio, Source::Url) => &["file_url", "ref_id", "webhook_url"],
            #[allow(unreachable_patterns)]
            (_, Source::File(_)) => &["ref_id", "webhook_url"],
            #[allow(unreachable_patterns)]
            (_, Source::Url) => &["file_url", "ref_id", "webhook_url"],
        }
    }

    fn mime_allowed(&self, mime: &str) -> bool {
        match self.kind {
            Kind::Image => IMAGE_TYPES.contains(&mime),
            Kind::Video => mime.starts_with("video/") && mime.len() > "video/".len(),
            // The MIME list of the spec's `encoding` (generated).
            #[allow(unreachable_patterns)]
            kind => kind
                .content_types()
                .iter()
                .any(|p| crate::api::mime_matches(p, mime)),
        }
    }

    fn max_bytes(&self, shared: &Shared) -> u64 {
        match self.kind {
            Kind::Image => shared.config.max_image_bytes,
            Kind::Video => shared.config.max_video_bytes,
            Kind::Audio => shared.config.max_audio_bytes,
            #[allow(unreachable_patterns)]
            kind => kind.spec_max_bytes(),
        }
    }
}

/// A submission that passed validation.
#[derive(Debug)]
pub(crate) struct Accepted {
    /// What identifies the media: the file's SHA-256 hex, or the URL.
    pub source: String,
    /// SHA-256 hex of the file, or of the URL string.
    pub hash: String,
    /// The file name (or the URL's last path segment).
    pub name: String,
    pub options: Options,
}

/// The uploaded file as it was streamed.
struct Upload {
    name: Option<String>,
    mime_ok: bool,
    bytes: u64,
    hash: String,
}

/// The body of a 400 answer.
pub(crate) type Rejection = Value;

/// Turns a rejection into the 400 answer.
pub(crate) fn rejection_response(body: &Rejection) -> Response {
    json_response(StatusCode::BAD_REQUEST, body)
}

fn error(message: &str) -> Rejection {
    json!({ "error": message })
}

fn malformed() -> Rejection {
    error("The request body is not valid multipart/form-data.")
}

/// The validation attribute name of a field, as Laravel words it.
fn attribute(field: &str) -> String {
    field.replace('_', " ")
}

/// "50Mb", "5GB" and the like, as the service words its limits.
fn size_label(bytes: u64) -> String {
    const KIB: u64 = 1024;
    const MIB: u64 = KIB * 1024;
    const GIB: u64 = MIB * 1024;
    if bytes >= GIB && bytes.is_multiple_of(GIB) {
        format!("{}GB", bytes / GIB)
    } else if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{}Mb", bytes / MIB)
    } else if bytes >= KIB && bytes.is_multiple_of(KIB) {
        format!("{}Kb", bytes / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// Parses the service's boolean inputs.
fn parse_bool(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" => Some(true),
        "false" | "0" => Some(false),
        _ => None,
    }
}

/// Whether `value` is an absolute http(s) URL with a host.
pub(crate) fn is_http_url(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("http://")
        .or_else(|| lower.strip_prefix("https://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty()
                && !host.starts_with(':')
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        None => false,
    }
}

/// The last path segment of a URL (or its host).
fn url_name(url: &str) -> String {
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let path = without_scheme
        .split(['?', '#'])
        .next()
        .unwrap_or(without_scheme);
    path.rsplit('/')
        .find(|s| !s.is_empty())
        .unwrap_or(path)
        .to_string()
}

/// Reads and validates a submission. Errors are the bodies of the 400
/// answers to send.
pub(crate) async fn read_submission(
    shared: &Shared,
    spec: Spec,
    request: axum::extract::Request,
) -> Result<Accepted, Rejection> {
    let mut texts: Map<String, Value> = Map::new();
    let mut upload: Option<Upload> = None;
    let max_bytes = spec.max_bytes(shared);

    // A body that is not multipart carries no fields: validation reports
    // the missing ones, as the service does.
    if let Ok(mut multipart) = Multipart::from_request(request, &()).await {
        loop {
            let mut field = match multipart.next_field().await {
                Ok(Some(field)) => field,
                Ok(None) => break,
                Err(_) => return Err(malformed()),
            };
            let name = field.name().unwrap_or("").to_string();
            let is_file_field = matches!(spec.source, Source::File(f) if f == name);
            if is_file_field {
                let mime_ok = spec.mime_allowed(&crate::api::mime_essence(
                    field.content_type().unwrap_or(""),
                ));
                let file_name = field.file_name().map(str::to_string);
                let first = upload.is_none();
                let mut hasher = Sha256::new();
                let mut bytes: u64 = 0;
                loop {
                    let chunk = match field.chunk().await {
                        Ok(Some(chunk)) => chunk,
                        Ok(None) => break,
                        Err(_) => return Err(malformed()),
                    };
                    let len = chunk.len() as u64;
                    bytes += len;
                    shared.add_bytes(len);
                    if first && mime_ok && bytes <= max_bytes {
                        hasher.update(&chunk);
                    }
                    if bytes > max_bytes.saturating_add(DRAIN_PAST_LIMIT) {
                        return Err(too_large(max_bytes));
                    }
                }
                if first {
                    upload = Some(Upload {
                        name: file_name,
                        mime_ok,
                        bytes,
                        hash: hex::encode(hasher.finalize()),
                    });
                }
            } else if spec.text_fields().contains(&name.as_str())
                || spec.bool_fields().contains(&name.as_str())
            {
                let mut value = Vec::new();
                loop {
                    match field.chunk().await {
                        Ok(Some(chunk)) => {
                            value.extend_from_slice(&chunk);
                            if value.len() > MAX_TEXT_FIELD {
                                return Err(json!({
                                    name.clone(): [format!(
                                        "The {} field must not be greater than {} characters.",
                                        attribute(&name),
                                        MAX_TEXT_FIELD
                                    )]
                                }));
                            }
                        }
                        Ok(None) => break,
                        Err(_) => return Err(malformed()),
                    }
                }
                let Ok(value) = String::from_utf8(value) else {
                    return Err(json!({
                        name.clone(): [format!("The {} field must be a string.", attribute(&name))]
                    }));
                };
                // Like PHP, the last occurrence of a field wins; empty
                // strings count as absent.
                if value.is_empty() {
                    texts.remove(&name);
                } else {
                    texts.insert(name, Value::String(value));
                }
            }
            // Other parts are ignored: the parser reads past them.
        }
    }

    validate(spec, max_bytes, texts, upload)
}

fn too_large(max_bytes: u64) -> Rejection {
    error(&format!(
        "The uploaded file exceeds the maximum allowed size of {}.",
        size_label(max_bytes)
    ))
}

fn validate(
    spec: Spec,
    max_bytes: u64,
    texts: Map<String, Value>,
    upload: Option<Upload>,
) -> Result<Accepted, Rejection> {
    let text = |name: &str| texts.get(name).and_then(Value::as_str);
    let mut errors: Map<String, Value> = Map::new();
    let mut add = |field: &str, message: String| {
        errors.insert(field.to_string(), json!([message]));
    };

    // The media itself.
    let mut url = None;
    match spec.source {
        Source::File(field) => match &upload {
            None => add(
                field,
                format!("The {} field is required.", attribute(field)),
            ),
            Some(u) if u.name.is_none() => {
                add(
                    field,
                    format!("The {} field must be a file.", attribute(field)),
                );
            }
            Some(_) => {}
        },
        Source::Url => match text("file_url") {
            None => return Err(error("The file_url field is required.")),
            Some(u) if !is_http_url(u.trim()) => {
                return Err(error("The file_url field must be a valid URL."));
            }
            Some(u) => url = Some(u.trim().to_string()),
        },
    }

    // The options.
    let mut options = Options::default();
    for &field in spec.bool_fields() {
        let Some(raw) = text(field) else { continue };
        match parse_bool(raw) {
            Some(value) => {
                options
                    .canonical
                    .insert(field.to_string(), value.to_string());
                match field {
                    "with_heatmap" => options.with_heatmap = value,
                    "with_nsfw" => options.with_nsfw = value,
                    "with_audio" => options.with_audio = value,
                    "no_cache" => options.no_cache = value,
                    _ => {}
                }
            }
            None => add(
                field,
                format!("The {} field must be true or false.", attribute(field)),
            ),
        }
    }
    if let Some(ref_id) = text("ref_id") {
        options.ref_id = Some(ref_id.to_string());
        options
            .canonical
            .insert("ref_id".into(), ref_id.to_string());
    }
    if let Some(webhook) = text("webhook_url") {
        if is_http_url(webhook.trim()) {
            options
                .canonical
                .insert("webhook_url".into(), webhook.trim().to_string());
        } else {
            add(
                "webhook_url",
                "The webhook url field must be a valid URL.".to_string(),
            );
        }
    }
    if spec.kind == Kind::Video {
        options.frames = 5;
        if let Some(frames) = text("frames") {
            match frames.trim() {
                f @ ("5" | "10" | "30") => {
                    options.frames = f.parse().unwrap_or(5);
                    options.canonical.insert("frames".into(), f.to_string());
                }
                _ => add("frames", "The selected frames is invalid.".to_string()),
            }
        }
        if let Some(method) = text("key_frames_method") {
            match method.trim() {
                // `iframe`: the older pages' spelling of `iframes`, the same
                // method (so the same cached result).
                m @ ("iframes" | "iframe" | "flow" | "color") => {
                    let m = if m == "iframe" { "iframes" } else { m };
                    options
                        .canonical
                        .insert("key_frames_method".into(), m.to_string());
                }
                _ => add(
                    "key_frames_method",
                    "The selected key frames method is invalid.".to_string(),
                ),
            }
        }
    }
    if !errors.is_empty() {
        return Err(Value::Object(errors));
    }

    match (url, upload) {
        (Some(url), _) => {
            let hash = hex::encode(Sha256::digest(url.as_bytes()));
            Ok(Accepted {
                name: url_name(&url),
                source: url,
                hash,
                options,
            })
        }
        (None, Some(upload)) => {
            if upload.bytes > max_bytes {
                return Err(too_large(max_bytes));
            }
            if !upload.mime_ok {
                return Err(error("The uploaded file format is not supported."));
            }
            Ok(Accepted {
                source: upload.hash.clone(),
                hash: upload.hash,
                name: upload.name.unwrap_or_default(),
                options,
            })
        }
        // Unreachable: a missing file was reported above.
        (None, None) => Err(error("The request could not be validated.")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_labels_match_the_service() {
        assert_eq!(size_label(50 * 1024 * 1024), "50Mb");
        assert_eq!(size_label(5 * 1024 * 1024 * 1024), "5GB");
        assert_eq!(size_label(2048), "2Kb");
        assert_eq!(size_label(1000), "1000 bytes");
    }

    #[test]
    fn urls_and_booleans() {
        assert!(is_http_url("https://example.com/a.png"));
        assert!(is_http_url("HTTP://example.com"));
        assert!(!is_http_url("ftp://example.com/a.png"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("https://exa mple.com"));
        assert!(!is_http_url("example.com/a.png"));
        assert_eq!(url_name("https://example.com/x/fake.png?s=1"), "fake.png");
        assert_eq!(url_name("https://example.com/"), "example.com");
        assert_eq!(parse_bool("TRUE"), Some(true));
        assert_eq!(parse_bool("0"), Some(false));
        assert_eq!(parse_bool("yes"), None);
    }
}
