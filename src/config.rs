//! The client's settings, one type per concern, each given to
//! [`ClientBuilder`](crate::ClientBuilder). Every one has a `Default` that
//! is what a client built without it uses:
//!
//! | type | set with | default |
//! |---|---|---|
//! | [`RetryConfig`] | `ClientBuilder::retry` | 4 attempts; backoff 500 ms to 20 s; 2 min budget per request; 429s: 2 s doubling to 60 s, `Retry-After` honoured (60 s when unreadable), 3 re-uploads; breaker after 8 refusals in 2 min |
//! | [`RateLimits`] | `ClientBuilder::rate_limits` | [`RateLimits::PUBLISHED`]: 1 POST/s, 30 POST/min, 2 GET/s, 60 GET/min, plus [`RateLimits::HEADROOM`] (5 ms) |
//! | [`Pacer`] | `ClientBuilder::pacer` | in the process, shared by a client's clones ([`Pacer::redis`] with feature `redis`) |
//! | [`WaitConfig`] | `ClientBuilder::wait` | deadline 10 min; a poll round every 1 s, up to 15 s (×1.5) after failed rounds; [`WaitConfig::LIST_BATCH`] (100) identifiers per list request |
//! | [`UploadLimits`] | `ClientBuilder::upload_limits` | each kind's limit from the spec: 50 MB images and audio, 5 GB videos |
//! | [`BodyLimits`] | `ClientBuilder::body_limits` | answers: 16 MiB of JSON, 64 MiB of heatmap, 1 MiB of error |
//!
//! ```
//! use std::time::Duration;
//! use identifai::config::{RetryConfig, WaitConfig};
//!
//! let client = identifai::Client::builder()
//!     .api_key("key")
//!     .retry(RetryConfig::default().with_max_attempts(2))
//!     .wait(WaitConfig::default().with_deadline(Duration::from_secs(60)))
//!     .build()?;
//! # let _ = client;
//! # Ok::<(), identifai::Error>(())
//! ```
#![cfg_attr(feature = "redis", doc = "[`Pacer::redis`]: Pacer::redis")]
#![cfg_attr(not(feature = "redis"), doc = "[`Pacer::redis`]: crate#features")]

pub use crate::source::UploadLimits;
pub use crate::transport::{BodyLimits, Pacer, PacerError, RateLimits, RetryConfig};
pub use crate::wait::WaitConfig;
