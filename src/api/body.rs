//! Every body the client reads or sends goes through here.
//!
//! The transport's exec hook wraps each response body in a `Guarded`
//! body and each request body in a `Tracked` one, so these hold for every
//! operation, generated or not, and for every reader downstream (progenitor's
//! `ResponseValue::from_response`, byte streams, heatmaps):
//!
//! - **a cap**: past [`BodyLimits`]' cap for that answer (JSON, heatmap or
//!   error body) reading stops with [`BodyFault::TooLarge`]; the client never
//!   buffers more than the cap;
//! - **an idle timeout**: no byte received for the idle time ends the read
//!   with [`BodyFault::Idle`] (waiting for headers and uploads are watched by
//!   the transport with the same activity record);
//! - **the API key scrubbed**: any occurrence of the key in a body is
//!   replaced by `[REDACTED]` as it streams in, so no error, record, file or
//!   trace made from a server's words can carry it.
//!
//! [`from_response`] is what the generated code calls instead of
//! progenitor's `ResponseValue::from_response` (`identifai-codegen` rewrites
//! the calls): one capped read ([`read_body`]), one UTF-8 check, then
//! `serde_json::from_str`. [`stream`] replaces `ResponseValue::stream` (the
//! headers moved, not copied).

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use http_body::{Body as HttpBody, Frame, SizeHint};
use progenitor_client::{Error, ResponseValue};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The text that replaces the API key wherever a server sends it back.
pub const REDACTED: &str = "[REDACTED]";

/// Keys shorter than this are not scrubbed (every `k` of a body would be).
pub(crate) const MIN_SCRUB_LEN: usize = 6;

/// How much of an answer the client reads. Set with
/// `ClientBuilder::body_limits`; the idle timeout is
/// `ClientBuilder::idle_timeout`.
///
/// ```
/// let limits = identifai::BodyLimits::default().with_max_json_bytes(4 << 20);
/// assert_eq!(limits.max_json_bytes(), 4 << 20);
/// assert_eq!(limits.max_heatmap_bytes(), 64 << 20);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyLimits {
    max_json: u64,
    max_heatmap: u64,
    max_error: u64,
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self {
            max_json: 16 * 1024 * 1024,
            max_heatmap: 64 * 1024 * 1024,
            max_error: 1024 * 1024,
        }
    }
}

impl BodyLimits {
    /// The largest success answer read, other than heatmaps (default 16 MiB).
    pub fn with_max_json_bytes(mut self, n: u64) -> Self {
        self.max_json = n;
        self
    }
    /// The largest heatmap read (default 64 MiB).
    pub fn with_max_heatmap_bytes(mut self, n: u64) -> Self {
        self.max_heatmap = n;
        self
    }
    /// The largest body read of an answer with a 3xx, 4xx or 5xx status
    /// (default 1 MiB: error bodies are a line of JSON).
    pub fn with_max_error_bytes(mut self, n: u64) -> Self {
        self.max_error = n;
        self
    }
    /// The success-answer cap.
    pub fn max_json_bytes(&self) -> u64 {
        self.max_json
    }
    /// The heatmap cap.
    pub fn max_heatmap_bytes(&self) -> u64 {
        self.max_heatmap
    }
    /// The error-body cap.
    pub fn max_error_bytes(&self) -> u64 {
        self.max_error
    }

    /// The cap for an answer of `operation` with `status`, and what to call
    /// it in errors.
    pub(crate) fn cap_for(&self, operation: &str, status: u16) -> (&'static str, u64) {
        if status >= 300 {
            ("error body", self.max_error)
        } else if operation.contains("heatmap") {
            ("heatmap", self.max_heatmap)
        } else {
            ("answer", self.max_json)
        }
    }
}

