//! What every request goes through, generated operations included.
//!
//! [`Transport`] is the generated client's "inner" value, and the
//! progenitor hooks below run for every operation (progenitor's and
//! build.rs's alike):
//!
//! - **pre**: the API key goes into `X-Api-Key` (marked sensitive) for the
//!   operations whose spec `security` asks for it, and the request gets its
//!   timeout (a longer one for uploads).
//! - **exec**: pacing under the published rate limits, redirects followed by
//!   hand so the key never reaches another origin, GET retries, and one
//!   tracing span per request.
//!   Each attempt's request body is tracked and its answer's body guarded
//!   (caps, idle timeout, the key scrubbed: [`crate::api::body`]).
//! - **post**: remembers the status and headers, so a body that fails to
//!   decode is reported with them.

use std::sync::Arc;
use std::time::Duration;

use progenitor_client::OperationInfo;
use reqwest::header::{HeaderName, HeaderValue, LOCATION};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};

use crate::api;
use crate::api::body::{
    fault_of, reqwest_error, Activity, BodyFault, BodyLimits, Guarded, KeyFinder, Tracked,
};
use crate::pacing::SharedGate;
use crate::retry::RetryConfig;

/// The header that carries the API key.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// Redirects followed at most, per request.
pub const MAX_REDIRECTS: usize = 10;

/// Shared per-client state used by the request hooks. Cheap to clone; its
/// `Debug` never shows the key.
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
    retry: RetryConfig,
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
            .field("retry", &self.inner.retry)
            .field("paced", &self.inner.pacer.is_some())
            .field("request_timeout", &self.inner.request_timeout)
            .field("upload_timeout", &self.inner.upload_timeout)
            .field("settings", &self.inner.settings)
            .finish()
    }
}

