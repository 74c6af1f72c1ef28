//! Submitting media: [`Client::classify_image`], [`Client::classify_video`]
//! and [`Client::classify_audio`] (generated per kind from the spec).
//!
//! A submission is checked before anything is sent (see [`Source`]), sent
//! as a streamed multipart form (or by URL), and answered with an
//! [`Identifier`] whatever format the server answers in. A 429, or a
//! connection that could not be opened, is retried: a file with its body
//! rebuilt (the file reopened, at most
//! [`RetryConfig::max_upload_resends`](crate::config::RetryConfig::max_upload_resends)
//! times on 429s) under the transport's refusal policy (`transport::retry`),
//! a URL by the transport itself. Nothing that the server may have
//! processed is ever sent twice.
//!
//! ```no_run
//! use identifai::{Client, Source, api::forms::ImageOptions};
//! # async fn demo() -> identifai::Result<()> {
//! let client = Client::from_env()?;
//! let result = client
//!     .classify_image(Source::path("photo.jpg"))
//!     .options(ImageOptions::new().with_heatmap(true).ref_id("upload-42"))
//!     .wait()
//!     .await?;
//! println!("{:?}", result.verdict);
//! # Ok(()) }
//! ```

use std::marker::PhantomData;
use std::sync::Arc;

use crate::answer::Classified;
use crate::api::types::ResponseFormat;
use crate::api::{ByteStream, ResponseValue};
use crate::client::Client;
use crate::error::{Error, InputError, Result};
use crate::identifier::Identifier;
use crate::source::{prepare, Accepts, Prepared, Progress, ProgressFn, Source};

use crate::media_kind::{Image, MediaKind};

/// What the upload checks take for kind `K` on `client`.
fn accepts<K: MediaKind>(client: &Client) -> Accepts {
    Accepts {
        what: K::WHAT,
        allowed: K::CONTENT_TYPES,
        max_bytes: client.upload_limits().max_bytes(K::KIND),
        extension_fallback: K::EXTENSION_FALLBACK,
    }
}

/// A callback told of an accepted submission ([`Classify::on_accepted`]).
type AcceptedFn = Arc<dyn Fn(&Receipt) -> std::io::Result<()> + Send + Sync>;

/// An accepted submission: its identifier, and what was sent (files only,
/// from [`Classify::send_receipt`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Receipt {
    /// The classification's identifier.
    pub identifier: Identifier,
    /// The bytes the accepted attempt sent and their SHA-256; `None` for a
    /// URL, or when the server answered before the whole file went out.
    pub sent: Option<crate::source::Sent>,
}

/// A submission being built; end it with [`send`](Classify::send) (the
/// identifier) or [`wait`](Classify::wait) (the result). Built by
/// [`Client::classify_image`], [`Client::classify_video`] and
/// [`Client::classify_audio`].
///
/// A submission is checked before anything is sent (see [`Source`]), sent
/// as a streamed multipart form (or by URL), and answered with an
/// [`Identifier`] whatever format the server answers in. A 429, or a
/// connection that could not be opened, is retried (a file is reopened and
/// sent again, at most
/// [`RetryConfig::max_upload_resends`](crate::config::RetryConfig::max_upload_resends)
/// times on 429s); nothing that the server may have processed is ever sent
/// twice.
///
/// Submit with a heatmap, wait for the result, then fetch the heatmap
/// (`send()` keeps the identifier the heatmap is fetched by; `wait()` alone
/// gives only the result):
///
/// ```
/// use identifai::{Source, api::forms::ImageOptions};
/// # #[cfg(feature = "mock")]
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> identifai::Result<()> {
/// # use identifai::mock::{MockConfig, MockServer};
/// # let server = MockServer::start_with(MockConfig::default().with_time_scale(0.01));
/// # let client = server.client_builder().build()?;
/// # let photo = Source::bytes("photo.png", identifai::mock::heatmap_png());
/// // `client` talks to the built-in mock here (feature `mock`);
/// // `photo` could be `Source::path("photo.jpg")` or `Source::url(..)`.
/// let id = client
///     .classify_image(photo)
///     .options(ImageOptions::new().with_heatmap(true).ref_id("upload-42"))
///     .send()
///     .await?;
/// let result = client.wait_image(&id).await?;
/// if let Some(verdict) = &result.verdict {
///     println!("{id}: {} ({:.0}%)", verdict.classification, verdict.confidence * 100.0);
/// }
/// if let Some(png) = client.heatmap(&id).await? {
///     assert!(png.starts_with(b"\x89PNG"));
/// }
/// # Ok(()) }
/// # #[cfg(not(feature = "mock"))]
/// # fn main() {}
/// ```
#[must_use = "a submission does nothing until .send() or .wait()"]
pub struct Classify<'c, K: MediaKind> {
    client: &'c Client,
    source: Source,
    options: K::Options,
    format: ResponseFormat,
    progress: Option<ProgressFn>,
    accepted: Option<AcceptedFn>,
    kind: PhantomData<K>,
}

