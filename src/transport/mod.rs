//! What every request goes through, the generated operations' included:
//! [`Transport`] is the generated client's [`Layer`](crate::api::Layer).
//!
//! - `hooks`: the key and the timeout put on each request, one tracing span
//!   per request, each attempt watched (idle, upload deadline) and its answer
//!   guarded;
//! - `redirects`: redirects followed by hand, so the key never reaches
//!   another origin;
//! - `retry`: [`RetryConfig`] and the one retry loop (429s, the breaker,
//!   the budget) of every request, GET or POST, and of an upload's re-sends;
//! - `body`: the caps, the idle timeout and the key scrubbed ([`BodyLimits`]);
//! - `pacing`: the published rate limits ([`Pacer`], [`RateLimits`]).

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::api;

pub(crate) mod body;
mod hooks;
pub(crate) mod pacing;
mod redirects;
mod resend;
pub(crate) mod retry;

pub use body::BodyLimits;
pub use pacing::{Pacer, PacerError, RateLimits};
pub use retry::RetryConfig;

use body::KeyFinder;
use pacing::{Class, SharedGate};
use retry::{Refusals, Run};

/// Shared per-client state used by the request hooks. Cheap to clone; its
/// `Debug` never shows the key.
///
/// Every request goes through it, the generated operations' included
/// ([`Client::api`](crate::Client::api)):
///
/// - the API key goes into `X-Api-Key` for the operations that need it (not
///   `health`), and the request gets its timeout (a longer one for uploads);
/// - the request waits for the [`Pacer`](crate::config::Pacer), then goes out with
///   redirects followed by hand ([`MAX_REDIRECTS`](Self::MAX_REDIRECTS)), so the key never
///   reaches another origin; 429s, 5xx and connection failures follow the
///   one policy of [`RetryConfig`](crate::config::RetryConfig) (backoff, the
///   breaker, the hard time budget);
/// - the answer's body is read under the client's caps
///   ([`BodyLimits`](crate::config::BodyLimits)) and idle timeout, with the key
///   scrubbed from it; one that fails to decode is reported with its status
///   and headers.
#[derive(Clone)]
pub struct Transport {
    inner: Arc<Inner>,
}

struct Inner {
    api_key: Option<SecretString>,
    /// `X-Api-Key`'s value, built once (marked sensitive).
    key_header: Option<HeaderValue>,
    /// The key, ready to be searched for in answers (to scrub it).
    key_finder: Option<Arc<KeyFinder>>,
    /// The retry settings and the client's breaker.
    refusals: Arc<Refusals>,
    pacer: Option<SharedGate>,
    request_timeout: Option<Duration>,
    upload_timeout: Option<Duration>,
    settings: Settings,
}

/// What the transport bounds besides timeouts per attempt: body caps and
/// the idle timeout.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Settings {
    pub(crate) bodies: BodyLimits,
    pub(crate) idle_timeout: Option<Duration>,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field(
                "api_key",
                &self.inner.api_key.as_ref().map(|_| "[REDACTED]"),
            )
            .field("retry", self.retry())
            .field("paced", &self.inner.pacer.is_some())
            .field("request_timeout", &self.inner.request_timeout)
            .field("upload_timeout", &self.inner.upload_timeout)
            .field("settings", &self.inner.settings)
            .finish()
    }
}

impl Transport {
    /// The header that carries the API key (`X-Api-Key`).
    pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

    /// Redirects followed at most, per request (10); the key is never sent
    /// to another origin.
    pub const MAX_REDIRECTS: usize = 10;

    /// A transport that sends `api_key` (if any) in `X-Api-Key`, with no
    /// pacing, no retries and no timeouts of its own (the default body caps
    /// of [`BodyLimits`] and the breaker of [`RetryConfig`] still apply):
    /// what the generated client gets when used bare.
    /// [`crate::ClientBuilder`] makes the full one.
    pub fn new(api_key: Option<SecretString>) -> Self {
        Self::with_settings(
            api_key,
            RetryConfig::disabled(),
            None,
            None,
            None,
            Settings::default(),
        )
    }

    pub(crate) fn with_settings(
        api_key: Option<SecretString>,
        retry: RetryConfig,
        pacer: Option<SharedGate>,
        request_timeout: Option<Duration>,
        upload_timeout: Option<Duration>,
        settings: Settings,
    ) -> Self {
        let key_header = api_key.as_ref().and_then(|key| {
            let mut value = HeaderValue::from_str(key.expose_secret()).ok()?;
            value.set_sensitive(true);
            Some(value)
        });
        let key_finder = api_key
            .as_ref()
            .and_then(|key| KeyFinder::new(key.expose_secret()));
        Self {
            inner: Arc::new(Inner {
                api_key,
                key_header,
                key_finder,
                refusals: Arc::new(Refusals::new(retry)),
                pacer,
                request_timeout,
                upload_timeout,
                settings,
            }),
        }
    }

    pub(crate) fn retry(&self) -> &RetryConfig {
        self.inner.refusals.config()
    }

    /// The re-sends of one upload (`can_resend`: the file can be sent again).
    pub(crate) fn uploads(&self, can_resend: bool) -> retry::Uploads {
        let run = Run::new(self.inner.refusals.clone(), Class::Post, true);
        retry::Uploads::new(Arc::new(std::sync::Mutex::new(run)), can_resend)
    }
}

impl From<Transport> for api::Hooks {
    /// The generated client's hooks running this transport.
    fn from(transport: Transport) -> Self {
        api::Hooks::new(transport)
    }
}

impl Transport {
    /// The spacing at which GETs can go on for ever under the pacer's
    /// limits (zero without a pacer).
    pub(crate) fn steady_get_spacing(&self) -> Duration {
        self.inner
            .pacer
            .as_ref()
            .map_or(Duration::ZERO, |gate| gate.steady_get_spacing())
    }

    /// Tells the pacer of requests of `method` sent at `times`, before this
    /// client existed (see [`crate::Client::note_posts_sent`]).
    pub(crate) fn seed_pacer(&self, method: &reqwest::Method, times: &[std::time::Instant]) {
        if let Some(gate) = &self.inner.pacer {
            gate.seed(method, times);
        }
    }
}
