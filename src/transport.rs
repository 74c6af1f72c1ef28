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
//!   hand so the key never reaches another origin, the one refusal policy
//!   of [`crate::retry`] (429 backoff, the breaker, the hard budget) for
//!   every operation, retries of what can be sent again, and one tracing
//!   span per request. An upload's file is not sent again here: the
//!   submission loop re-opens it, with the same policy (the run it sets).
//!   Each attempt's request body is tracked and its answer's body guarded
//!   (caps, idle timeout, the key scrubbed: [`crate::api::body`]); once an
//!   upload is sent, its whole answer must come within the request timeout.
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
    answer_late, fault_of, reqwest_error, Activity, BodyFault, BodyLimits, Guarded, KeyFinder,
    Tracked,
};
use crate::pacing::{Class, SharedGate, Unready};
use crate::retry::{Refusals, RetryConfig, Run, SharedRun, Summary};

/// The header that carries the API key.
pub const API_KEY_HEADER: HeaderName = HeaderName::from_static("x-api-key");

/// Redirects followed at most, per request.
pub const MAX_REDIRECTS: usize = 10;

/// Shared per-client state used by the request hooks. Cheap to clone; its
/// `Debug` never shows the key.
///
/// Every request goes through it, the generated operations' included
/// ([`Client::api`](crate::Client::api)):
///
/// - the API key goes into `X-Api-Key` for the operations that need it (not
///   `health`), and the request gets its timeout (a longer one for uploads);
/// - the request waits for the [`Pacer`](crate::Pacer), then goes out with
///   redirects followed by hand ([`MAX_REDIRECTS`]), so the key never
///   reaches another origin; 429s, 5xx and connection failures follow the
///   one policy of [`RetryConfig`](crate::RetryConfig) (backoff, the
///   breaker, the hard time budget);
/// - the answer's body is read under the client's caps
///   ([`BodyLimits`](crate::BodyLimits)) and idle timeout, with the key
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

    /// A run for one upload, re-sent by the submission loop.
    pub(crate) fn upload_run(&self) -> SharedRun {
        let run = Run::new(self.inner.refusals.clone(), Class::Post, true);
        Arc::new(std::sync::Mutex::new(run))
    }

    /// Sends `request`, following redirects of body-less requests by hand:
    /// the key is dropped as soon as the target's origin differs from the
    /// one it was meant for (reqwest only strips `Authorization`). Every hop
    /// waits its turn under the rate limits (when `paced`), and at most
    /// [`MAX_REDIRECTS`] are followed: the last redirect is then handed back
    /// as it is. `template` is a copy of `request` (none for a streamed
    /// body): a redirect's request is made from it, only when one comes.
    /// No wait for the pacer, and no hop, outlives `limits`' deadlines.
    async fn send(
        &self,
        client: &reqwest::Client,
        mut request: Box<reqwest::Request>,
        template: Option<&Resend>,
        paced: bool,
        limits: &Limits,
        activity: &Activity,
    ) -> reqwest::Result<reqwest::Response> {
        let mut hops = 0;
        // The template of the hops after the first.
        let mut hop_template: Option<Box<Resend>> = None;
        // Every hop gets this attempt's timeout, cut to the deadline.
        let timeout = request.timeout().copied();
        loop {
            let pacer = self.inner.pacer.as_ref().filter(|_| paced);
            let mut ticket = None;
            if let Some(pacer) = pacer {
                // Time in the pacer's queue is not idle time.
                let _queued = activity.queued();
                match Box::pin(pacer.ready(request.method(), limits.wait_until)).await {
                    Ok(t) => ticket = t,
                    Err(Unready::Budget) => {
                        let what =
                            "the retry budget ran out waiting for room under the rate limits";
                        return Err(cold_error(limits.spent(what)).await);
                    }
                    Err(Unready::Pacer(e)) => {
                        return Err(cold_error(BodyFault::Pacer { cause: e.0 }).await)
                    }
                }
            }
            if let Some(until) = limits.attempt_until {
                let left = until.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    let what = "the retry budget ran out before the request could be sent";
                    return Err(cold_error(limits.spent(what)).await);
                }
                *request.timeout_mut() = Some(timeout.map_or(left, |d| d.min(left)));
            }
            activity.touch();
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
        limits: &Limits,
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
        // An upload's answer is due within the request timeout of its end
        // (the upload timeout is for sending the file).
        let answer_timeout = limits.answer_timeout.filter(|_| has_body);
        let answer_due = async {
            match answer_timeout {
                Some(after) => {
                    activity.sent().await;
                    let sent = activity
                        .finished_at()
                        .unwrap_or_else(std::time::Instant::now);
                    tokio::time::sleep_until((sent + after).into()).await
                }
                None => std::future::pending().await,
            }
        };
        let result = tokio::select! {
            // The answer first: a stall is only looked at while it waits.
            biased;
            r = self.send(client, request, template, paced, limits, &activity) => r,
            _ = answer_due => Err(cold_error(answer_late(answer_timeout.unwrap_or_default())).await),
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
            Ok(response) => {
                let due = answer_timeout.map(|after| {
                    let sent = activity
                        .finished_at()
                        .unwrap_or_else(std::time::Instant::now);
                    ((sent + after).into(), after)
                });
                Ok(self.guard(response, operation, due))
            }
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
    fn guard(
        &self,
        mut response: reqwest::Response,
        operation: &str,
        due: Option<(tokio::time::Instant, Duration)>,
    ) -> reqwest::Response {
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
        Guarded::wrap(
            response,
            what,
            cap,
            self.inner.settings.idle_timeout,
            due,
            key,
        )
    }
}

/// The deadlines of one attempt.
struct Limits {
    /// No wait for the pacer past this (the retry budget).
    wait_until: Option<std::time::Instant>,
    /// No attempt past this (the retry budget; none for an upload, whose
    /// transfer has the upload timeout).
    attempt_until: Option<std::time::Instant>,
    /// An upload's whole answer within this of its end.
    answer_timeout: Option<Duration>,
    /// The budget, for the message when it runs out.
    budget: Duration,
}

impl Limits {
    /// The fault of a budget that ran out (`what`: when).
    fn spent(&self, what: &'static str) -> BodyFault {
        BodyFault::Deadline {
            what,
            after: self.budget,
        }
    }
}

/// An answer the request was retried after, kept whole (an error body is
/// small and capped): the cause to report should a later attempt fail
/// without an answer of its own.
struct Saved {
    status: StatusCode,
    version: reqwest::Version,
    headers: reqwest::header::HeaderMap,
    url: reqwest::Url,
    body: bytes::Bytes,
}

impl Saved {
    async fn read(response: reqwest::Response) -> Box<Saved> {
        let status = response.status();
        let version = response.version();
        let headers = response.headers().clone();
        let url = response.url().clone();
        // Unreadable: the status and headers still say what it was.
        let body = response.bytes().await.unwrap_or_default();
        Box::new(Saved {
            status,
            version,
            headers,
            url,
            body,
        })
    }

    /// The answer again, with the request's 429s noted on it.
    fn into_response(self, summary: Option<Summary>) -> reqwest::Response {
        use reqwest::ResponseBuilderExt as _;
        let mut builder = http::Response::builder()
            .status(self.status)
            .version(self.version)
            .url(self.url);
        if let Some(headers) = builder.headers_mut() {
            *headers = self.headers;
            if let Some(summary) = summary {
                crate::retry::note(headers, summary);
            }
        }
        match builder.body(reqwest::Body::from(self.body)) {
            Ok(r) => reqwest::Response::from(r),
            Err(_) => unreachable!("a status, version and headers taken from an answer are valid"),
        }
    }
}

/// The largest body of a request that is not an upload read into memory
/// so that it can be sent again (a submission by URL, a partner call: a
/// multipart form of a few fields).
const RESEND_BUFFER: u64 = 64 * 1024;

/// Whether `request` has a small streamed body (`Content-Length` at most
/// [`RESEND_BUFFER`]) to read into memory, so that it can be cloned.
fn needs_buffer(request: &reqwest::Request) -> bool {
    let streamed = request.body().is_some_and(|b| b.as_bytes().is_none());
    streamed
        && request
            .headers()
            .get(reqwest::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .is_some_and(|n| n <= RESEND_BUFFER)
}

/// Reads the request's streamed body into memory (see [`needs_buffer`]).
async fn buffer_body(request: &mut reqwest::Request) {
    let Some(body) = request.body_mut().take() else {
        return;
    };
    let mut body = std::pin::pin!(body);
    let mut bytes = bytes::BytesMut::new();
    while let Some(frame) =
        std::future::poll_fn(|cx| http_body::Body::poll_frame(body.as_mut(), cx)).await
    {
        match frame {
            Ok(frame) => {
                if let Ok(data) = frame.into_data() {
                    bytes.extend_from_slice(&data);
                }
            }
            // A form made in memory does not fail; should one, the request
            // goes out with what was read and fails on its length.
            Err(_) => break,
        }
    }
    *request.body_mut() = Some(reqwest::Body::from(bytes.freeze()));
}

/// Whether `operation` uploads a file (spec role `submit`).
fn is_upload(operation: &str) -> bool {
    api::Operation::named(operation).is_some_and(|op| op.role == Some("submit"))
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
        // The upload timeout for sending a file; everything else (an
        // override, a submission by URL) answers within the request timeout.
        let timeout = if request.method() == Method::POST && is_upload(info.operation_id) {
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
            fut: t.run(client, request, info.operation_id, record),
        })
    }
}

