//! One error type for everything the client does: [`Error`].

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::api::types::{ErrorBody, Status};
use crate::api::MaybeErrorBody;

mod fault;
pub(crate) mod refusals;

pub(crate) use fault::{fault_of, BodyFault};

/// The largest body snippet an error keeps.
const SNIPPET: usize = 200;

/// Everything that can go wrong.
///
/// An [`Error`] says what went wrong in terms of the API (unauthorized, rate
/// limited, validation, ...), not of HTTP plumbing. Every variant has a
/// `Display` fit for a log line or a terminal, and none of them ever holds
/// the API key. Decode errors keep the status, the content type and a short
/// snippet of the body, so a server that drifted from the spec is easy to
/// diagnose. Checks made before anything is sent fail with
/// [`Error::InvalidInput`] (see [`InputError`]).
///
/// Match the variants you act on; the enum is `#[non_exhaustive]`, so keep
/// a catch-all arm ([`Error::is_retryable`] sorts the rest):
///
/// ```
/// use identifai::Error;
///
/// fn advice(e: &Error) -> &'static str {
///     match e {
///         Error::Unauthorized { .. } => "check IDENTIFAI_API_KEY",
///         Error::RateLimited { breaker_open: true, .. } => "the key has no room: try again later",
///         Error::RateLimited { .. } => "slow down (the client paces itself by default)",
///         Error::InvalidInput(_) => "fix the input",
///         e if e.is_retryable() => "try again later",
///         _ => "see the message",
///     }
/// }
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
///
/// // Against the built-in mock (feature `mock`), with a key it does not know:
/// let server = identifai::mock::MockServer::start();
/// let client = server.client_builder().api_key("not-a-key").build()?;
/// let err = client.result(&"8d64370a87b820cc".parse()?).await.unwrap_err();
/// assert!(matches!(err, Error::Unauthorized { .. }), "{err}");
/// assert_eq!(advice(&err), "check IDENTIFAI_API_KEY");
/// assert!(err.to_string().starts_with("unauthorized (401)"));
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// 401: the API key is missing or invalid.
    #[error("unauthorized (401): the API key is missing or invalid{}", suffix(.message))]
    Unauthorized {
        /// The server's message.
        message: Option<String>,
    },
    /// 403: the account may not use the API, or has not accepted the terms of service.
    #[error("forbidden (403): this account may not use the API or has not accepted the terms of service{}", suffix(.message))]
    Forbidden {
        /// The server's message.
        message: Option<String>,
    },
    #[cfg_attr(
        feature = "redis",
        doc = "The shared pacer (e.g. Redis, [`crate::config::Pacer::redis`]) could not be"
    )]
    #[cfg_attr(
        not(feature = "redis"),
        doc = "The shared pacer (e.g. Redis, `Pacer::redis`) could not be"
    )]
    /// reached: the request was not sent.
    #[error("{message}")]
    Pacer {
        /// What went wrong, with the store's address (never a password).
        message: String,
    },
    /// 429: too many requests, after the retries allowed by
    /// [`crate::config::RetryConfig`]; or not sent at all, because the client's
    /// breaker is open (`breaker_open`: the server refused
    /// [`crate::config::RetryConfig::breaker_refusals`] requests in a row over
    /// [`crate::config::RetryConfig::breaker_window`]). [`Error::is_retryable`]:
    /// yes, after `retry_after`.
    #[error("{}", rate_limited_text(*.refusals, *.over, *.breaker_open, .retry_after, .message))]
    #[non_exhaustive]
    RateLimited {
        /// How long to wait before trying again: the server's `Retry-After`
        /// (if it named a time to come), or, when the breaker did not send
        /// the request, the time until it lets one through.
        retry_after: Option<Duration>,
        /// The server's message (`Too Many Attempts.`).
        message: Option<String>,
        /// How many 429s the request met (1 without retries); with
        /// `breaker_open`, how many requests in a row the server refused.
        refusals: u32,
        /// From the first of those 429s to the end.
        over: Duration,
        /// The breaker is open: requests of this method fail at once,
        /// unsent, until the server has room again (this one may not have
        /// been sent).
        breaker_open: bool,
    },
    /// 400: the service rejected the request (wrong parameters, media that
    /// failed validation, no credits left).
    #[error("rejected (400): {}", validation_text(.message, .fields))]
    Validation {
        /// The `error` / `message` text, if any.
        message: Option<String>,
        /// Messages per form field, e.g. `video: ["The video field is required."]`.
        fields: BTreeMap<String, Vec<String>>,
    },
    /// 422: the service's validation (Laravel's) refused the input: its
    /// summary and every field's messages ([`FieldErrors`], decoded from the
    /// spec's `ValidationErrorBody`). Not retryable: fix the named fields.
    #[error("invalid input (422): {0}")]
    Unprocessable(FieldErrors),
    /// 404: no such classification (or not yours).
    #[error("not found (404){}", suffix(.message))]
    NotFound {
        /// The server's message.
        message: Option<String>,
    },
    /// A 5xx answer, or another status the API does not document.
    #[error("server error ({status}){}", .snippet.as_deref().map(|s| format!(": {s}")).unwrap_or_default())]
    Server {
        /// The HTTP status.
        status: u16,
        /// The start of the body.
        snippet: Option<String>,
    },
    /// The classification finished with `status: errored`.
    #[error("classification {identifier} errored: {}", if .errors.is_empty() { "(the server gave no reason)" } else { .errors.as_str() })]
    ClassificationErrored {
        /// The classification.
        identifier: String,
        /// The server's `errors` text.
        errors: String,
    },
    /// The deadline passed before the classification was done.
    #[error("classification {identifier} not done after {:.1}s (last status: {})", .waited.as_secs_f64(), .last_status.as_ref().map(|s| s.to_string()).unwrap_or_else(|| "none".into()))]
    WaitTimeout {
        /// The classification.
        identifier: String,
        /// How long the wait lasted.
        waited: Duration,
        /// The last status seen, if any.
        last_status: Option<Status>,
    },
    /// Refused before anything was sent: see [`InputError`].
    #[error("invalid input: {0}")]
    InvalidInput(InputError),
    /// The request could not be sent or its answer not read (connection,
    /// timeout, TLS, ...). The message carries the whole cause chain.
    #[error("transport error: {}", chain(.0.as_ref()))]
    Transport(Arc<reqwest::Error>),
    /// The answer could not be decoded as the spec says.
    #[error("could not decode the answer (status {}, content type {}): {reason}; body starts: {snippet:?}", .status.map(|s| s.to_string()).unwrap_or_else(|| "?".into()), .content_type.as_deref().unwrap_or("none"))]
    Decode {
        /// The HTTP status, when known.
        status: Option<u16>,
        /// The `Content-Type` of the answer.
        content_type: Option<String>,
        /// Why decoding failed.
        reason: String,
        /// The start of the body.
        snippet: String,
    },
    /// An answer went past its cap ([`crate::config::BodyLimits`]): the client
    /// stopped reading there.
    #[error("answer too large (status {}): the {what} is over the {} cap (see ClientBuilder::body_limits)", .status.map(|s| s.to_string()).unwrap_or_else(|| "?".into()), size_text(*.cap))]
    AnswerTooLarge {
        /// The HTTP status, when known.
        status: Option<u16>,
        /// `answer`, `heatmap` or `error body`.
        what: &'static str,
        /// The cap, in bytes.
        cap: u64,
    },
    /// Nothing was received or sent for the idle timeout
    /// ([`crate::ClientBuilder::idle_timeout`]), while sending, waiting for
    /// the answer or reading it.
    #[error("idle timeout: no byte received or sent for {}s", .after.as_secs_f64())]
    IdleTimeout {
        /// The idle timeout.
        after: Duration,
    },
    /// The connection failed before the upload was sent in full (e.g. the
    /// server answered early and closed): the server cannot have taken it,
    /// so a submission is sent again within the retry budget.
    #[error("upload interrupted: {reason}")]
    UploadInterrupted {
        /// What the connection said.
        reason: String,
    },
    /// Reading or writing a local file failed (e.g. saving a heatmap).
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The I/O error.
        #[source]
        source: Arc<std::io::Error>,
    },
}

