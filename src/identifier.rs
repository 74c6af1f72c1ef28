//! Classification identifiers, and reading them from submission answers.
//!
//! A submission answers with the identifier either as JSON
//! (`{"identifier": "..."}`, for `Accept: application/json`) or as bare
//! text (for any other `Accept`). [`Identifier::from_response`] takes
//! either, deciding by the answer's content type and falling back to the
//! other form when the content type lies (JSON labelled `text/plain`, a bare
//! identifier labelled JSON).

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, InputError};

/// The longest identifier accepted.
const MAX_LEN: usize = 256;

/// The identifier of a classification: what a submission returns and what
/// results and heatmaps are fetched by.
///
/// Only URL-safe characters (`A-Z a-z 0-9 - . _ ~`) are accepted, so an
/// identifier can never change the path it is put in.
///
/// ```
/// use identifai::Identifier;
/// let id: Identifier = "8d64370a87b820cc".parse()?;
/// assert_eq!(id.as_str(), "8d64370a87b820cc");
/// assert!("../etc/passwd".parse::<Identifier>().is_err());
/// assert!("".parse::<Identifier>().is_err());
/// # Ok::<(), identifai::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Identifier(String);

impl Identifier {
    /// Checks and wraps an identifier.
    pub fn new(identifier: impl Into<String>) -> Result<Self, Error> {
        let s = identifier.into();
        let reason = if s.is_empty() {
            Some("it is empty")
        } else if s.len() > MAX_LEN {
            Some("it is longer than 256 characters")
        } else if s
            .chars()
            .any(|c| c == '/' || c == '?' || c == '#' || c == '%')
        {
            Some("it contains '/', '?', '#' or '%'")
        } else if s.chars().any(char::is_whitespace) {
            Some("it contains white space")
        } else if !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        {
            Some("only A-Z, a-z, 0-9, '-', '.', '_' and '~' may appear in it")
        } else if s == "." || s == ".." {
            Some("it is a path segment")
        } else {
            None
        };
        match reason {
            Some(reason) => Err(InputError::InvalidIdentifier {
                identifier: s,
                reason,
            }
            .into()),
            None => Ok(Self(s)),
        }
    }

    /// The identifier as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Reads the identifier out of a submission's answer body, by its
    /// content type, with a fallback when the content type lies.
    ///
    /// ```
    /// use identifai::Identifier;
    /// let json = Identifier::from_response(Some("application/json"), br#"{"identifier":"abc123"}"#)?;
    /// let text = Identifier::from_response(Some("text/plain; charset=utf-8"), b"abc123\n")?;
    /// let lying = Identifier::from_response(Some("text/html"), br#"{"identifier":"abc123"}"#)?;
    /// assert_eq!(json, text);
    /// assert_eq!(text, lying);
    /// assert!(Identifier::from_response(Some("text/html"), b"<html>502 Bad Gateway</html>").is_err());
    /// # Ok::<(), identifai::Error>(())
    /// ```
    pub fn from_response(content_type: Option<&str>, body: &[u8]) -> Result<Self, Error> {
        let says_json = content_type.is_some_and(crate::api::is_json_type);
        let from_json = || -> Option<Result<Self, Error>> {
            #[derive(serde::Deserialize)]
            struct Body {
                identifier: String,
            }
            let parsed: Body = serde_json::from_slice(body).ok()?;
            Some(Identifier::new(parsed.identifier))
        };
        let from_text = || -> Option<Result<Self, Error>> {
            let text = std::str::from_utf8(body).ok()?.trim();
            // A JSON string literal ("abc") is a bare identifier too.
            let text = text
                .strip_prefix('"')
                .and_then(|t| t.strip_suffix('"'))
                .unwrap_or(text);
            (!text.is_empty()).then(|| Identifier::new(text))
        };
        // The content type decides which form is tried first; the other is
        // the fallback.
        let mut first_error = None;
        for json in [says_json, !says_json] {
            match if json { from_json() } else { from_text() } {
                Some(Ok(id)) => return Ok(id),
                Some(Err(e)) => {
                    first_error.get_or_insert(e);
                }
                None => {}
            }
        }
        let reason = match first_error {
            // The body is in the error's snippet already: give the reason
            // only (the whole body could be 64 KiB).
            Some(Error::InvalidInput(InputError::InvalidIdentifier { reason, .. })) => {
                format!("no valid identifier in the answer ({reason})")
            }
            Some(e) => format!("no identifier in the answer ({e})"),
            None => "no identifier in the answer".to_string(),
        };
        Err(Error::decode(Some(200), content_type, reason, body))
    }
}

impl fmt::Display for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` honours width and precision: `{:.12}` shortens.
        f.pad(&self.0)
    }
}

impl fmt::Debug for Identifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Identifier({:?})", self.0)
    }
}

impl FromStr for Identifier {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Identifier::new(s)
    }
}

impl TryFrom<String> for Identifier {
    type Error = Error;
    fn try_from(s: String) -> Result<Self, Error> {
        Identifier::new(s)
    }
}

impl TryFrom<&str> for Identifier {
    type Error = Error;
    fn try_from(s: &str) -> Result<Self, Error> {
        Identifier::new(s)
    }
}

impl From<Identifier> for String {
    fn from(id: Identifier) -> String {
        id.0
    }
}

impl AsRef<str> for Identifier {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl schemars::JsonSchema for Identifier {
    fn schema_name() -> String {
        "Identifier".into()
    }
    fn json_schema(_: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        schemars::schema::SchemaObject {
            instance_type: Some(schemars::schema::InstanceType::String.into()),
            string: Some(Box::new(schemars::schema::StringValidation {
                min_length: Some(1),
                max_length: Some(MAX_LEN as u32),
                pattern: Some("^[A-Za-z0-9._~-]+$".into()),
            })),
            ..Default::default()
        }
        .into()
    }
}
