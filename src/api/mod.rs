//! The generated client: every operation of `openapi/identifai.yaml`.
//!
//! The generated code (`include!`d below) is written at build time by
//! `identifai-codegen` (progenitor for the JSON operations, its own
//! generator for the `multipart/form-data` ones and the heatmap); nothing
//! there is written by hand. Beside it, the few hand-written pieces it is
//! allowed to use, none of which imports anything outside `api`:
//!
//! - `runtime`: [`Hooks`], the client's hooks state, which hands every
//!   request to a [`Layer`] (the crate's transport is one);
//! - `parts`: [`FilePart`] and [`PartError`], the file parts of the forms;
//! - `body`: the capped body reader, JSON decode and byte stream the
//!   generated code calls instead of progenitor's whole-body read and
//!   `ResponseValue::stream`, and [`Answer`], which refuses an answer that
//!   carries none of its type's fields;
//! - `laravel`: the serde adaptors for Laravel's `[]` empty maps;
//! - `php`: the serde adaptor for PHP's `0`/`1` booleans;
//! - `pricings`: `types::PartnerPricings::plans`, the pricing plans as one
//!   list whether the server sent a list or an object of them;
//! - `verdict`: [`crate::Effective`], what the generated `effective_verdict()`
//!   methods return (an override wins over the server's verdict).
//!
//! Use it directly for anything `identifai::Client` does not wrap:
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! let client = identifai::Client::new("my-api-key")?;
//! let raw: &identifai::api::Client = client.api();
//! let health = raw.health().await?;
//! println!("{}", health.status);
//! # Ok(()) }
//! ```

// The generated code is not held to the crate's lints; the hand-written
// modules are.
#![allow(missing_docs, clippy::all, clippy::pedantic, rustdoc::all)]

#[warn(missing_docs, clippy::all)]
pub(crate) mod body;
#[warn(missing_docs, clippy::all)]
mod laravel;
#[warn(missing_docs, clippy::all)]
mod parts;
#[warn(missing_docs, clippy::all)]
mod php;
#[warn(missing_docs, clippy::all)]
mod pricings;
#[warn(missing_docs, clippy::all)]
mod runtime;
#[warn(missing_docs, clippy::all)]
pub(crate) mod verdict;

pub use body::{decode_json, Answer};
pub use parts::{mime_matches, FilePart, PartError};
pub(crate) use runtime::undecoded;
pub use runtime::{BoxFuture, Hooks, Layer};

include!(concat!(env!("OUT_DIR"), "/identifai_api.rs"));

/// An error body with nothing in it, to fill in with struct update syntax
/// (`ErrorBody { error: Some("Unauthorized".into()), ..Default::default() }`),
/// as the httpmock helpers' error answers take one. Written by hand rather
/// than derived: a derived `Default` would make `{}` an empty answer, which
/// the generated client refuses (see [`Answer`]), and an error body of `{}`
/// is still an error to report.
impl Default for types::ErrorBody {
    fn default() -> Self {
        Self {
            error: None,
            message: None,
            extra: Default::default(),
        }
    }
}