/// A request refused on the client side, before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// No API key was given (or `IDENTIFAI_API_KEY` is not set).
    #[error("no API key: set IDENTIFAI_API_KEY or pass one to Client::new (get one from the identifAI dashboard, user menu > API Key)")]
    MissingApiKey,
    /// The API key cannot be sent in a header (control characters, ...).
    #[error("the API key contains characters that cannot be sent in a header")]
    InvalidApiKey,
    /// The base URL is not a valid http(s) URL.
    #[error("invalid base URL {url:?}: {reason}")]
    InvalidBaseUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An `http://` base URL for a host other than loopback, without
    /// [`crate::ClientBuilder::allow_insecure_http`].
    #[error("refusing to send the API key in clear text to {url}: use https, or allow_insecure_http(true)")]
    InsecureBaseUrl {
        /// The URL given.
        url: String,
    },
    /// An identifier that is empty or has characters an identifier cannot have.
    #[error("invalid identifier {identifier:?}: {reason}")]
    InvalidIdentifier {
        /// The identifier given.
        identifier: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A media URL that is not an absolute http(s) URL.
    #[error("invalid media URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file does not exist.
    #[error("file not found: {path}")]
    FileNotFound {
        /// The path given.
        path: String,
    },
    /// The path is not a regular file (a directory, a socket, ...).
    #[error("not a regular file: {path}")]
    NotAFile {
        /// The path given.
        path: String,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Unreadable {
        /// The path given.
        path: String,
        /// The I/O error.
        reason: String,
    },
    /// The media is empty.
    #[error("{what} is empty")]
    Empty {
        /// What was empty.
        what: String,
    },
    /// The media is larger than the limit.
    #[error("{what} is {}, over the {} limit", size_text(*.size), size_text(*.max))]
    TooLarge {
        /// What was too large.
        what: String,
        /// Its size in bytes.
        size: u64,
        /// The limit in bytes ([`crate::config::UploadLimits`]).
        max: u64,
    },
    /// The media's type is unknown or not one the endpoint takes.
    #[error("{what}: content type {} is not accepted here (accepted: {allowed})", .content_type.as_deref().unwrap_or("unknown"))]
    UnsupportedType {
        /// The media.
        what: String,
        /// Its content type, when it could be told.
        content_type: Option<String>,
        /// The accepted content types.
        allowed: String,
    },
    /// A form value the spec does not allow (e.g. `frames` 7).
    #[error(transparent)]
    Form(#[from] crate::api::PartError),
    /// More identifiers than one request can carry.
    #[error("{count} identifiers given; the list endpoint takes 1 to 100")]
    IdentifierCount {
        /// How many were given.
        count: usize,
    },
    /// A builder setting out of range.
    #[error("invalid setting {setting}: {reason}")]
    InvalidSetting {
        /// The setting.
        setting: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl InputError {
    /// A stable, machine-readable name of the refusal ([`Error::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            InputError::MissingApiKey => "no_api_key",
            InputError::InvalidApiKey => "invalid_api_key",
            InputError::InvalidBaseUrl { .. } | InputError::InsecureBaseUrl { .. } => {
                "invalid_base_url"
            }
            InputError::InvalidSetting { .. } => "invalid_setting",
            InputError::InvalidIdentifier { .. } => "invalid_identifier",
            InputError::InvalidUrl { .. } => "invalid_url",
            InputError::FileNotFound { .. } => "file_not_found",
            InputError::NotAFile { .. } => "not_a_file",
            InputError::Unreadable { .. } => "unreadable",
            InputError::Empty { .. } => "empty",
            InputError::TooLarge { .. } => "too_large",
            InputError::UnsupportedType { .. } => "unsupported_type",
            InputError::Form(_) | InputError::IdentifierCount { .. } => "invalid_input",
        }
    }
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Self {
        Error::InvalidInput(e)
    }
}

/// A size in binary units: `812 bytes`, `4 KiB`, `20.5 MiB`, `5 GiB`.
pub(crate) fn size_text(n: u64) -> String {
    for (unit, name) in [(1u64 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
        if n >= unit {
            return if n.is_multiple_of(unit) {
                format!("{} {name}", n / unit)
            } else {
                format!("{:.1} {name}", n as f64 / unit as f64)
            };
        }
    }
    format!("{n} bytes")
}

/// An error and its causes, `a: b: c`, without repeats.
pub(crate) fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let text = c.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = c.source();
    }
    parts.join(": ")
}

/// For programs that print errors of their own beside this crate's (the
/// `identifai` command-line tool does).
impl Error {
    /// `e` and each cause its text does not already spell out, on one line
    /// (`a: b: c`): how this crate's errors print their causes.
    pub fn full_text(e: &(dyn std::error::Error + 'static)) -> String {
        chain(e)
    }

    /// `text` with every occurrence of `key` replaced by `[REDACTED]`, the
    /// rule the client applies to answers (a key under 6 characters is
    /// left: every match of it would be noise).
    ///
    /// ```
    /// let key = secrecy::SecretString::from("sk-live-123");
    /// let text = identifai::Error::redacted("refused sk-live-123", &key);
    /// assert_eq!(text, "refused [REDACTED]");
    /// ```
    pub fn redacted(text: &str, key: &secrecy::SecretString) -> String {
        use secrecy::ExposeSecret;
        let key = key.expose_secret();
        if key.len() < MIN_SCRUB_LEN {
            return text.to_string();
        }
        text.replace(key, REDACTED)
    }
}

/// The text that replaces the API key wherever a server sends it back (in
/// answers as they stream in, and in [`Error::redacted`]).
pub(crate) const REDACTED: &str = "[REDACTED]";

/// Keys shorter than this are not scrubbed (every `k` of a text would be).
pub(crate) const MIN_SCRUB_LEN: usize = 6;

/// A 429's message: the old one-refusal text, or how many over how long.
fn rate_limited_text(
    refusals: u32,
    over: Duration,
    breaker_open: bool,
    retry_after: &Option<Duration>,
    message: &Option<String>,
) -> String {
    let mut s = String::from("rate limited (429)");
    if breaker_open {
        s.push_str(&format!(
            ": {refusals} requests refused in a row over {:.1}s; not sending until the server has room",
            over.as_secs_f64()
        ));
    } else if refusals > 1 {
        s.push_str(&format!(
            ": refused {refusals} times over {:.1}s",
            over.as_secs_f64()
        ));
    }
    if let Some(d) = retry_after {
        s.push_str(&format!(": retry after {}s", d.as_secs_f64()));
    }
    s.push_str(&suffix(message));
    s
}

fn suffix(message: &Option<String>) -> String {
    message
        .as_deref()
        .map(|m| format!(": {m}"))
        .unwrap_or_default()
}

fn validation_text(message: &Option<String>, fields: &BTreeMap<String, Vec<String>>) -> String {
    let mut parts: Vec<String> = message.iter().cloned().collect();
    parts.extend(fields.iter().map(|(k, v)| format!("{k}: {}", v.join(" "))));
    if parts.is_empty() {
        "(no reason given)".into()
    } else {
        parts.join("; ")
    }
}

/// What the service's validation said of a request it refused (422,
/// Laravel's `{"message": ..., "errors": {"field": ["...", ...]}}`, the
/// spec's `ValidationErrorBody`): the summary and the messages of each field,
/// in the server's words (each made one line).
///
/// ```
/// # fn show(e: &identifai::Error) {
/// if let identifai::Error::Unprocessable(errors) = e {
///     for message in errors.field("email") {
///         eprintln!("email: {message}");
///     }
/// }
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldErrors {
    /// The summary (`message`), e.g. "The email field must be a valid email
    /// address. (and 1 more error)".
    pub message: Option<String>,
    /// The messages of each field that failed, by field name.
    pub fields: BTreeMap<String, Vec<String>>,
}

impl FieldErrors {
    /// The messages of field `name` (empty if it passed).
    pub fn field(&self, name: &str) -> &[String] {
        self.fields.get(name).map_or(&[], Vec::as_slice)
    }

    /// Reads a 422 body: the spec's `ValidationErrorBody` first (strict),
    /// else any reasonable error body (a message per field, no summary).
    fn from_body(body: &[u8]) -> FieldErrors {
        if let Ok(v) = serde_json::from_slice::<crate::api::types::ValidationErrorBody>(body) {
            return FieldErrors {
                message: Some(one_line(&v.message)),
                fields: v
                    .errors
                    .into_iter()
                    .map(|(k, m)| (one_line(&k), m.iter().map(|m| one_line(m)).collect()))
                    .collect(),
            };
        }
        let parsed = lenient_error_body(body);
        FieldErrors {
            message: parsed
                .as_ref()
                .and_then(|b| b.message.clone().or_else(|| b.error.clone()))
                .map(|m| one_line(&m)),
            fields: fields_of(parsed),
        }
    }
}

/// The per-field messages of an error body, each made one line.
fn fields_of(parsed: Option<ErrorBody>) -> BTreeMap<String, Vec<String>> {
    parsed
        .map(|b| {
            b.extra
                .into_iter()
                .map(|(k, v)| (one_line(&k), v.iter().map(|m| one_line(m)).collect()))
                .collect()
        })
        .unwrap_or_default()
}

impl fmt::Display for FieldErrors {
    /// The summary, then each field's messages: `summary; email: m1 m2; ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&validation_text(&self.message, &self.fields))
    }
}

impl Error {
    /// Whether trying again later may succeed (429, 5xx, transport errors).
    ///
    /// The client already retried what it safely could, within its budget
    /// ([`crate::config::RetryConfig`]). For [`Error::RateLimited`], "later" means
    /// after its `retry_after`: while the breaker is open, a request sent
    /// sooner fails the same way at once (nothing is sent, nothing is
    /// charged).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } => true,
            Error::Server { status, .. } => matches!(status, 500 | 502 | 503 | 504),
            Error::Transport(e) => e.is_connect() || e.is_timeout() || e.is_request(),
            Error::IdleTimeout { .. } | Error::UploadInterrupted { .. } => true,
            _ => false,
        }
    }

    /// A stable, machine-readable name of what went wrong, in snake case:
    /// the same for every release (new variants get new codes; a code is
    /// never reused for another meaning). The CLI prints it as `code` in
    /// `--json` output.
    ///
    /// | code | errors |
    /// |---|---|
    /// | `unauthorized` | 401 |
    /// | `forbidden` | 403 |
    /// | `no_api_key`, `invalid_api_key` | no key given; a key that cannot be sent |
    /// | `rate_limited` | 429 after the retries, or the breaker open |
    /// | `rejected` | 400 (parameters, media, credits) |
    /// | `unprocessable` | 422 (the service's field validation) |
    /// | `not_found` | 404 |
    /// | `server` | 5xx or a status the API does not document |
    /// | `errored` | the classification ended `errored` |
    /// | `timeout` | a wait's deadline, the idle timeout, a transport timeout |
    /// | `network` | connection, TLS, an upload cut short |
    /// | `decode` | an answer not as the spec says |
    /// | `answer_too_large` | an answer over its [`crate::config::BodyLimits`] cap |
    /// | `pacer` | the shared pacer (Redis) unreachable |
    /// | `io` | a local file could not be read or written |
    /// | `file_not_found`, `not_a_file`, `unreadable`, `empty` | the input file |
    /// | `too_large` | the input is over its [`crate::config::UploadLimits`] limit |
    /// | `unsupported_type` | the input's type is not one the endpoint takes |
    /// | `invalid_url` | a media URL that is not an absolute http(s) URL |
    /// | `invalid_identifier` | an identifier that cannot be one |
    /// | `invalid_base_url` | a base URL that is not http(s), or http to a host not on loopback |
    /// | `invalid_setting` | a setting out of range, an option the request cannot take |
    /// | `invalid_input` | a form value the spec does not allow, too many identifiers |
    ///
    /// ```
    /// use identifai::Error;
    /// let e = Error::NotFound { message: None };
    /// assert_eq!(e.code(), "not_found");
    /// ```
    pub fn code(&self) -> &'static str {
        match self {
            Error::Unauthorized { .. } => "unauthorized",
            Error::Forbidden { .. } => "forbidden",
            Error::Pacer { .. } => "pacer",
            Error::RateLimited { .. } => "rate_limited",
            Error::Validation { .. } => "rejected",
            Error::Unprocessable(_) => "unprocessable",
            Error::NotFound { .. } => "not_found",
            Error::Server { .. } => "server",
            Error::ClassificationErrored { .. } => "errored",
            Error::WaitTimeout { .. } | Error::IdleTimeout { .. } => "timeout",
            Error::InvalidInput(e) => e.code(),
            Error::Transport(e) if e.is_timeout() => "timeout",
            Error::Transport(_) | Error::UploadInterrupted { .. } => "network",
            Error::Decode { .. } => "decode",
            Error::AnswerTooLarge { .. } => "answer_too_large",
            Error::Io { .. } => "io",
        }
    }

    /// The HTTP status the error came with, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Unauthorized { .. } => Some(401),
            Error::Forbidden { .. } => Some(403),
            Error::RateLimited { .. } => Some(429),
            Error::Validation { .. } => Some(400),
            Error::Unprocessable(_) => Some(422),
            Error::NotFound { .. } => Some(404),
            Error::Server { status, .. } => Some(*status),
            Error::Decode { status, .. } => *status,
            Error::Transport(e) => e.status().map(|s| s.as_u16()),
            Error::AnswerTooLarge { status, .. } => *status,
            _ => None,
        }
    }

    pub(crate) fn transport(e: reqwest::Error) -> Self {
        // A limit the transport enforced gets its own variant.
        match fault_of(&e) {
            Some(BodyFault::TooLarge { what, cap, status }) => {
                return Error::AnswerTooLarge {
                    status: Some(status),
                    what,
                    cap,
                };
            }
            Some(BodyFault::Idle { after }) => return Error::IdleTimeout { after },
            Some(BodyFault::UploadCut { cause }) => {
                return Error::UploadInterrupted { reason: cause }
            }
            Some(BodyFault::Pacer { cause }) => return Error::Pacer { message: cause },
            Some(BodyFault::Refused {
                refusals,
                over,
                retry_after,
            }) => {
                return Error::RateLimited {
                    retry_after,
                    message: None,
                    refusals,
                    over,
                    breaker_open: true,
                }
            }
            // A deadline stays a transport error (`is_timeout`).
            Some(BodyFault::Deadline { .. }) | None => {}
        }
        // reqwest errors carry the URL; ours never has the key in it (the key
        // travels in a header), but strip the query anyway.
        Error::Transport(Arc::new(e.without_url()))
    }

    pub(crate) fn decode(
        status: Option<u16>,
        content_type: Option<&str>,
        reason: impl fmt::Display,
        body: &[u8],
    ) -> Self {
        Error::Decode {
            status,
            content_type: content_type.map(str::to_string),
            reason: reason.to_string(),
            snippet: snippet(body),
        }
    }

    /// An error for a response with a non-success `status` and its body.
    pub(crate) fn from_status(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        body: &[u8],
    ) -> Self {
        if status == 422 {
            return Error::Unprocessable(FieldErrors::from_body(body));
        }
        let parsed = lenient_error_body(body);
        let message = parsed
            .as_ref()
            .and_then(|b| b.error.clone().or_else(|| b.message.clone()));
        Self::from_parts(status, headers, parsed, message, body)
    }

    fn from_parts(
        status: u16,
        headers: &reqwest::header::HeaderMap,
        parsed: Option<ErrorBody>,
        message: Option<String>,
        body: &[u8],
    ) -> Self {
        // The server's words end up in a Display: one line, not too long.
        let message = message.map(|m| one_line(&m));
        match status {
            // A 422 read as the shared ErrorBody (it has its own schema, so
            // the generated code leaves it to `from_status`; kept for a spec
            // that documents it with ErrorBody).
            422 => Error::Unprocessable(FieldErrors {
                message,
                fields: fields_of(parsed),
            }),
            400 => Error::Validation {
                message,
                fields: fields_of(parsed),
            },
            401 => Error::Unauthorized { message },
            403 => Error::Forbidden { message },
            404 => Error::NotFound { message },
            429 => {
                // What the transport noted of the request's 429s, if any.
                let seen = refusals::noted(headers).unwrap_or_default();
                Error::RateLimited {
                    // Zero or a date in the past names no time to wait for.
                    retry_after: match refusals::hint(headers) {
                        refusals::Hint::After(d) => Some(d),
                        _ => None,
                    },
                    message,
                    refusals: seen.refusals.max(1),
                    over: seen.over,
                    breaker_open: seen.breaker_open,
                }
            }
            s => Error::Server {
                status: s,
                snippet: message.or_else(|| (!body.is_empty()).then(|| snippet(body))),
            },
        }
    }

    /// Maps an error of the generated client ([`crate::api`]) to this one,
    /// reading the body of an undocumented answer: for code that calls the
    /// generated client directly and wants the typed errors.
    ///
    /// ```no_run
    /// # async fn demo(client: identifai::Client) {
    /// match client.api().get_image_classification_alias("abc").await {
    ///     Ok(r) => println!("{:?}", r.into_inner().status),
    ///     Err(e) => println!("{}", identifai::Error::from_api(e).await),
    /// }
    /// # }
    /// ```
    pub async fn from_api<E: MaybeErrorBody>(err: progenitor_client::Error<E>) -> Self {
        use progenitor_client::Error as E2;
        match err {
            E2::ErrorResponse(rv) => {
                let status = rv.status().as_u16();
                let headers = rv.headers().clone();
                let parsed = rv.into_inner().into_body();
                let message = parsed
                    .as_ref()
                    .and_then(|b| b.error.clone().or_else(|| b.message.clone()));
                Self::from_parts(status, &headers, parsed, message, b"")
            }
            E2::UnexpectedResponse(resp) => {
                let status = resp.status().as_u16();
                let headers = resp.headers().clone();
                let body = match crate::api::body::read_body(resp).await {
                    Ok(b) => b,
                    Err(e) => return Error::transport(e),
                };
                if (200..300).contains(&status) || (300..400).contains(&status) {
                    let ct = headers
                        .get(reqwest::header::CONTENT_TYPE)
                        .and_then(|v| v.to_str().ok());
                    return Error::decode(
                        Some(status),
                        ct,
                        format!("status {status} is not one the spec documents here"),
                        &body,
                    );
                }
                Self::from_status(status, &headers, &body)
            }
            E2::InvalidResponsePayload(bytes, e) => {
                // The generated decoder keeps the answer's status and headers in the error.
                let (status, headers, e) = match crate::api::Undecodable::from_json_error(e) {
                    Ok(raw) => {
                        let (status, headers, cause) = raw.into_parts();
                        (Some(status.as_u16()), headers, cause)
                    }
                    Err(e) => (None, reqwest::header::HeaderMap::new(), e),
                };
                match status {
                    // An error status whose body is not the documented JSON (an
                    // empty 401, a proxy's HTML 429, Laravel's nested
                    // errors map) is still its error, with its text.
                    Some(s) if s >= 400 => Self::from_status(s, &headers, &bytes),
                    _ => {
                        let ct = headers
                            .get(reqwest::header::CONTENT_TYPE)
                            .and_then(|v| v.to_str().ok());
                        Error::decode(status, ct, e, &bytes)
                    }
                }
            }
            E2::CommunicationError(e) | E2::ResponseBodyError(e) | E2::InvalidUpgrade(e) => {
                Error::transport(e)
            }
            E2::InvalidRequest(s) | E2::Custom(s) => {
                Error::InvalidInput(InputError::InvalidSetting {
                    setting: "request",
                    reason: s,
                })
            }
        }
    }
}

