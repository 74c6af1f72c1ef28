//! The hooks every request runs through: the key and the timeout put on
//! it, one tracing span, each attempt watched by the idle timeout and the
//! upload deadline, and its answer guarded (cap, idle, key scrubbed).

use std::time::Duration;

use progenitor_client::OperationInfo;
use reqwest::header::HeaderValue;
use reqwest::Method;

use super::body::{answer_late, reqwest_error, Activity, Guarded, Tracked};
use super::resend::Resend;
use super::Transport;
use crate::api;
use crate::error::{chain, fault_of, BodyFault};

impl api::Layer for Transport {
    fn pre(&self, request: &mut reqwest::Request, info: &OperationInfo) {
        let t = self;
        if api::API_KEY_OPERATIONS.contains(&info.operation_id) {
            if let Some(key) = &t.inner.key_header {
                request
                    .headers_mut()
                    .insert(Transport::API_KEY_HEADER, key.clone());
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
        // Boxed, so the loop, the attempt and the hops each hold a pointer,
        // not the request (future sizes: BENCHMARKS.md's notes on goal 1).
        let request = Box::new(request);
        // A span no subscriber wants is neither entered nor recorded into
        // (both cost more than the rest of the layer).
        let span = (!span.is_disabled()).then_some(span);
        let record = span.clone();
        boxed_in_place(move || Spanned {
            span,
            fut: t.run(client, request, info.operation_id, record),
        })
    }
}

impl Transport {
    /// One attempt: the request body tracked, the wait for an answer
    /// watched by the idle timeout, and the answer's body guarded (cap,
    /// idle timeout, key scrubbed; see [`super::body`]).
    pub(super) async fn attempt(
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
                let cause = chain(&e);
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
                    *value = HeaderValue::from_static(super::body::REDACTED);
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
pub(super) struct Limits {
    /// No wait for the pacer past this (the retry budget).
    pub(super) wait_until: Option<std::time::Instant>,
    /// No attempt past this (the retry budget; none for an upload, whose
    /// transfer has the upload timeout).
    pub(super) attempt_until: Option<std::time::Instant>,
    /// An upload's whole answer within this of its end.
    pub(super) answer_timeout: Option<Duration>,
    /// The budget, for the message when it runs out.
    pub(super) budget: Duration,
}

impl Limits {
    /// The fault of a budget that ran out (`what`: when).
    pub(super) fn spent(&self, what: &'static str) -> BodyFault {
        BodyFault::Deadline {
            what,
            after: self.budget,
        }
    }
}

/// [`reqwest_error`] for the paths requests rarely take (idle, upload cut,
/// pacer failure), boxed: its future (a whole body read) would otherwise
/// be part of every request's future, which is moved into a box per
/// request.
pub(super) async fn cold_error(fault: BodyFault) -> reqwest::Error {
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

/// Whether `operation` uploads a file (spec role `submit`).
pub(super) fn is_upload(operation: &str) -> bool {
    api::Operation::named(operation).is_some_and(|op| op.role == Some("submit"))
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

/// Boxes the future `make` returns, built in the box's own memory rather
/// than on the stack and copied in (as `Box::pin` does).
pub(super) fn boxed_in_place<'a, F>(make: impl FnOnce() -> F) -> api::BoxFuture<'a, F::Output>
where
    F: std::future::Future + Send + 'a,
{
    let slot = Box::<F>::new_uninit();
    let boxed: Box<F> = Box::write(slot, make());
    Box::into_pin(boxed)
}
