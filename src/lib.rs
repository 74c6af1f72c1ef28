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
//! let result = client.wait_image(&id).await?;
//! if let Some(verdict) = &result.verdict {
//!     println!("{}: {} ({:.0}%)", id, verdict.classification, verdict.confidence * 100.0);
//! }
//! if let Some(png) = client.heatmap(&id).await? {
//!     std::fs::write("heatmap.png", png).ok();
//! }
//! # Ok(()) }
//! ```
//!
//! ## Where to start
//!
//! - A client: [`Client::from_env`] (`IDENTIFAI_API_KEY`), [`Client::new`],
//!   or every setting with [`Client::builder`] ([`ClientBuilder`]).
//! - Submit: [`Client::classify_image`], [`Client::classify_video`],
//!   [`Client::classify_audio`] take a [`Source`] (a path, bytes, a reader
//!   or a URL) and give a [`Classify`]: `.send()` for the [`Identifier`],
//!   `.wait()` for the result.
//! - Results: [`Client::wait_image`], `wait_video`, `wait_audio` ([`Wait`],
//!   with a deadline), many at once with [`Client::wait_all`] ([`WaitAll`]);
//!   [`Client::result`] for one of any kind, [`Client::heatmap`] and [`Client::save_heatmap`] for the
//!   heatmap. Results are [`Classified`]: the typed answer plus the server's
//!   JSON ([`Classified::raw`]).
//! - Errors: one [`Error`] for everything, with an example of matching it.
//! - Any operation of the API by name: [`Call`] and [`Client::call`]; the
//!   whole generated client: [`Client::api`].
//! - Tests: the built-in fake server, [`mock`] (feature `mock`); contract
//!   checks of a server against the spec, [`contract`] (feature `contract`).
//!
//! ## How it is put together
//!
//! Every item has one path: what most programs name is at the crate root,
//! the client's settings under [`config`], the per-kind items under
//! [`kinds`], the generated client and its types under [`api`], and each
//! feature has its module.
//!
//! | path | what it is |
//! |---|---|
//! | [`api`] | the client **generated** from identifAI's API description (`openapi/identifai.yaml`): every operation ([`api::Client`]), every type ([`api::types`]), the forms' options ([`api::forms`]) |
//! | [`Client`], [`ClientBuilder`] | the hand-written layer: configuration, submissions, results, heatmaps |
//! | [`Source`], [`Classify`], [`AnyClassify`] | checked, streamed submissions from paths, bytes, readers or URLs; the media kinds ([`Kind`], generated) |
//! | [`kinds`] | per kind: the marker types (`kinds::Image`, ...) of the sealed [`kinds::MediaKind`], the submission aliases (`kinds::ClassifyImage`, ...), [`kinds::is_pending`] |
//! | [`Classified`], [`AnyResult`] | whole answers: the typed value + the server's JSON |
//! | [`Effective`], [`VerdictSource`] | the verdict to act on: an account's override wins (`effective_verdict()` on every result, frame and clip) |
//! | [`Wait`], [`WaitAll`] | polling until done, one or many at once |
//! | [`Error`], [`InputError`] | one error enum for everything |
//! | [`Call`], [`CallAnswer`] | any operation by name, its inputs given as text (what `identifai api` sends) |
//! | [`config`] | the settings, each with its default: [`config::RetryConfig`], [`config::RateLimits`], [`config::Pacer`], [`config::WaitConfig`], [`config::UploadLimits`], [`config::BodyLimits`] |
//! | [`Transport`] | what every request goes through: the key, redirects, retries, pacing, body caps |
//! | [`webhook`] | parsing webhook bodies |
//! | [`mock`] | (feature `mock`) a fake identifAI server for tests, and typed httpmock helpers |
//! | [`contract`] | (feature `contract`) contract checks of a server against the embedded spec, for your CI |
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
//! - **Waiting** with backoff and a deadline ([`Client::wait_image`]), and for many
//!   at once, of any kinds, through each kind's list endpoint
//!   ([`Client::wait_all`]); [`Client::result`] finds a result's kind.
//! - **Whole answers**: results keep the server's JSON beside the typed value
//!   ([`Classified::raw`]), so fields this client does not know are not lost.
//! - **Pacing** under 1 POST/s, 30 POST/min, 2 GET/s, 60 GET/min, so batch
//!   work does not meet 429s; **retries** of 429/502/503/504 and connection
//!   failures with jittered backoff honouring `Retry-After`, within a hard
//!   time budget. Consecutive 429s back off exponentially, and a breaker
//!   stops sending while the server refuses everything ([`config::RetryConfig`]).
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
//!
// Links to what a feature adds: to the item when the feature is on, to the
// table above when it is off (so no build has a broken link).
#![cfg_attr(feature = "mock", doc = "[`mock`]: crate::mock")]
#![cfg_attr(not(feature = "mock"), doc = "[`mock`]: #features")]
#![cfg_attr(feature = "contract", doc = "[`contract`]: crate::contract")]
#![cfg_attr(not(feature = "contract"), doc = "[`contract`]: #features")]
#![cfg_attr(
    feature = "redis",
    doc = "[`Pacer::redis`]: crate::config::Pacer::redis"
)]
#![cfg_attr(not(feature = "redis"), doc = "[`Pacer::redis`]: #features")]
#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod answer;
pub mod api;
mod call;
mod client;
pub mod config;
#[cfg(feature = "contract")]
#[cfg_attr(docsrs, doc(cfg(feature = "contract")))]
pub mod contract;
mod error;
mod identifier;
pub mod kinds;
mod media_kind;
#[cfg(feature = "mock")]
#[cfg_attr(docsrs, doc(cfg(feature = "mock")))]
pub mod mock;
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
pub use api::verdict::{Effective, VerdictSource};
pub use call::{Call, CallAnswer};
pub use client::per_kind::AnyClassify;
pub use client::{Client, ClientBuilder};
pub use error::{Error, FieldErrors, InputError, Result};
pub use identifier::Identifier;
pub use media_kind::{AnyResult, Kind};
pub use source::{Progress, Sent, Source};
pub use submit::{Classify, Receipt};
pub use transport::Transport;
pub use wait::{Wait, WaitAll};