/// Why a body read or an upload stopped (the source of the
/// `reqwest::Error` it surfaces as; `identifai::Error` maps each to its own
/// variant).
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum BodyFault {
    /// The body went past its cap.
    #[error("the {what} is over the {cap}-byte cap")]
    TooLarge {
        /// `answer`, `heatmap` or `error body`.
        what: &'static str,
        /// The cap, in bytes.
        cap: u64,
        /// The answer's HTTP status.
        status: u16,
    },
    /// Nothing was received or sent for `after`.
    #[error("no byte received or sent for {}s (idle timeout)", .after.as_secs_f64())]
    Idle {
        /// The idle timeout.
        after: Duration,
    },
    /// The connection failed before the request body was sent in full, so
    /// the server cannot have taken the request.
    #[error("the connection failed before the upload was sent in full: {cause}")]
    UploadCut {
        /// What the connection said.
        cause: String,
    },
    /// The shared pacer could not be asked when the request may go out
    /// (nothing was sent).
    #[error("{cause}")]
    Pacer {
        /// What the pacer's store said.
        cause: String,
    },
    /// Not sent: the server refused `refusals` requests in a row over
    /// `over`, and the client's breaker is open.
    #[error("not sent: {refusals} requests refused in a row over {:.1}s (the breaker is open)", .over.as_secs_f64())]
    Refused {
        /// The 429s in a row.
        refusals: u32,
        /// Since the first of them.
        over: std::time::Duration,
        /// Until a request may be sent, if known.
        retry_after: Option<std::time::Duration>,
    },
    /// A deadline passed: the answer to an upload did not come within the
    /// request timeout of its end, or the retry budget ran out.
    #[error("{what} ({}s)", .after.as_secs_f64())]
    Deadline {
        /// Which deadline.
        what: &'static str,
        /// Its length.
        after: std::time::Duration,
    },
}

impl BodyFault {
    /// The error a body stream yields for this fault. An idle timeout is an
    /// `io::Error` of kind `TimedOut`, so `reqwest::Error::is_timeout` holds.
    fn into_box(self) -> BoxError {
        match self {
            f @ (BodyFault::Idle { .. } | BodyFault::Deadline { .. }) => {
                Box::new(std::io::Error::new(std::io::ErrorKind::TimedOut, f))
            }
            f => Box::new(f),
        }
    }
}

/// The [`BodyFault`] somewhere in `e`'s causes, if any.
pub fn fault_of(e: &(dyn std::error::Error + 'static)) -> Option<BodyFault> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(f) = err.downcast_ref::<BodyFault>() {
            return Some(f.clone());
        }
        if let Some(f) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<BodyFault>())
        {
            return Some(f.clone());
        }
        cur = err.source();
    }
    None
}

/// A `reqwest::Error` whose cause is `fault`: what the transport returns
/// when it ends a request itself (idle, upload cut). reqwest has no public
/// constructor, so this reads a one-item body that fails with `fault`.
pub(crate) async fn reqwest_error(fault: BodyFault) -> reqwest::Error {
    let body = reqwest::Body::wrap_stream(futures::stream::once(async move {
        Err::<Bytes, BoxError>(fault.into_box())
    }));
    match reqwest::Response::from(http::Response::new(body))
        .bytes()
        .await
    {
        Err(e) => e,
        Ok(_) => unreachable!("a body whose only item is an error fails"),
    }
}

// ------------------------------------------------------------------ activity

/// When a byte last went in or out on one request, and whether its body
/// was handed over in full (shared between the request body, the response
/// body and the transport's watchdog; one allocation per attempt).
#[derive(Clone, Debug)]
pub(crate) struct Activity {
    start: Instant,
    shared: Arc<Shared>,
}

#[derive(Debug, Default)]
struct Shared {
    last_ms: AtomicU64,
    /// The request waits its turn in the pacer: not idle.
    queued: AtomicBool,
    finished: AtomicBool,
    /// When the body was handed over in full (ms since `start`).
    finished_ms: AtomicU64,
    /// Wakes [`Activity::sent`].
    sent: tokio::sync::Notify,
}

impl Activity {
    pub(crate) fn new() -> Self {
        Self {
            start: Instant::now(),
            shared: Arc::default(),
        }
    }

    pub(crate) fn touch(&self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.shared.last_ms.fetch_max(now, Ordering::Relaxed);
    }

    /// The request body was handed to the connection in full.
    pub(crate) fn finish(&self) {
        if !self.shared.finished.load(Ordering::Acquire) {
            let now = self.start.elapsed().as_millis() as u64;
            self.shared.finished_ms.store(now, Ordering::Relaxed);
            self.shared.finished.store(true, Ordering::Release);
            self.shared.sent.notify_one();
        }
    }

