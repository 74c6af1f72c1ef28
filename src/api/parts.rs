//! File parts of multipart submissions.
//!
//! A [`FilePart`] is the file of a form (`image`, `video`): a name, an
//! optional content type and a body that is either bytes in memory or a
//! stream read while it is sent (files are never read whole into memory).
//! The generated forms turn it into a multipart part whose content type is
//! the file's own when the spec's `encoding` allows it.

use bytes::Bytes;

/// A file to send as one part of a multipart form.
///
/// ```
/// use identifai::api::FilePart;
/// let part = FilePart::bytes("cat.png", vec![0x89, b'P', b'N', b'G']).with_content_type("image/png");
/// assert_eq!(part.content_type(), Some("image/png"));
/// assert_eq!(part.len(), Some(4));
/// ```
pub struct FilePart {
    file_name: String,
    content_type: Option<String>,
    body: PartBody,
}

enum PartBody {
    Bytes(Bytes),
    Stream {
        body: reqwest::Body,
        len: Option<u64>,
    },
}

impl std::fmt::Debug for FilePart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FilePart")
            .field("file_name", &self.file_name)
            .field("content_type", &self.content_type)
            .field("len", &self.len())
            .field("streamed", &matches!(self.body, PartBody::Stream { .. }))
            .finish()
    }
}

impl FilePart {
    /// A part whose bytes are already in memory.
    pub fn bytes(file_name: impl Into<String>, bytes: impl Into<Bytes>) -> Self {
        Self {
            file_name: file_name.into(),
            content_type: None,
            body: PartBody::Bytes(bytes.into()),
        }
    }

    /// A part read from `body` while it is sent. `len`, when known, is sent
    /// as the part's length.
    pub fn stream(
        file_name: impl Into<String>,
        body: impl Into<reqwest::Body>,
        len: Option<u64>,
    ) -> Self {
        Self {
            file_name: file_name.into(),
            content_type: None,
            body: PartBody::Stream {
                body: body.into(),
                len,
            },
        }
    }

    /// Sets the file's content type (e.g. `video/mp4`).
    pub fn with_content_type(mut self, content_type: impl Into<String>) -> Self {
        self.content_type = Some(content_type.into());
        self
    }

    /// The file name sent in the part's `Content-Disposition`.
    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// The file's own content type, if known.
    pub fn content_type(&self) -> Option<&str> {
        self.content_type.as_deref()
    }

    /// The body's length in bytes, if known.
    pub fn len(&self) -> Option<u64> {
        match &self.body {
            PartBody::Bytes(b) => Some(b.len() as u64),
            PartBody::Stream { len, .. } => *len,
        }
    }

    /// True when the body is known to be empty.
    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// The multipart part for form field `field`, whose allowed content
    /// types are `allowed` (from the spec's `encoding`; `type/*` matches any
    /// subtype). The part's content type is the file's own when allowed, or
    /// the single allowed one when the file has none; anything else is an
    /// error, so a video never goes out as `application/octet-stream`.
    pub fn into_part(
        self,
        field: &'static str,
        allowed: &[&str],
    ) -> Result<reqwest::multipart::Part, PartError> {
        let content_type = match (&self.content_type, allowed) {
            (Some(own), _) if allowed.iter().any(|p| mime_matches(p, own)) => own.clone(),
            (None, [only]) if !only.contains('*') => (*only).to_string(),
            (own, _) => {
                return Err(PartError::ContentType {
                    field,
                    content_type: own.clone(),
                    allowed: allowed.join(", "),
                })
            }
        };
        let part = match self.body {
            PartBody::Bytes(b) => {
                reqwest::multipart::Part::stream_with_length(b.clone(), b.len() as u64)
            }
            PartBody::Stream {
                body,
                len: Some(len),
            } => reqwest::multipart::Part::stream_with_length(body, len),
            PartBody::Stream { body, len: None } => reqwest::multipart::Part::stream(body),
        };
        part.file_name(self.file_name)
            .mime_str(&content_type)
            .map_err(|_| PartError::ContentType {
                field,
                content_type: Some(content_type),
                allowed: allowed.join(", "),
            })
    }
}

/// A content type's essence: its type and subtype, lower-cased, without
/// parameters (`Image/PNG; q=1` is `image/png`); the one parser of the crate.
pub(crate) fn mime_essence(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether a content type says JSON: `application/json` or a `+json` type.
pub(crate) fn is_json_type(content_type: &str) -> bool {
    let essence = mime_essence(content_type);
    essence == "application/json" || essence.ends_with("+json")
}

/// Whether content type `mime` matches `pattern` (`video/*`, `image/png`,
/// `*/*`); parameters (`; charset=...`) and case are ignored.
///
/// ```
/// use identifai::api::mime_matches;
/// assert!(mime_matches("video/*", "video/mp4"));
/// assert!(mime_matches("image/png", "IMAGE/PNG; q=1"));
/// assert!(!mime_matches("video/*", "application/octet-stream"));
/// ```
pub fn mime_matches(pattern: &str, mime: &str) -> bool {
    let (pattern, mime) = (mime_essence(pattern), mime_essence(mime));
    match pattern.split_once('/') {
        Some(("*", "*")) => mime.contains('/'),
        Some((ty, "*")) => mime
            .split_once('/')
            .is_some_and(|(t, s)| t == ty && !s.is_empty()),
        _ => pattern == mime,
    }
}

/// A form that cannot be sent as the spec describes it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PartError {
    /// The file's content type is missing or not one the spec allows.
    #[error("form field `{field}`: content type {} is not allowed (allowed: {allowed})", .content_type.as_deref().unwrap_or("(none)"))]
    ContentType {
        /// The form field.
        field: &'static str,
        /// The file's content type, if it had one.
        content_type: Option<String>,
        /// The allowed content types, comma separated.
        allowed: String,
    },
    /// A value outside the set the spec allows.
    #[error("form field `{field}`: {message}")]
    InvalidValue {
        /// The form field.
        field: &'static str,
        /// What is allowed.
        message: String,
    },
}

impl<E> From<PartError> for progenitor_client::Error<E> {
    fn from(e: PartError) -> Self {
        progenitor_client::Error::InvalidRequest(e.to_string())
    }
}
