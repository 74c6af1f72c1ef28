//! Submitting media: [`Client::classify_image`] and [`Client::classify_video`].
//!
//! A submission is checked before anything is sent (see [`Source`]), sent
//! as a streamed multipart form (or by URL), and answered with an
//! [`Identifier`] whatever format the server answers in. A 429, or a
//! connection that could not be opened, is retried with the body rebuilt
//! (files are reopened); nothing that the server may have processed is ever
//! sent twice.
//!
//! ```no_run
//! use identifai::{Client, Source, forms::ImageOptions};
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

use crate::api::types::{ErrorBody, ImageResponse, ResponseFormat, VideoResponse};
use crate::api::{forms, ByteStream, ResponseValue};
use crate::client::Client;
use crate::error::{Error, InputError, Result};
use crate::identifier::Identifier;
use crate::upload::FilePart;
use crate::upload::{prepare, Accepts, Prepared, Progress, ProgressFn, Source};

type ApiResult =
    std::result::Result<ResponseValue<ByteStream>, progenitor_client::Error<ErrorBody>>;

/// What differs between image and video submissions. Implemented by
/// [`Image`] and [`Video`]; not meant to be implemented elsewhere.
pub trait MediaKind: Send + Sync + 'static {
    /// The generated options struct.
    type Options: Clone + Default + Send + Sync + std::fmt::Debug;
    /// The result type of a classification.
    type Output;
    #[doc(hidden)]
    const NAME: &'static str;
    #[doc(hidden)]
    fn accepts(client: &Client) -> Accepts;
    #[doc(hidden)]
    fn submit_file(
        api: &crate::api::Client,
        accept: ResponseFormat,
        file: FilePart,
        options: Self::Options,
    ) -> impl std::future::Future<Output = ApiResult> + Send;
    #[doc(hidden)]
    fn submit_url(
        api: &crate::api::Client,
        accept: ResponseFormat,
        url: String,
        options: Self::Options,
    ) -> impl std::future::Future<Output = ApiResult> + Send;
}

/// Image submissions (`POST /api/classification`, `/api/image_fromurl`).
#[derive(Debug)]
pub enum Image {}

/// Video submissions (`POST /api/classification_video`, `/api/video_fromurl`).
#[derive(Debug)]
pub enum Video {}

impl MediaKind for Image {
    type Options = forms::ImageOptions;
    type Output = ImageResponse;
    const NAME: &'static str = "image";
    fn accepts(client: &Client) -> Accepts {
        Accepts {
            what: "an image",
            allowed: forms::ClassifyImageForm::IMAGE_CONTENT_TYPES,
            max_bytes: client.upload_limits().image_limit(),
            extension_fallback: false,
        }
    }
    async fn submit_file(
        api: &crate::api::Client,
        accept: ResponseFormat,
        file: FilePart,
        options: Self::Options,
    ) -> ApiResult {
        let form = forms::ClassifyImageForm::new(file).with_options(options);
        api.classify_image(Some(accept), form).await
    }
    async fn submit_url(
        api: &crate::api::Client,
        accept: ResponseFormat,
        url: String,
        options: Self::Options,
    ) -> ApiResult {
        let form = forms::ClassifyImageFromUrlForm::new(url).with_options(options);
        api.classify_image_from_url(Some(accept), form).await
    }
}

impl MediaKind for Video {
    type Options = forms::VideoOptions;
    type Output = VideoResponse;
    const NAME: &'static str = "video";
    fn accepts(client: &Client) -> Accepts {
        Accepts {
            what: "a video",
            allowed: forms::ClassifyVideoForm::VIDEO_CONTENT_TYPES,
            max_bytes: client.upload_limits().video_limit(),
            extension_fallback: true,
        }
    }
    async fn submit_file(
        api: &crate::api::Client,
        accept: ResponseFormat,
        file: FilePart,
        options: Self::Options,
    ) -> ApiResult {
        let form = forms::ClassifyVideoForm::new(file).with_options(options);
        api.classify_video(Some(accept), form).await
    }
    async fn submit_url(
        api: &crate::api::Client,
        accept: ResponseFormat,
        url: String,
        options: Self::Options,
    ) -> ApiResult {
        let form = forms::ClassifyVideoFromUrlForm::new(url).with_options(options);
        api.classify_video_from_url(Some(accept), form).await
    }
}