    /// When the body was handed over in full, if it was.
    pub(crate) fn finished_at(&self) -> Option<Instant> {
        self.finished().then(|| {
            self.start + Duration::from_millis(self.shared.finished_ms.load(Ordering::Relaxed))
        })
    }

    /// Resolves once the body was handed over in full.
    pub(crate) async fn sent(&self) {
        while !self.finished() {
            self.shared.sent.notified().await;
        }
    }

    /// Whether [`Activity::finish`] was called.
    pub(crate) fn finished(&self) -> bool {
        self.shared.finished.load(Ordering::Relaxed)
    }

    /// Marks the request as waiting in the pacer until the guard is
    /// dropped: the idle timeout guards a silent server, not the client's
    /// own queue, so it counts from when the wait ends.
    pub(crate) fn queued(&self) -> Queued<'_> {
        self.shared.queued.store(true, Ordering::Release);
        Queued(self)
    }

    fn idle_for(&self) -> Duration {
        if self.shared.queued.load(Ordering::Acquire) {
            return Duration::ZERO;
        }
        let last = Duration::from_millis(self.shared.last_ms.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }

    /// Resolves once nothing happened for `idle`.
    pub(crate) async fn stalled(&self, idle: Duration) {
        // One timer for the whole wait, boxed: inline, it is 112 bytes of
        // every request's future.
        let mut sleep: Option<Pin<Box<tokio::time::Sleep>>> = None;
        loop {
            let quiet = self.idle_for();
            if quiet >= idle {
                return;
            }
            let deadline = tokio::time::Instant::now() + (idle - quiet);
            match &mut sleep {
                Some(s) => s.as_mut().reset(deadline),
                None => sleep = Some(Box::pin(tokio::time::sleep_until(deadline))),
            }
            if let Some(s) = &mut sleep {
                s.as_mut().await;
            }
        }
    }
}

/// A request waiting in the pacer (see [`Activity::queued`]).
pub(crate) struct Queued<'a>(&'a Activity);

impl Drop for Queued<'_> {
    fn drop(&mut self) {
        // Touched before the flag drops, so a watchdog never sees the
        // whole wait as silence.
        self.0.touch();
        self.0.shared.queued.store(false, Ordering::Release);
    }
}

// ------------------------------------------------------------------ request

pin_project_lite::pin_project! {
    /// A request body that records its progress: each chunk handed to the
    /// connection touches the activity record, which is marked finished once the
    /// last one was (the end of the stream, or `length` bytes: hyper stops
    /// asking at the `Content-Length`).
    pub(crate) struct Tracked {
        #[pin]
        inner: reqwest::Body,
        activity: Activity,
        length: Option<u64>,
        sent: u64,
    }
}

impl Tracked {
    pub(crate) fn wrap(
        inner: reqwest::Body,
        length: Option<u64>,
        activity: Activity,
    ) -> reqwest::Body {
        let length = length.or_else(|| inner.size_hint().exact());
        if length == Some(0) {
            activity.finish();
        }
        reqwest::Body::wrap(Tracked {
            inner,
            activity,
            length,
            sent: 0,
        })
    }
}

impl HttpBody for Tracked {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.project();
        let polled = this.inner.poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                this.activity.touch();
                *this.sent += frame.data_ref().map_or(0, |d| d.len() as u64);
                if this.length.is_some_and(|l| *this.sent >= l) {
                    this.activity.finish();
                }
            }
            Poll::Ready(None) => {
                this.activity.touch();
                this.activity.finish();
            }
            _ => {}
        }
        polled.map_err(Into::into)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

// ------------------------------------------------------------------ response

pin_project_lite::pin_project! {
    /// A response body with a cap, an idle timeout and the key scrubbed.
    pub(crate) struct Guarded {
        #[pin]
        inner: reqwest::Body,
        what: &'static str,
        cap: u64,
        // The answer's status, for the fault past the cap.
        status: u16,
        read: u64,
        idle: Option<Duration>,
        // When the last frame came (the wrap, at first).
        last: tokio::time::Instant,
        // The idle timer, made the first time the body has to wait (a body
        // already received whole never needs one); it also wakes at the
        // deadline.
        timer: Option<Pin<Box<tokio::time::Sleep>>>,
        // The whole body by then (an upload's answer: the request timeout
        // after the upload), and that timeout.
        deadline: Option<(tokio::time::Instant, Duration)>,
        scrub: Option<Scrubber>,
        ended: bool,
        failed: bool,
    }
}