/// Reads an error body of any reasonable shape: the spec's `ErrorBody`
/// (`error`, `message`, field -> messages), plus what servers send beyond
/// it: a nested `errors` map (Laravel), a single message per field, and
/// other fields (ignored).
fn lenient_error_body(body: &[u8]) -> Option<ErrorBody> {
    let serde_json::Value::Object(map) = serde_json::from_slice(body).ok()? else {
        return None;
    };
    let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
    let messages = |v: &serde_json::Value| -> Option<Vec<String>> {
        match v {
            serde_json::Value::String(s) => Some(vec![s.clone()]),
            serde_json::Value::Array(a) => {
                a.iter().map(|m| m.as_str().map(str::to_string)).collect()
            }
            _ => None,
        }
    };
    let mut out = ErrorBody {
        error: None,
        message: None,
        extra: Default::default(),
    };
    for (k, v) in &map {
        match k.as_str() {
            "error" => out.error = text(v),
            "message" => out.message = text(v),
            "errors" if v.is_object() => {
                for (field, m) in v.as_object().into_iter().flatten() {
                    if let Some(m) = messages(m) {
                        out.extra.insert(field.clone(), m);
                    }
                }
            }
            _ => {
                if let Some(m) = v.as_array().and_then(|_| messages(v)) {
                    out.extra.insert(k.clone(), m);
                }
            }
        }
    }
    Some(out)
}