/// A submission being built; end it with [`send`](Classify::send) (the
/// identifier) or [`wait`](Classify::wait) (the result).
#[must_use = "a submission does nothing until .send() or .wait()"]
pub struct Classify<'c, K: MediaKind> {
    client: &'c Client,
    source: Source,
    options: K::Options,
    format: ResponseFormat,
    progress: Option<ProgressFn>,
    kind: PhantomData<K>,
}

/// An image submission.
pub type ClassifyImage<'c> = Classify<'c, Image>;
/// A video submission.
pub type ClassifyVideo<'c> = Classify<'c, Video>;

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

    /// Calls `f` as the file goes out, with the bytes sent so far.
    pub fn on_progress(mut self, f: impl Fn(Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Checks and sends the media; returns its identifier.
    pub async fn send(self) -> Result<Identifier> {
        let span = tracing::info_span!(
            "identifai.submit",
            kind = K::NAME,
            identifier = tracing::field::Empty
        );
        let client = self.client;
        let fut = async move {
            let mut prepared = prepare(self.source, &K::accepts(client)).await?;
            let mut schedule = client.transport().retry().schedule();
            loop {
                let attempt = match &mut prepared {
                    Prepared::Url(url) => {
                        K::submit_url(
                            client.api(),
                            self.format.clone(),
                            url.clone(),
                            self.options.clone(),
                        )
                        .await
                    }
                    Prepared::File(file) => match file.part(self.progress.as_ref()).await? {
                        Some(part) => {
                            K::submit_file(
                                client.api(),
                                self.format.clone(),
                                part,
                                self.options.clone(),
                            )
                            .await
                        }
                        // A reader is never retried (can_resend is false), so this is the first use.
                        None => {
                            return Err(InputError::InvalidSetting {
                                setting: "source",
                                reason: "a reader can be sent only once".into(),
                            }
                            .into())
                        }
                    },
                };
                let err = match attempt {
                    Ok(answer) => return identifier_of(answer).await,
                    Err(e) => Error::from_api(e).await,
                };
                // Retry only what the server cannot have processed.
                let retry_after = match &err {
                    Error::RateLimited { retry_after, .. } => Some(*retry_after),
                    Error::Transport(e) if e.is_connect() => Some(None),
                    // Cut before the server had it all (an early answer, a
                    // stalled upload): it cannot have been taken.
                    Error::UploadInterrupted { .. } => Some(None),
                    _ => None,
                };
                let delay = match retry_after {
                    Some(ra) if prepared.can_resend() => schedule.next_delay(ra),
                    _ => None,
                };
                let Some(delay) = delay else { return Err(err) };
                tracing::debug!(error = %err, delay_ms = delay.as_millis() as u64, "submission retried");
                tokio::time::sleep(delay).await;
            }
        };
        let id =
            crate::transport::capture(tracing::Instrument::instrument(fut, span.clone())).await?;
        span.record("identifier", id.as_str());
        Ok(id)
    }
}

impl Classify<'_, Image> {
    /// Sends the image and waits for its result with the client's
    /// [`WaitConfig`](crate::WaitConfig).
    pub async fn wait(self) -> Result<ImageResponse> {
        let client = self.client;
        let id = self.send().await?;
        client.wait(&id).await
    }
}

impl Classify<'_, Video> {
    /// Sends the video and waits for its result with the client's
    /// [`WaitConfig`](crate::WaitConfig).
    pub async fn wait(self) -> Result<VideoResponse> {
        let client = self.client;
        let id = self.send().await?;
        client.wait_video(&id).await
    }
}

/// The identifier in a submission's answer (JSON or text), read through
/// the transport's capped reader.
async fn identifier_of(answer: ResponseValue<ByteStream>) -> Result<Identifier> {
    let content_type = answer
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = crate::body::read_stream(answer.into_inner())
        .await
        .map_err(Error::transport)?;
    Identifier::from_response(content_type.as_deref(), &body)
}

#[allow(dead_code)]
fn _assert_send(c: Classify<'static, Image>) -> impl Send {
    c.send()
}

impl From<crate::upload::PartError> for Error {
    fn from(e: crate::upload::PartError) -> Self {
        Error::InvalidInput(InputError::Form(e))
    }
}
