//! # identifai
//!
//! A Rust client for the [identifAI](https://identifai.net) API, which tells
//! whether an image, a video or an audio was made by a human or by generative AI, with
//! heatmaps, C2PA provenance and per-model scores.
//!
//! ```no_run
//! use identifai::{Client, Source, api::forms::ImageOptions};
//!
//! # async fn demo() -> identifai::Result<()> {
//! let client = Client::from_env()?; // IDENTIFAI_API_KEY
//! let id = client
//!     .classify_image(Source::path("photo.jpg"))
//!     .options(ImageOptions::new().with_heatmap(true))
//!     .send()
//!     .await?;
//! let result = client.wait(&id).await?;
//! if let Some(verdict) = &result.verdict {
//!     println!("{}: {} ({:.0}%)", id, verdict.classification, verdict.confidence * 100.0);
//! }
//! if let Some(png) = client.heatmap(&id).await? {
//!     std::fs::write("heatmap.png", png).ok();
//! }
//! # Ok(()) }
//! ```
//!
//! ## How it is put together
//!
//! Every item has one path: the layer's items are at the crate root, the
//! generated client and its types under [`api`], and each feature has its
//! namespace.
//!
//! | path | what it is |
//! |---|---|
//! | [`api`] | the client **generated** from `openapi/identifai.yaml` (`identifai-codegen`: progenitor, plus its own generator for multipart forms): every operation ([`api::Client`]), every type ([`api::types`]), the forms' options ([`api::forms`]) |
//! | [`Client`], [`ClientBuilder`] | the hand-written layer: configuration, submissions, results, heatmaps |
//! | [`Source`], [`Classify`], [`UploadLimits`] | checked, streamed submissions from paths, bytes, readers or URLs; the media kinds ([`Kind`], generated) |
//! | [`Classified`], [`AnyResult`] | whole answers: the typed value + the server's JSON |
//! | [`Effective`], [`VerdictSource`] | the verdict to act on: an account's override wins (`effective_verdict()` on every result, frame and clip) |
//! | [`Wait`], [`WaitAll`], [`WaitConfig`] | polling until done, one or many at once |
//! | [`Error`], [`InputError`] | one error enum for everything |
//! | [`RetryConfig`], [`RateLimits`], [`Pacer`], [`BodyLimits`], [`Transport`] | retries, pacing under the published rate limits, body caps, the key and redirects |
//! | [`webhook`] | parsing webhook bodies |
//! | `mock` | (feature `mock`) a fake identifAI server for tests |
//! | `contract` | (feature `contract`) contract checks of a server against the embedded spec, for your CI |
//!
//! Everything under [`api`] is generated: when identifAI changes its API,
//! the spec is re-vendored and the client regenerates; nothing here is
//! edited by hand.
//!
//! ## What the layer adds to the generated client
//!
//! - **Accept handling**: a submission's answer is JSON or bare text
//!   depending on `Accept`; [`Identifier::from_response`] reads either, by
//!   content type, with a fallback when the content type lies. Exactly one
//!   `Accept` header is ever sent.
//! - **Waiting** with backoff and a deadline ([`Client::wait`]), and for many
//!   at once, of any kinds, through each kind's list endpoint
//!   ([`Client::wait_all`]); [`Client::result`] finds a result's kind.
//! - **Whole answers**: results keep the server's JSON beside the typed value
//!   ([`Classified::raw`]), so fields this client does not know are not lost.
//! - **Pacing** under 1 POST/s, 30 POST/min, 2 GET/s, 60 GET/min, so batch
//!   work does not meet 429s; **retries** of 429/502/503/504 and connection
//!   failures with jittered backoff honouring `Retry-After`, within a hard
//!   time budget. Consecutive 429s back off exponentially, and a breaker
//!   stops sending while the server refuses everything ([`RetryConfig`]).
//!   A POST is only retried when the server cannot have processed it.
//! - **Checks before sending**: file exists, type and size allowed,
//!   identifier safe in a path, URL is http(s). See [`error::InputError`].
//! - **Security**: the key is a secret (never in `Debug`, logs, errors or
//!   traces), is not sent to another origin on redirects, and is not sent
//!   in clear text to a non-loopback `http://` URL unless allowed.
//! - **Forward compatibility**: unknown fields are ignored, unknown enum
//!   values are kept (`Unknown(String)` variants), optional fields may be
//!   missing, and pre-1.1.0 results decode.
//!
//! ## Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `rustls` | yes | HTTPS with rustls |
//! | `native-tls` | no | HTTPS with the platform's TLS |
//! | `redis` | no | [`Pacer::redis`]: one pacer for every process on a key, in Redis |
//! | `mock` | no | `mock::MockServer`, a stateful fake identifAI on loopback for your tests, and typed httpmock helpers (`mock::httpmock`, httpmock re-exported) |
//! | `contract` | no | `identifai::contract`: checks that a server (live or the mock) answers as the embedded spec says; brings `mock` |
//! | `cli` | no | the `identifai` command-line tool (`cargo run --features cli -- --mock classify examples/media/sunset.png --heatmap`); brings `mock` |
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
pub mod api;
mod call;
mod client;
#[cfg(feature = "contract")]
#[cfg_attr(docsrs, doc(cfg(feature = "contract")))]
pub mod contract;
mod error;
mod identifier;
mod kinds;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
mod pacing;
#[cfg(feature = "redis")]
mod pacing_redis;
mod retry;
mod source;
mod submit;
mod transport;
mod wait;
pub mod webhook;

/// README.md's Rust snippets, run as doctests by `cargo test --all-features`
/// (against the built-in mock: they need the `mock` feature), from the
/// repository's root as a user's clone runs them.
#[cfg(all(doctest, feature = "mock"))]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;

/// CONFORMANCE.md's Rust snippets, run as doctests like README's.
#[cfg(all(doctest, feature = "mock"))]
#[doc = include_str!("../CONFORMANCE.md")]
pub struct ConformanceDoctests;

pub use answer::Classified;
pub use api::body::BodyLimits;
pub use api::verdict::{Effective, VerdictSource};
pub use call::{Call, CallAnswer};
pub use client::{
    Client, ClientBuilder, DEFAULT_BASE_URL, DEFAULT_IDLE_TIMEOUT, ENV_API_KEY, ENV_BASE_URL,
};
pub use error::{Error, FieldErrors, InputError, MaybeErrorBody, Result};
pub use identifier::Identifier;
pub use kinds::*;
pub use pacing::{Pacer, PacerError, RateLimits, HEADROOM, PATIENCE};
pub use retry::RetryConfig;
pub use source::{check_file, Accepts, Progress, Sent, Source};
pub use submit::{
    ApiResult, Classify, ClassifyAudio, ClassifyImage, ClassifyVideo, MediaKind, RawResult, Receipt,
};
pub use transport::{Transport, API_KEY_HEADER, MAX_REDIRECTS};
pub use wait::{is_pending, State, Wait, WaitAll, WaitConfig, LIST_BATCH};
