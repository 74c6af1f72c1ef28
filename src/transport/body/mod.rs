//! The guards on every body the client reads or sends, for every
//! operation, generated or not: a cap ([`BodyLimits`]), an idle timeout
//! ([`Activity`]) and the API key scrubbed ([`KeyFinder`]). The transport
//! wraps each request body in a [`Tracked`] and each answer's body in a
//! [`Guarded`].

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body as HttpBody, Frame, SizeHint};

mod cap;
mod idle;
mod scrub;

pub use cap::BodyLimits;
pub(crate) use idle::{Activity, Tracked};
pub(crate) use scrub::{KeyFinder, Scrubber, REDACTED};

use crate::error::BodyFault;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The error a body stream yields for `fault`. An idle timeout or a
/// deadline is an `io::Error` of kind `TimedOut`, so
/// `reqwest::Error::is_timeout` holds.
pub(crate) fn boxed(fault: BodyFault) -> BoxError {
    match fault {
        f @ (BodyFault::Idle { .. } | BodyFault::Deadline { .. }) => {
            Box::new(std::io::Error::new(std::io::ErrorKind::TimedOut, f))
        }
        f => Box::new(f),
    }
}

/// A `reqwest::Error` whose cause is `fault`: what the transport returns
/// when it ends a request itself (idle, upload cut). Made by reading a
/// one-item body that fails with `fault`: progenitor's `exec` hook must
/// return a `reqwest::Result`, and `reqwest::Error` has no public constructor.
pub(crate) async fn reqwest_error(fault: BodyFault) -> reqwest::Error {
    let body = reqwest::Body::wrap_stream(futures::stream::once(async move {
        Err::<Bytes, BoxError>(boxed(fault))
    }));
    match reqwest::Response::from(http::Response::new(body))
        .bytes()
        .await
    {
        Err(e) => e,
        Ok(_) => unreachable!("a body whose only item is an error fails"),
    }
}

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
                    return Poll::Ready(Some(Err(boxed(answer_late(after)))));
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
                                return Poll::Ready(Some(Err(boxed(f))));
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
                        return Poll::Ready(Some(Err(boxed(f))));
                    }
                    return Poll::Pending;
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.failed || (self.ended && self.scrub.as_ref().is_none_or(|s| !s.holding()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::body::read_body;
    use crate::error::fault_of;
    use std::time::Instant;

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