impl<K: MediaKind> std::fmt::Debug for Classify<'_, K> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Classify")
            .field("source", &self.source)
            .field("options", &self.options)
            .field("format", &self.format)
            .finish()
    }
}

impl<'c, K: MediaKind> Classify<'c, K> {
    pub(crate) fn new(client: &'c Client, source: Source) -> Self {
        Self {
            client,
            source,
            options: K::Options::default(),
            format: ResponseFormat::ApplicationJson,
            progress: None,
            accepted: None,
            kind: PhantomData,
        }
    }

    /// The submission's options (generated from the spec: `with_heatmap`,
    /// `frames`, `ref_id`, ...).
    pub fn options(mut self, options: K::Options) -> Self {
        self.options = options;
        self
    }

    /// The format the server is asked to answer in (`Accept`). Either gives
    /// the same [`Identifier`]; JSON is the default.
    pub fn response_format(mut self, format: ResponseFormat) -> Self {
        self.format = format;
        self
    }

    /// With [`wait`](Classify::wait): calls `f` with the [`Receipt`] the
    /// moment the server accepts the media, before the wait starts, so a
    /// pipeline can record the identifier durably (the next run then waits
    /// for it instead of paying for the upload again). An error `f` returns
    /// ends the call with it, before any wait.
    ///
    /// ```no_run
    /// # async fn demo(client: identifai::Client) -> identifai::Result<()> {
    /// use std::io::Write;
    /// let result = client
    ///     .classify_image(identifai::Source::path("photo.jpg"))
    ///     .on_accepted(|receipt| {
    ///         let mut journal = std::fs::OpenOptions::new().append(true).create(true).open("accepted.log")?;
    ///         writeln!(journal, "photo.jpg {}", receipt.identifier)?;
    ///         journal.sync_data()
    ///     })
    ///     .wait()
    ///     .await?;
    /// # let _ = result; Ok(()) }
    /// ```
    pub fn on_accepted(
        mut self,
        f: impl Fn(&Receipt) -> std::io::Result<()> + Send + Sync + 'static,
    ) -> Self {
        self.accepted = Some(Arc::new(f));
        self
    }

    /// Calls `f` as the file goes out, with the bytes sent so far.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Checks and sends the media; returns its identifier.
    pub async fn send(self) -> Result<Identifier> {
        self.submit(false).await.map(|r| r.identifier)
    }

    /// Checks and sends the media, hashing what goes out; returns its
    /// identifier and what the server got ([`Receipt`]). A file rewritten
    /// while it was being checked or sent shows as a `sent` hash other than
    /// the one taken before.
    pub async fn send_receipt(self) -> Result<Receipt> {
        self.submit(true).await
    }