impl Transport {
    /// A transport that sends `api_key` (if any) in `X-Api-Key`, with no
    /// pacing, no retries and no timeouts of its own (the default body caps
    /// of [`BodyLimits`] still apply): what the generated client gets when
    /// used bare. [`crate::ClientBuilder`] makes the full one.
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
                retry,
                pacer,
                request_timeout,
                upload_timeout,
                settings,
            }),
        }
    }

    pub(crate) fn retry(&self) -> &RetryConfig {
        &self.inner.retry
    }

    /// Sends `request`, following redirects of body-less requests by hand:
    /// the key is dropped as soon as the target's origin differs from the
    /// one it was meant for (reqwest only strips `Authorization`). Every hop
    /// waits its turn under the rate limits (when `paced`), and at most
    /// [`MAX_REDIRECTS`] are followed: the last redirect is then handed back
    /// as it is. `template` is a copy of `request` (none for a streamed
    /// body): a redirect's request is made from it, only when one comes.
    async fn send(
        &self,
        client: &reqwest::Client,
        mut request: Box<reqwest::Request>,
        template: Option<&Resend>,
        paced: bool,
        activity: &Activity,
    ) -> reqwest::Result<reqwest::Response> {
        let mut hops = 0;
        // The template of the hops after the first.
        let mut hop_template: Option<Box<Resend>> = None;
        loop {
            let pacer = self.inner.pacer.as_ref().filter(|_| paced);
            let mut ticket = None;
            if let Some(pacer) = pacer {
                match Box::pin(pacer.ready(request.method())).await {
                    Ok(t) => ticket = t,
                    Err(e) => return Err(cold_error(BodyFault::Pacer { cause: e.0 }).await),
                }
            }
            activity.touch();
            let method = pacer.map(|_| request.method().clone());
            // A hop keeps this attempt's timeout (cut to the retry budget).
            let timeout = request.timeout().copied();
            let sent = client.execute(*request).await;
            if let (Some(pacer), Some(ticket)) = (pacer, ticket) {
                // The server had the request by the time its answer came:
                // count it from then (an upper bound of when the server
                // counted it), so that a slow first connection never lets a
                // later request in early.
                Box::pin(pacer.seen(ticket, std::time::Instant::now())).await;
            }
            let response = sent?;
            activity.touch();
            let status = response.status();
            if let (Some(pacer), Some(method), StatusCode::TOO_MANY_REQUESTS) =
                (pacer, &method, status)
            {
                // The server counts differently (another process on the key?):
                // hold every request of this method, not only this one.
                Box::pin(pacer.hold(method, crate::retry::retry_after(response.headers()))).await;
            }
            let base = hop_template.as_deref().or(template);
            let (Some(base), true, true) = (base, status.is_redirection(), hops < MAX_REDIRECTS)
            else {
                return Ok(response);
            };
            let Some(target) = response
                .headers()
                .get(LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| base.url().join(l).ok())
            else {
                return Ok(response);
            };
            let Some(mut next) = base.request() else {
                return Ok(response);
            };
            hops += 1;
            if !matches!(
                status,
                StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
            ) {
                *next.method_mut() = Method::GET;
            }
            if target.origin() != next.url().origin() {
                next.headers_mut().remove(API_KEY_HEADER);
                tracing::debug!(to = %target.origin().ascii_serialization(), "cross-origin redirect: API key dropped");
            }
            *next.url_mut() = target;
            *next.timeout_mut() = timeout;
            let Some(copy) = Resend::of(&next) else {
                return Ok(response);
            };
            hop_template = Some(Box::new(copy));
            *request = next;
        }
    }

    /// One attempt: the request body tracked, the wait for an answer
    /// watched by the idle timeout, and the answer's body guarded (cap,
    /// idle timeout, key scrubbed; see [`crate::api::body`]).
    async fn attempt(
        &self,
        client: &reqwest::Client,
        mut request: Box<reqwest::Request>,
        template: Option<&Resend>,
        paced: bool,
        operation: &str,
    ) -> reqwest::Result<reqwest::Response> {
        let activity = Activity::new();
        let length = request
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let has_body = match request.body_mut().take() {
            Some(body) => {
                let body = Tracked::wrap(body, length, activity.clone());
                *request.body_mut() = Some(body);
                true
            }
            None => false,
        };
        let idle = self.inner.settings.idle_timeout;
        // One `select!` whatever the idle setting, with the send future made
        // inside it: a future bound to a local first, or made in two arms,
        // takes room twice in this future's state.
        let stalled = async {
            match idle {
                Some(idle) => activity.stalled(idle).await,
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            // The answer first: a stall is only looked at while it waits.
            biased;
            r = self.send(client, request, template, paced, &activity) => r,
            _ = stalled => {
                let idle = idle.unwrap_or_default();
                // Stalled mid-upload: the server cannot have the request.
                let fault = if has_body && !activity.finished() {
                    BodyFault::UploadCut {
                        cause: format!("no byte sent for {}s (idle timeout)", idle.as_secs_f64()),
                    }
                } else {
                    BodyFault::Idle { after: idle }
                };
                Err(cold_error(fault).await)
            }
        };
        match result {
            Ok(response) => Ok(self.guard(response, operation)),
            // A body not sent in full cannot have been taken by the server:
            // say so, so the submission can be sent again. Not sent in full:
            // not all of it was handed to the connection, or writing it
            // failed (the server closed or reset it before reading it all).
            Err(e)
                if has_body
                    && !e.is_connect()
                    && !e.is_timeout()
                    && fault_of(&e).is_none()
                    && (!activity.finished() || body_write_failed(&e)) =>
            {
                let cause = crate::error::chain(&e);
                Err(cold_error(BodyFault::UploadCut { cause }).await)
            }
            Err(e) => Err(e),
        }
    }

    /// The answer with the key scrubbed from its headers and its body
    /// wrapped in the capped, idle-watched, scrubbing reader.
    fn guard(&self, mut response: reqwest::Response, operation: &str) -> reqwest::Response {
        let key = self.inner.key_finder.as_ref();
        if let Some(key) = key {
            for value in response.headers_mut().values_mut() {
                if key.found_in(value.as_bytes()) {
                    *value = HeaderValue::from_static(crate::api::body::REDACTED);
                }
            }
        }
        let (what, cap) = self
            .inner
            .settings
            .bodies
            .cap_for(operation, response.status().as_u16());
        Guarded::wrap(response, what, cap, self.inner.settings.idle_timeout, key)
    }
}