impl Transport {
    /// A request under the refusal policy: the breaker asked first, each
    /// 429 counted and waited out (every request of its method held as
    /// long), what can be sent again retried within the budget, and, when
    /// the retries end without an answer, the last answer retried after
    /// returned as the cause.
    async fn run(
        &self,
        client: &reqwest::Client,
        mut request: Box<reqwest::Request>,
        operation: &'static str,
        record: Option<tracing::Span>,
    ) -> reqwest::Result<reqwest::Response> {
        let t = self;
        let start = std::time::Instant::now();
        // `health` is neither rate limited nor paced.
        let paced = operation != "health";
        let method = request.method().clone();
        let class = Class::of(&method);
        let upload = request.body().is_some() && is_upload(operation);
        // An upload's run is the submission loop's (it re-sends the file).
        let outer = upload.then(crate::retry::current_upload).flatten();
        if !upload && needs_buffer(&request) {
            // Boxed: a cold path, kept out of every request's future.
            Box::pin(buffer_body(&mut request)).await;
        }
        // One copy, kept for a retry or a redirect (none for a streamed
        // body): the first attempt sends the request itself, and a request
        // is only made from the copy when a retry or a redirect happens.
        let template = Resend::of(&request).map(Box::new);
        let resendable = template.is_some() && !upload;
        let get = method == Method::GET;
        let budget = t.retry().max_elapsed();
        // This request's run, made at its first retry or 429 (most have none).
        let mut own: Option<Box<Run>> = None;
        let mut saved: Option<Box<Saved>> = None;
        let mut first = Some(request);
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let deadline = match (&outer, &own) {
                (Some(run), _) => crate::retry::lock(run).deadline(),
                (None, Some(run)) => run.deadline(),
                (None, None) => start
                    .checked_add(budget)
                    .unwrap_or_else(|| start + Duration::from_secs(86_400 * 365)),
            };
            // While the breaker is open, nothing is sent.
            let probe = if paced {
                match t.inner.refusals.admit(class) {
                    Ok(probe) => probe,
                    Err(tripped) => {
                        if let Some(saved) = saved {
                            let summary = own.as_ref().map(|r| r.summary());
                            return Ok(saved.into_response(summary));
                        }
                        let fault = BodyFault::Refused {
                            refusals: tripped.refusals,
                            over: tripped.over,
                            retry_after: tripped.retry_after,
                        };
                        return Err(cold_error(fault).await);
                    }
                }
            } else {
                None
            };
            let this = first
                .take()
                .or_else(|| template.as_deref().and_then(Resend::request).map(Box::new));
            let Some(this) = this else {
                unreachable!("a request is sent again only if it can be cloned")
            };
            let limits = Limits {
                wait_until: Some(deadline),
                attempt_until: (!upload).then_some(deadline),
                answer_timeout: t.inner.request_timeout.filter(|_| upload),
                budget,
            };
            let sent_at = std::time::Instant::now();
            // The attempt in a box of its own (made in place): inline, it
            // would put this future past the 1032 bytes glibc serves from
            // its per-thread cache.
            let template_ref = template.as_deref();
            let result =
                boxed_in_place(|| t.attempt(client, this, template_ref, paced, operation, &limits))
                    .await;
            if let Some(run) = &outer {
                crate::retry::lock(run).add_transfer(sent_at.elapsed());
            }
            let span = record.as_ref();
            if let Some(span) = span {
                span.record("attempts", attempt);
                if let Ok(r) = &result {
                    span.record("status", r.status().as_u16());
                }
            }
            let run = |own: &mut Option<Box<Run>>| -> Box<Run> {
                own.take().unwrap_or_else(|| {
                    let mut run = Run::new(t.inner.refusals.clone(), class, false);
                    run.started(start);
                    Box::new(run)
                })
            };
            match result {
                Ok(mut response) if paced && response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    drop(probe);
                    let hint = crate::retry::hint(response.headers());
                    let (refusal, summary) = match &outer {
                        Some(shared) => {
                            let mut r = crate::retry::lock(shared);
                            (r.refused(hint), r.summary())
                        }
                        None => {
                            let mut r = run(&mut own);
                            let refusal = r.refused(hint);
                            let summary = r.summary();
                            own = Some(r);
                            (refusal, summary)
                        }
                    };
                    if let Some(pacer) = t.inner.pacer.as_ref() {
                        // The key has no room: hold every request of this
                        // method as long (other processes too, with Redis).
                        Box::pin(pacer.hold(&method, Some(refusal.wait))).await;
                    }
                    if refusal.retry && resendable {
                        tracing::debug!(
                            attempt,
                            delay_ms = refusal.wait.as_millis() as u64,
                            "429: sent again after the wait"
                        );
                        saved = Some(Box::pin(Saved::read(response)).await);
                        tokio::time::sleep(refusal.wait).await;
                        continue;
                    }
                    crate::retry::note(response.headers_mut(), summary);
                    return Ok(response);
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    if paced && status < 500 {
                        t.inner.refusals.answered(class);
                    }
                    drop(probe);
                    if resendable && get && crate::retry::retryable_get_status(status) {
                        let retry_after = crate::retry::retry_after(response.headers());
                        let mut r = run(&mut own);
                        let delay = r.next_delay(retry_after);
                        own = Some(r);
                        if let Some(delay) = delay {
                            tracing::debug!(
                                attempt,
                                status,
                                delay_ms = delay.as_millis() as u64,
                                "retrying"
                            );
                            saved = Some(Box::pin(Saved::read(response)).await);
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                    }
                    return Ok(response);
                }
                Err(e) => {
                    drop(probe);
                    // Sent again only if it cannot have been processed: a
                    // GET whatever the failure, any other request only if
                    // nothing (or not all of it) went out.
                    let again = resendable
                        && if get {
                            e.is_connect() || e.is_timeout() || e.is_request()
                        } else {
                            e.is_connect()
                                || matches!(fault_of(&e), Some(BodyFault::UploadCut { .. }))
                        };
                    if again {
                        let mut r = run(&mut own);
                        let delay = r.next_delay(None);
                        own = Some(r);
                        if let Some(delay) = delay {
                            tracing::debug!(attempt, error = %e, delay_ms = delay.as_millis() as u64, "retrying");
                            tokio::time::sleep(delay).await;
                            continue;
                        }
                    }
                    // The cause is the last answer, not a later failure to get one.
                    if let Some(saved) = saved {
                        let summary = own.as_ref().map(|r| r.summary());
                        return Ok(saved.into_response(summary));
                    }
                    return Err(e);
                }
            }
        }
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
    /// The spacing at which GETs can go on for ever under the pacer's
    /// limits (zero without a pacer).
    pub(crate) fn steady_get_spacing(&self) -> Duration {
        self.inner
            .pacer
            .as_ref()
            .map_or(Duration::ZERO, |gate| gate.steady_get_spacing())
    }

    pub(crate) fn seed_pacer(&self, method: &reqwest::Method, times: &[std::time::Instant]) {
        if let Some(gate) = &self.inner.pacer {
            gate.seed(method, times);
        }
    }
}