impl Guarded {
    /// Wraps `response`'s body; `key` (built once per client, see
    /// [`KeyFinder::new`]) is scrubbed from it.
    pub(crate) fn wrap(
        response: reqwest::Response,
        what: &'static str,
        cap: u64,
        idle: Option<Duration>,
        deadline: Option<(tokio::time::Instant, Duration)>,
        key: Option<&Arc<KeyFinder>>,
    ) -> reqwest::Response {
        use reqwest::ResponseBuilderExt as _;
        // The URL rides along as the extension reqwest reads back, so
        // `Response::url` stays the real one (and no placeholder URL is
        // parsed per answer).
        let url = response.url().clone();
        let status = response.status().as_u16();
        let response: http::Response<reqwest::Body> = response.into();
        let (mut parts, inner) = response.into_parts();
        // `ResponseBuilderExt::url` is the only way in for reqwest's private
        // URL extension. The answer's own extensions (hyper's connection
        // info) are lent to a builder for it and taken back, so the URL goes
        // into the map that is there, rather than into a new map merged in.
        let mut tag = http::Response::builder();
        if let Some(lent) = tag.extensions_mut() {
            std::mem::swap(lent, &mut parts.extensions);
        }
        if let Ok(tag) = tag.url(url).body(()) {
            parts.extensions = tag.into_parts().0.extensions;
        }
        let body = Guarded {
            inner,
            what,
            cap,
            status,
            read: 0,
            idle,
            last: tokio::time::Instant::now(),
            timer: None,
            deadline,
            scrub: key.map(|k| Scrubber::new(k.clone())),
            ended: false,
            failed: false,
        };
        reqwest::Response::from(http::Response::from_parts(parts, reqwest::Body::wrap(body)))
    }
}