/// What a request is sent again from, for a retry or a redirect hop.
///
/// A body-less request (every GET) is kept as its method, URL, headers,
/// version and timeout: cheaper than `reqwest::Request::try_clone`, which
/// also copies reqwest's extensions map (a map and a box per request, for
/// the timeout alone). The request is made from them only when a retry or
/// a hop happens. A request with a body that can be cloned is kept whole.
enum Resend {
    Parts {
        method: Method,
        url: reqwest::Url,
        headers: reqwest::header::HeaderMap,
        version: reqwest::Version,
        timeout: Option<Duration>,
    },
    Whole(reqwest::Request),
}

impl Resend {
    /// `None` for a body that cannot be cloned (a streamed upload).
    fn of(request: &reqwest::Request) -> Option<Resend> {
        if request.body().is_some() {
            return request.try_clone().map(Resend::Whole);
        }
        Some(Resend::Parts {
            method: request.method().clone(),
            url: request.url().clone(),
            headers: request.headers().clone(),
            version: request.version(),
            timeout: request.timeout().copied(),
        })
    }

    /// The URL the request goes to.
    fn url(&self) -> &reqwest::Url {
        match self {
            Resend::Parts { url, .. } => url,
            Resend::Whole(r) => r.url(),
        }
    }

    /// The request, made anew.
    fn request(&self) -> Option<reqwest::Request> {
        match self {
            Resend::Parts {
                method,
                url,
                headers,
                version,
                timeout,
            } => {
                let mut request = reqwest::Request::new(method.clone(), url.clone());
                *request.headers_mut() = headers.clone();
                *request.version_mut() = *version;
                if timeout.is_some() {
                    *request.timeout_mut() = *timeout;
                }
                Some(request)
            }
            Resend::Whole(r) => r.try_clone(),
        }
    }
}

/// [`reqwest_error`] for the paths requests rarely take (idle, upload cut,
/// pacer failure), boxed: its future (a whole body read) would otherwise
/// be part of every request's future, which is moved into a box per
/// request.
async fn cold_error(fault: BodyFault) -> reqwest::Error {
    Box::pin(reqwest_error(fault)).await
}

/// Whether `e` says writing the request body failed (hyper's "error writing
/// a body to connection", or a broken pipe): the server did not get it all.
fn body_write_failed(e: &reqwest::Error) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err
            .to_string()
            .starts_with("error writing a body to connection")
        {
            return true;
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::BrokenPipe {
                return true;
            }
        }
        cur = err.source();
    }
    false
}

impl api::Layer for Transport {
    fn pre(&self, request: &mut reqwest::Request, info: &OperationInfo) {
        let t = self;
        if api::API_KEY_OPERATIONS.contains(&info.operation_id) {
            if let Some(key) = &t.inner.key_header {
                request.headers_mut().insert(API_KEY_HEADER, key.clone());
            }
        }
        let timeout = if request.method() == Method::POST {
            t.inner.upload_timeout
        } else {
            t.inner.request_timeout
        };
        if let Some(timeout) = timeout {
            *request.timeout_mut() = Some(timeout);
        }
    }

