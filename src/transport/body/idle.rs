//! The idle record of one attempt: when a byte last went in or out, and
//! whether the request body was handed over in full.

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

use super::BoxError;

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