/// A server's message as one line of at most [`SNIPPET`] characters.
fn one_line(text: &str) -> String {
    let mut s: String = text
        .chars()
        .take(SNIPPET)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.chars().nth(SNIPPET).is_some() {
        s.push('…');
    }
    s
}

/// The start of a body, as text, for error messages.
pub(crate) fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(SNIPPET)]);
    let mut s: String = text
        .chars()
        .filter(|c| !c.is_control() || *c == ' ')
        .collect();
    if body.len() > SNIPPET {
        s.push('…');
    }
    s
}

impl From<std::convert::Infallible> for Error {
    fn from(e: std::convert::Infallible) -> Self {
        match e {}
    }
}

/// Shorthand for `Result<T, identifai::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_printed_in_binary_units() {
        assert_eq!(size_text(812), "812 bytes");
        assert_eq!(size_text(4096), "4 KiB");
        assert_eq!(size_text(50 * 1024 * 1024), "50 MiB");
        assert_eq!(size_text(50 * 1024 * 1024 + 1), "50.0 MiB");
        assert_eq!(size_text(21 * 1024 * 1024 + 512 * 1024), "21.5 MiB");
        assert_eq!(size_text(5 << 30), "5 GiB");
    }

    #[test]
    fn every_error_has_a_snake_case_code() {
        let errors = [
            Error::NotFound { message: None },
            Error::Server {
                status: 502,
                snippet: None,
            },
            InputError::TooLarge {
                what: "x".into(),
                size: 2,
                max: 1,
            }
            .into(),
        ];
        let codes: Vec<&str> = errors.iter().map(Error::code).collect();
        assert_eq!(codes, ["not_found", "server", "too_large"]);
        assert!(codes
            .iter()
            .all(|c| c.chars().all(|c| c.is_ascii_lowercase() || c == '_')));
    }
}