    fn exec<'a>(
        &'a self,
        client: &'a reqwest::Client,
        request: reqwest::Request,
        info: &'a OperationInfo,
    ) -> api::BoxFuture<'a, reqwest::Result<reqwest::Response>> {
        let t = self;
        let span = tracing::info_span!(
            "identifai.request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
            attempts = tracing::field::Empty,
            status = tracing::field::Empty,
        );
        let paced = info.operation_id != "health";
        // Boxed, as it goes down the retry loop, the attempt and the hops:
        // each async fn keeps its own slot for a value it was handed, and
        // 264 bytes in each made this future 4 KB (a box that size is
        // past glibc's per-thread cache: its slow path on every request).
        let request = Box::new(request);
        // A disabled span (no subscriber wants it) is neither entered on
        // every poll nor recorded into (which still walks its fields, and
        // `log`'s bridge): that costs more than the rest of the layer's
        // bookkeeping. The attempts and the status are recorded on this
        // handle rather than on `Span::current()` (a dispatcher lookup).
        let span = (!span.is_disabled()).then_some(span);
        let record = span.clone();
        boxed_in_place(move || Spanned {
            span,
            fut: async move {
                // One copy, kept for a retry or a redirect (none for a streamed
                // body): the first attempt sends the request itself, and a
                // request is only made from the copy when a retry or a redirect
                // happens. Only body-less requests are retried here; POSTs are
                // retried by the layer above, which rebuilds the body.
                let template = Resend::of(&request).map(Box::new);
                let retry_get = request.method() == Method::GET && request.body().is_none();
                let mut schedule = t.retry().schedule();
                let mut first = Some(request);
                let mut attempt = 0u32;
                loop {
                    attempt += 1;
                    let this = first
                        .take()
                        .or_else(|| template.as_deref().and_then(Resend::request).map(Box::new));
                    let Some(mut this) = this else {
                        unreachable!("a request is sent again only if it can be cloned")
                    };
                    if retry_get {
                        // No attempt outlives the retry budget.
                        let left = schedule.left();
                        if !left.is_zero() {
                            let timeout = this.timeout().copied().map_or(left, |d| d.min(left));
                            *this.timeout_mut() = Some(timeout);
                        }
                    }
                    // The attempt in a box of its own (made in place): inline,
                    // it would put this future past the 1032 bytes glibc
                    // serves from its per-thread cache.
                    let template = template.as_deref();
                    let result = boxed_in_place(|| {
                        t.attempt(client, this, template, paced, info.operation_id)
                    })
                    .await;
                    let span = record.as_ref();
                    if let Some(span) = span {
                        span.record("attempts", attempt);
                    }
                    let retry_after = match &result {
                        Ok(r) => {
                            if let Some(span) = span {
                                span.record("status", r.status().as_u16());
                            }
                            crate::retry::retryable_get_status(r.status().as_u16())
                                .then(|| crate::retry::retry_after(r.headers()))
                        }
                        Err(e) => {
                            (e.is_connect() || e.is_timeout() || e.is_request()).then_some(None)
                        }
                    };
                    let (true, Some(retry_after)) = (retry_get, retry_after) else {
                        return result;
                    };
                    let limited =
                        matches!(&result, Ok(r) if r.status() == StatusCode::TOO_MANY_REQUESTS);
                    let delay = if limited {
                        schedule.next_rate_limited_delay(retry_after)
                    } else {
                        schedule.next_delay(retry_after)
                    };
                    let Some(delay) = delay else {
                        return result;
                    };
                    tracing::debug!(attempt, delay_ms = delay.as_millis() as u64, "retrying");
                    drop(result);
                    tokio::time::sleep(delay).await;
                }
            },
        })
    }
}

pin_project_lite::pin_project! {
    /// `fut`, polled inside `span` when there is one.
    struct Spanned<F> {
        span: Option<tracing::Span>,
        #[pin]
        fut: F,
    }
}

impl<F: std::future::Future> std::future::Future for Spanned<F> {
    type Output = F::Output;

    fn poll(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<F::Output> {
        let this = self.project();
        let _entered = this.span.as_ref().map(tracing::Span::enter);
        this.fut.poll(cx)
    }
}

/// Boxes the future `make` returns, made in the box's own memory:
/// `Box::pin(future)` builds a future on the stack and copies all of it
/// into the box (4 KB per request when the transport's future was that
/// size; the copy the transport's 512 and the attempt's 1,000 bytes skip).
fn boxed_in_place<'a, F>(make: impl FnOnce() -> F) -> api::BoxFuture<'a, F::Output>
where
    F: std::future::Future + Send + 'a,
{
    let slot = Box::<F>::new_uninit();
    let boxed: Box<F> = Box::write(slot, make());
    Box::into_pin(boxed)
}

impl From<Transport> for api::Hooks {
    /// The generated client's hooks running this transport.
    fn from(transport: Transport) -> Self {
        api::Hooks::new(transport)
    }
}

impl Transport {
    /// Tells the pacer of requests of `method` sent at `times`, before this
    /// client existed (see [`crate::Client::note_posts_sent`]).
    pub(crate) fn seed_pacer(&self, method: &reqwest::Method, times: &[std::time::Instant]) {
        if let Some(gate) = &self.inner.pacer {
            gate.seed(method, times);
        }
    }
}