impl HttpBody for Guarded {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let mut this = self.project();
        if *this.failed {
            return Poll::Ready(None);
        }
        loop {
            if let Some((at, after)) = *this.deadline {
                // Checked at every frame too: a trickle never waits long.
                if !*this.ended && tokio::time::Instant::now() >= at {
                    *this.failed = true;
                    return Poll::Ready(Some(Err(answer_late(after).into_box())));
                }
            }
            if *this.ended {
                // The scrubber's held-back tail, then the end.
                return Poll::Ready(
                    this.scrub
                        .as_mut()
                        .and_then(Scrubber::finish)
                        .map(|b| Ok(Frame::data(b))),
                );
            }
            match this.inner.as_mut().poll_frame(cx) {
                Poll::Ready(Some(Ok(frame))) => {
                    if this.idle.is_some() {
                        *this.last = tokio::time::Instant::now();
                    }
                    let frame = match frame.into_data() {
                        Ok(data) => {
                            *this.read += data.len() as u64;
                            if *this.read > *this.cap {
                                *this.failed = true;
                                let f = BodyFault::TooLarge {
                                    what: this.what,
                                    cap: *this.cap,
                                    status: *this.status,
                                };
                                return Poll::Ready(Some(Err(f.into_box())));
                            }
                            match this.scrub.as_mut() {
                                // The last chunk (the connection says no
                                // more is coming): scrubbed whole, so a body
                                // in one chunk stays one frame (and, with no
                                // key in it, is not copied).
                                Some(s) if this.inner.is_end_stream() => {
                                    *this.ended = true;
                                    Frame::data(s.push_last(data))
                                }
                                Some(s) => {
                                    let out = s.push(data);
                                    if out.is_empty() {
                                        continue;
                                    }
                                    Frame::data(out)
                                }
                                None => Frame::data(data),
                            }
                        }
                        Err(frame) => match frame.into_trailers() {
                            Ok(t) => Frame::trailers(t),
                            Err(_) => continue,
                        },
                    };
                    return Poll::Ready(Some(Ok(frame)));
                }
                Poll::Ready(None) => {
                    *this.ended = true;
                }
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
                Poll::Pending => {
                    // The timer runs to `idle` after the last frame (or to
                    // the deadline, if sooner); it is moved only when the
                    // body waits, not on every frame.
                    let idle_at = this.idle.map(|idle| *this.last + idle);
                    let hard = this.deadline.map(|d| d.0);
                    let Some(wake) = idle_at.into_iter().chain(hard).min() else {
                        return Poll::Pending;
                    };
                    let timer = this
                        .timer
                        .get_or_insert_with(|| Box::pin(tokio::time::sleep_until(wake)));
                    if timer.deadline() != wake {
                        timer.as_mut().reset(wake);
                    }
                    if std::future::Future::poll(timer.as_mut(), cx).is_ready() {
                        *this.failed = true;
                        let f = match (*this.deadline, *this.idle) {
                            (Some((at, after)), _) if wake >= at => answer_late(after),
                            (_, Some(idle)) => BodyFault::Idle { after: idle },
                            (_, None) => answer_late(Duration::ZERO),
                        };
                        return Poll::Ready(Some(Err(f.into_box())));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || (self.ended && self.scrub.as_ref().is_none_or(|s| s.held.is_empty()))
    }

    fn size_hint(&self) -> SizeHint {
        if self.scrub.is_some() {
            // Scrubbing may change the length.
            SizeHint::default()
        } else {
            self.inner.size_hint()
        }
    }
}

/// An upload's answer that did not come whole within the request timeout
/// `after` of the upload's end.
pub(crate) fn answer_late(after: Duration) -> BodyFault {
    BodyFault::Deadline {
        what: "no whole answer within the request timeout after the upload was sent",
        after,
    }
}

/// The API key, ready to be searched for (built once per client: a
/// `memchr::memmem` finder, not a byte-by-byte window compare).
pub(crate) struct KeyFinder {
    finder: memchr::memmem::Finder<'static>,
}

impl KeyFinder {
    /// `None` for keys shorter than [`MIN_SCRUB_LEN`] (every `k` of a body
    /// would be replaced).
    pub(crate) fn new(key: &str) -> Option<Arc<Self>> {
        (key.len() >= MIN_SCRUB_LEN).then(|| {
            Arc::new(Self {
                finder: memchr::memmem::Finder::new(key.as_bytes()).into_owned(),
            })
        })
    }

    fn len(&self) -> usize {
        self.finder.needle().len()
    }

    /// Whether `hay` holds the key.
    pub(crate) fn found_in(&self, hay: &[u8]) -> bool {
        self.finder.find(hay).is_some()
    }
}

/// Replaces the key in a stream of chunks; the last `key.len() - 1` bytes
/// of each chunk wait for the next, so a key split between two is found.
struct Scrubber {
    key: Arc<KeyFinder>,
    held: Vec<u8>,
}

impl Scrubber {
    fn new(key: Arc<KeyFinder>) -> Self {
        Self {
            key,
            held: Vec::new(),
        }
    }

    fn push(&mut self, chunk: Bytes) -> Bytes {
        if self.held.is_empty() && !self.key.found_in(&chunk) {
            // The usual case: no key, nothing held. Only a tail that could
            // begin a key waits for the next chunk; the rest goes on
            // without a copy.
            let cut = self.key_start_in_tail(&chunk);
            self.held = chunk[cut..].to_vec();
            return chunk.slice(..cut);
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(&chunk);
        let keep = buf.len().saturating_sub(self.key.len() - 1);
        let (out, rest) = self.replace(&buf, keep);
        self.held = buf[rest..].to_vec();
        out
    }

    /// Where, in `chunk`'s last `key.len() - 1` bytes, the earliest
    /// suffix that is a beginning of the key starts (`chunk.len()` if none).
    fn key_start_in_tail(&self, chunk: &[u8]) -> usize {
        let key = self.key.finder.needle();
        let from = chunk.len().saturating_sub(key.len() - 1);
        (from..chunk.len())
            .find(|&i| key.starts_with(&chunk[i..]))
            .unwrap_or(chunk.len())
    }

    /// The last chunk: everything held back and `chunk`, scrubbed to the
    /// end. `chunk` itself when nothing is held and the key is not in it.
    fn push_last(&mut self, chunk: Bytes) -> Bytes {
        if self.held.is_empty() {
            if !self.key.found_in(&chunk) {
                return chunk;
            }
            return self.replace(&chunk, chunk.len()).0;
        }
        let mut buf = std::mem::take(&mut self.held);
        buf.extend_from_slice(&chunk);
        self.replace(&buf, buf.len()).0
    }

    fn finish(&mut self) -> Option<Bytes> {
        if self.held.is_empty() {
            return None;
        }
        let buf = std::mem::take(&mut self.held);
        Some(self.replace(&buf, buf.len()).0)
    }

    /// `buf` with the key replaced, up to where the bytes from `keep` on
    /// could begin a key; and where that is.
    fn replace(&self, buf: &[u8], keep: usize) -> (Bytes, usize) {
        let mut out = BytesMut::with_capacity(buf.len());
        let mut i = 0;
        while i < keep {
            match self.key.finder.find(&buf[i..]) {
                Some(p) if i + p < keep => {
                    out.extend_from_slice(&buf[i..i + p]);
                    out.extend_from_slice(REDACTED.as_bytes());
                    i += p + self.key.len();
                }
                _ => {
                    out.extend_from_slice(&buf[i..keep]);
                    i = keep;
                }
            }
        }
        (out.freeze(), i)
    }
}

// ------------------------------------------------------------------ reading

/// The whole body of `response`, read through its `Guarded` wrapper (the
/// cap and idle timeout of the transport apply). The one place bodies are
/// collected; JSON decoding and error mapping build on it.
pub async fn read_body(response: reqwest::Response) -> reqwest::Result<Bytes> {
    response.bytes().await
}

/// The whole of a byte stream from the generated client (heatmaps,
/// submission answers); the same caps apply, as the stream is the guarded
/// body's.
pub async fn read_stream(stream: progenitor_client::ByteStream) -> reqwest::Result<Bytes> {
    use futures::TryStreamExt;
    let mut stream = stream.into_inner();
    // A body in one chunk (the usual answer) is handed on as it is.
    let Some(first) = stream.try_next().await? else {
        return Ok(Bytes::new());
    };
    let Some(second) = stream.try_next().await? else {
        return Ok(first);
    };
    let mut out = BytesMut::with_capacity(first.len() + second.len());
    out.extend_from_slice(&first);
    out.extend_from_slice(&second);
    while let Some(chunk) = stream.try_next().await? {
        out.extend_from_slice(&chunk);
    }
    Ok(out.freeze())
}

/// A JSON body as text: one UTF-8 check, kept for the decode that follows.
///
/// The check is `simdutf8`'s (already in the tree through reqwest's
/// `encoding_rs`): a SIMD pass, several times faster than
/// `std::str::from_utf8` on the pure-ASCII bodies Laravel's `json_encode`
/// writes. On a failure `std` is asked again, for its exact position.
pub fn json_text(bytes: &[u8]) -> Result<&str, serde_json::Error> {
    simdutf8::basic::from_utf8(bytes).map_err(|_| {
        let why = match std::str::from_utf8(bytes) {
            Err(e) => format!("the body is not UTF-8: {e}"),
            Ok(_) => "the body is not UTF-8".to_string(),
        };
        <serde_json::Error as serde::de::Error>::custom(why)
    })
}

/// A JSON body decoded into `T`: one UTF-8 check, then
/// `serde_json::from_str` (what [`from_response`] does once the body is
/// read).
pub fn decode_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_json::Error> {
    json_text(bytes).and_then(serde_json::from_str)
}

/// What the generated code calls instead of progenitor's
/// `ResponseValue::stream`: the answer's (guarded) body as a byte stream,
/// with the headers moved into the answer rather than copied.
pub fn stream(mut response: reqwest::Response) -> ResponseValue<progenitor_client::ByteStream> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let body = progenitor_client::ByteStream::new(Box::pin(response.bytes_stream()));
    ResponseValue::new(body, status, headers)
}

/// [`from_response`] for an operation that may also answer without a body
/// (an override's 204 beside its 200/201): the decoded answer, in `Some`.
pub async fn from_response_some<T: serde::de::DeserializeOwned + Answer, E>(
    response: reqwest::Response,
) -> Result<ResponseValue<Option<T>>, Error<E>> {
    let answer = from_response::<T, E>(response).await?;
    let (status, headers) = (answer.status(), answer.headers().clone());
    Ok(ResponseValue::new(
        Some(answer.into_inner()),
        status,
        headers,
    ))
}

/// The answer of a status documented without a body (an override's 204):
/// `None`, whatever the server sent (nothing is read).
pub fn no_body<T>(mut response: reqwest::Response) -> ResponseValue<Option<T>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    ResponseValue::new(None, status, headers)
}

/// A type the generated client decodes answers into.
///
/// Every field of a result type is optional (answers from before v1.1.0
/// lack some), so `{}`, Laravel's `[]` for an empty map or an object of
/// unknown fields alone would decode as a result with nothing in it. The
/// generator implements this trait for every generated type: a type whose
/// fields are all optional is empty when it equals its default; every other
/// type never is (a missing required field is already a decode error). The
/// generated methods refuse an empty answer as an undecodable one.
///
/// ```
/// use identifai::api::{types::ImageResponse, Answer};
/// assert!(ImageResponse::default().is_empty_answer());
/// let some: ImageResponse = serde_json::from_str(r#"{"hash":"ab"}"#).unwrap();
/// assert!(!some.is_empty_answer());
/// ```
pub trait Answer {
    /// Whether the value carries nothing of the answer it stands for.
    fn is_empty_answer(&self) -> bool {
        false
    }
}

/// A list is a wrong shape when one of its items is (an empty list is
/// a list with no results, not a wrong shape).
impl<T: Answer> Answer for Vec<T> {
    fn is_empty_answer(&self) -> bool {
        self.iter().any(Answer::is_empty_answer)
    }
}
impl Answer for serde_json::Value {}
impl Answer for serde_json::Map<String, serde_json::Value> {}
impl Answer for String {}
impl Answer for () {}

/// [`decode_json`], then [`Answer::is_empty_answer`] refused as a decode
/// error.
fn decode_answer<T: serde::de::DeserializeOwned + Answer>(
    bytes: &[u8],
) -> Result<T, serde_json::Error> {
    let value: T = decode_json(bytes)?;
    if value.is_empty_answer() {
        return Err(none_of_the_fields::<T>());
    }
    Ok(value)
}

/// The decode error of an answer that carries none of `T`'s fields.
pub(crate) fn none_of_the_fields<T>() -> serde_json::Error {
    serde::de::Error::custom(format_args!(
        "the answer has none of the fields of {}",
        std::any::type_name::<T>()
            .rsplit("::")
            .next()
            .unwrap_or("the result")
            .trim_end_matches('>')
    ))
}

/// What the generated code calls instead of progenitor's
/// `ResponseValue::from_response`: the body read once through the capped
/// reader, checked as UTF-8 once, decoded with `serde_json::from_str`. The
/// headers are moved, not copied: into the answer, or, when the body does
/// not decode, to where `identifai::Error::from_api` reads them back
/// ([`super::runtime::remember_undecoded`]).
///
/// An answer that decodes as an [`Answer::is_empty_answer`] value (none of
/// the type's fields came) is refused the same way as one that does not
/// decode.
pub async fn from_response<T: serde::de::DeserializeOwned + Answer, E>(
    mut response: reqwest::Response,
) -> Result<ResponseValue<T>, Error<E>> {
    let status = response.status();
    let headers = std::mem::take(response.headers_mut());
    let full = read_body(response)
        .await
        .map_err(Error::ResponseBodyError)?;
    match decode_answer(&full) {
        Ok(inner) => Ok(ResponseValue::new(inner, status, headers)),
        Err(e) => {
            super::runtime::remember_undecoded(&full, status.as_u16(), headers);
            Err(Error::InvalidResponsePayload(full, e))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scrub_all(key: &str, chunks: &[&str]) -> String {
        let finder = KeyFinder::new(key).unwrap();
        let mut s = Scrubber::new(finder.clone());
        let mut out = Vec::new();
        for c in chunks {
            out.extend_from_slice(&s.push(Bytes::copy_from_slice(c.as_bytes())));
        }
        out.extend_from_slice(&s.finish().unwrap_or_default());
        // The same chunks with the last one known to be the last.
        let mut s = Scrubber::new(finder);
        let mut last = Vec::new();
        for (i, c) in chunks.iter().enumerate() {
            if i + 1 == chunks.len() {
                last.extend_from_slice(&s.push_last(Bytes::copy_from_slice(c.as_bytes())));
            } else {
                last.extend_from_slice(&s.push(Bytes::copy_from_slice(c.as_bytes())));
            }
        }
        assert!(s.finish().is_none());
        assert_eq!(out, last);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_key_is_scrubbed_across_chunks() {
        assert_eq!(scrub_all("secret", &["a secret b"]), "a [REDACTED] b");
        assert_eq!(
            scrub_all("secret", &["a sec", "ret b se", "cret"]),
            "a [REDACTED] b [REDACTED]"
        );
        assert_eq!(scrub_all("secret", &["s", "e", "c"]), "sec");
        assert_eq!(
            scrub_all("secret", &["secretsecret"]),
            "[REDACTED][REDACTED]"
        );
        assert_eq!(scrub_all("secret", &["nothing here"]), "nothing here");
    }

    #[test]
    fn any_split_scrubs_as_one_chunk_does() {
        let text = "se xx secret yy secretsecret sec s";
        let whole = scrub_all("secret", &[text]);
        assert_eq!(whole, "se xx [REDACTED] yy [REDACTED][REDACTED] sec s");
        for i in 0..=text.len() {
            for j in i..=text.len() {
                let parts = [&text[..i], &text[i..j], &text[j..]];
                assert_eq!(scrub_all("secret", &parts), whole, "split at {i}, {j}");
            }
        }
    }

    #[derive(Debug, Clone, PartialEq)]
    struct Marker(u8);

    #[tokio::test]
    async fn a_trickling_answer_ends_at_its_deadline_whatever_the_idle_timeout() {
        // A byte every 20 ms never trips the 5 s idle timeout; the deadline
        // 200 ms away ends it.
        let trickle = futures::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            Some((Ok::<_, std::io::Error>(Bytes::from_static(b" ")), ()))
        });
        let response = http::Response::new(reqwest::Body::wrap_stream(trickle));
        let after = Duration::from_millis(200);
        let guarded = Guarded::wrap(
            reqwest::Response::from(response),
            "answer",
            1 << 20,
            Some(Duration::from_secs(5)),
            Some((tokio::time::Instant::now() + after, after)),
            None,
        );
        let started = Instant::now();
        let err = read_body(guarded).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(
            matches!(fault_of(&err), Some(BodyFault::Deadline { .. })),
            "{err:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
    }

    #[tokio::test]
    async fn the_guard_keeps_the_url_and_the_body() {
        use reqwest::ResponseBuilderExt as _;
        let url = reqwest::Url::parse("http://127.0.0.1:9/api/classification/abc").unwrap();
        let response = http::Response::builder()
            .url(url.clone())
            .header("content-type", "application/json")
            .extension(Marker(7))
            .body(reqwest::Body::from("{\"key\":\"secret-key\"}"))
            .unwrap();
        let key = KeyFinder::new("secret-key");
        let guarded = Guarded::wrap(
            reqwest::Response::from(response),
            "answer",
            1024,
            Some(Duration::from_secs(5)),
            None,
            key.as_ref(),
        );
        assert_eq!(guarded.url(), &url);
        assert_eq!(guarded.headers()["content-type"], "application/json");
        // The answer's other extensions (hyper's connection info) stay too.
        assert_eq!(guarded.extensions().get::<Marker>(), Some(&Marker(7)));
        let body = read_body(guarded).await.unwrap();
        assert_eq!(&body[..], b"{\"key\":\"[REDACTED]\"}");
    }

    #[test]
    fn caps_by_status_and_operation() {
        let l = BodyLimits::default();
        assert_eq!(l.cap_for("get_image_heatmap", 200), ("heatmap", 64 << 20));
        assert_eq!(
            l.cap_for("get_image_classification", 200),
            ("answer", 16 << 20)
        );
        assert_eq!(l.cap_for("get_image_heatmap", 401), ("error body", 1 << 20));
    }

    #[tokio::test]
    async fn faults_survive_as_reqwest_errors() {
        let e = reqwest_error(BodyFault::Idle {
            after: Duration::from_secs(1),
        })
        .await;
        assert!(e.is_timeout(), "{e:?}");
        assert!(matches!(fault_of(&e), Some(BodyFault::Idle { .. })));
        let e = reqwest_error(BodyFault::TooLarge {
            what: "answer",
            cap: 3,
            status: 200,
        })
        .await;
        assert!(matches!(
            fault_of(&e),
            Some(BodyFault::TooLarge {
                cap: 3,
                status: 200,
                ..
            })
        ));
    }
}