    async fn submit(self, hash: bool) -> Result<Receipt> {
        let span = tracing::info_span!(
            "identifai.submit",
            kind = K::NAME,
            identifier = tracing::field::Empty
        );
        let client = self.client;
        let fut = async move {
            if self.source.is_url() && !K::BY_URL {
                return Err(InputError::InvalidSetting {
                    setting: "source",
                    reason: format!(
                        "the spec has no URL submission for {}s: send the file",
                        K::NAME
                    ),
                }
                .into());
            }
            let prepared = prepare(self.source, &accepts::<K>(client)).await?;
            let by_url = matches!(prepared, Prepared::Url(_));
            if let Some(setting) = K::options_not_taken(&self.options, by_url).first() {
                return Err(InputError::InvalidSetting {
                    setting,
                    reason: format!(
                        "{} submitted {} cannot take it (the spec's form has no such field); \
                         leave it unset",
                        K::WHAT,
                        if by_url { "by URL" } else { "as a file" }
                    ),
                }
                .into());
            }
            let mut file = match prepared {
                // A small form: the transport sends it again itself.
                Prepared::Url(url) => {
                    let answer = K::submit_url(client.api(), self.format, url, self.options).await;
                    return match answer {
                        Ok(answer) => Ok(Receipt {
                            identifier: identifier_of(answer).await?,
                            sent: None,
                        }),
                        Err(e) => Err(Error::from_api(e).await),
                    };
                }
                Prepared::File(file) => file,
            };
            if hash {
                file.hash_what_is_sent();
            }
            let can_resend = file.can_resend();
            // One run for every upload of the file (the one retry policy).
            let mut uploads = client.transport().uploads(can_resend);
            loop {
                let Some(part) = file.part(self.progress.as_ref()).await? else {
                    // A reader is never retried (can_resend is false), so this is the first use.
                    return Err(InputError::InvalidSetting {
                        setting: "source",
                        reason: "a reader can be sent only once".into(),
                    }
                    .into());
                };
                let upload = K::submit_file(
                    client.api(),
                    self.format.clone(),
                    part,
                    self.options.clone(),
                );
                let err = match uploads.attempt(upload).await {
                    Ok(answer) => {
                        let identifier = identifier_of(answer).await?;
                        return Ok(Receipt {
                            identifier,
                            sent: file.sent(),
                        });
                    }
                    Err(e) => Error::from_api(e).await,
                };
                uploads.failed(err).await?;
            }
        };
        let receipt = tracing::Instrument::instrument(fut, span.clone()).await?;
        span.record("identifier", receipt.identifier.as_str());
        Ok(receipt)
    }
}

impl<K: MediaKind> Classify<'_, K> {
    /// Sends the media and waits for its result with the client's
    /// [`WaitConfig`](crate::config::WaitConfig).
    pub async fn wait(self) -> Result<Classified<K::Output>> {
        let client = self.client;
        let accepted = self.accepted.clone();
        let receipt = self.submit(accepted.is_some()).await?;
        if let Some(f) = accepted {
            f(&receipt).map_err(|e| Error::Io {
                context: format!("recording the accepted submission {}", receipt.identifier),
                source: Arc::new(e),
            })?;
        }
        crate::wait::Wait::<K>::new(client, &receipt.identifier).await
    }
}

/// The identifier in a submission's answer (JSON or text), read through
/// the transport's capped reader.
/// A 200 without one (a proxy's HTML page, say) is an error that says the
/// upload may have been taken: sending it again may pay for it twice.
async fn identifier_of(answer: ResponseValue<ByteStream>) -> Result<Identifier> {
    crate::answer::read_whole(answer, |_, content_type, body| {
        Identifier::from_response(content_type, &body).map_err(|e| match e {
            Error::Decode {
                status,
                content_type,
                reason,
                snippet,
            } => Error::Decode {
                status,
                content_type,
                reason: format!(
                    "{reason}; the server answered the upload with success, so it may have \
                     been taken: check before sending it again"
                ),
                snippet,
            },
            other => other,
        })
    })
    .await
}

#[allow(dead_code)]
fn _assert_send(c: Classify<'static, Image>) -> impl Send {
    c.send()
}

impl From<crate::api::PartError> for Error {
    fn from(e: crate::api::PartError) -> Self {
        Error::InvalidInput(InputError::Form(e))
    }
}
