//! The generated client: every operation of identifAI's API
//! (`openapi/identifai.yaml`), as [`Client`] methods, with its types in
//! [`types`] and the submission forms and their options in [`forms`].
//!
//! The code here is generated at build time by `identifai-codegen`
//! (progenitor for the JSON operations, its own generator for the
//! `multipart/form-data` ones and the heatmap) and is never edited by hand.
//! Beside it, the few hand-written pieces it uses:
//!
//! - [`Hooks`], the client's hooks state, which hands every request to a
//!   [`Layer`] (the crate's transport is one);
//! - [`FilePart`] and [`PartError`], the file parts of the forms;
//! - the body reader and JSON decode the generated code calls (an answer
//!   that does not decode keeps its status and headers in the error:
//!   [`Undecodable`]), and [`Answer`], which refuses an answer that carries
//!   none of its type's fields;
//! - `types::PartnerPricings::plans`, the pricing plans as one list whether
//!   the server sent a list or an object of them;
//! - [`crate::Effective`], what the generated `effective_verdict()` methods
//!   return (an override wins over the server's verdict).
//!
//! Decoding is lenient where the service is: Laravel's `[]` for an empty
//! object and PHP's `0`/`1` for booleans read as what they mean.
//!
//! Use it directly for anything `identifai::Client` does not wrap:
//!
//! ```
//! # #[cfg(feature = "mock")]
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let server = identifai::mock::MockServer::start();
//! # let client = server.client_builder().build()?;
//! // `client` is an `identifai::Client` (here for the built-in mock, feature `mock`).
//! let raw: &identifai::api::Client = client.api();
//! let health = raw.health().await?;
//! println!("{}", health.status);
//! # Ok(()) }
//! # #[cfg(not(feature = "mock"))]
//! # fn main() {}
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

pub use body::{decode_json, Answer, Undecodable};
pub(crate) use parts::{is_json_type, mime_essence};
pub use parts::{mime_matches, FilePart, PartError};
pub use runtime::{BoxFuture, Hooks, Layer};

include!(concat!(env!("OUT_DIR"), "/identifai_api.rs"));

/// The error body types of the generated operations (`ErrorBody`, or `()`
/// where the spec documents none): what [`Error::from_api`](crate::Error::from_api)
/// reads.
pub trait MaybeErrorBody {
    /// The body, if the operation has one.
    fn into_body(self) -> Option<types::ErrorBody>;
}

impl MaybeErrorBody for types::ErrorBody {
    fn into_body(self) -> Option<types::ErrorBody> {
        Some(self)
    }
}

impl MaybeErrorBody for () {
    fn into_body(self) -> Option<types::ErrorBody> {
        None
    }
}

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
