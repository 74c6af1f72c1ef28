//! The one retry loop: every request the transport sends, GET or POST
//! ([`Transport::run`]), and the re-sends of an upload, whose file the
//! caller re-opens ([`Uploads`]); both under one [`Run`] of the policy.

use std::future::Future;
use std::time::Duration;

use reqwest::{Method, StatusCode};

use super::super::hooks::{boxed_in_place, cold_error, is_upload, Limits};
use super::super::pacing::Class;
use super::super::resend::{buffer_body, needs_buffer, Resend};
use super::super::Transport;
use super::{current_upload, lock, retryable_get_status, within, Run, SharedRun};
use crate::error::refusals::{hint, note, retry_after, Summary};
use crate::error::{fault_of, BodyFault};

impl Transport {
    /// A request under the refusal policy: the breaker asked first, each
    /// 429 counted and waited out (every request of its method held as
    /// long), what can be sent again retried within the budget, and, when
    /// the retries end without an answer, the last answer retried after
    /// returned as the cause.
    pub(in crate::transport) async fn run(
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
        let outer = upload.then(current_upload).flatten();
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
                (Some(run), _) => lock(run).deadline(),
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
            // The attempt in a box of its own, to keep this future small.
            let template_ref = template.as_deref();
            let result =
                boxed_in_place(|| t.attempt(client, this, template_ref, paced, operation, &limits))
                    .await;
            if let Some(run) = &outer {
                lock(run).add_transfer(sent_at.elapsed());
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
                    let hint = hint(response.headers());
                    let (refusal, summary) = match &outer {
                        Some(shared) => {
                            let mut r = lock(shared);
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
                    note(response.headers_mut(), summary);
                    return Ok(response);
                }
                Ok(response) => {
                    let status = response.status().as_u16();
                    if paced && status < 500 {
                        t.inner.refusals.answered(class);
                    }
                    drop(probe);
                    if resendable && get && retryable_get_status(status) {
                        let retry_after = retry_after(response.headers());
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
                note(headers, summary);
            }
        }
        match builder.body(reqwest::Body::from(self.body)) {
            Ok(r) => reqwest::Response::from(r),
            Err(_) => unreachable!("a status, version and headers taken from an answer are valid"),
        }
    }
}

/// The re-sends of one upload under the same policy as every request: a
/// file is sent again (re-opened by the caller) after a 429 the run says may
/// be waited out, a connection that failed or an upload cut before the
/// server had it all. Used by `Classify` and `Client::call`.
pub(crate) struct Uploads {
    run: SharedRun,
    can_resend: bool,
    /// The last 429: the cause, should a later upload fail without an answer.
    refused: Option<crate::Error>,
}

impl Uploads {
    pub(crate) fn new(run: SharedRun, can_resend: bool) -> Self {
        Self {
            run,
            can_resend,
            refused: None,
        }
    }

    /// One upload, counted in this run (the transport finds it by the task).
    pub(crate) async fn attempt<F: Future>(&self, upload: F) -> F::Output {
        within(self.run.clone(), upload).await
    }

    /// After a failed upload: waits before the next one, or gives the error
    /// to return.
    pub(crate) async fn failed(&mut self, err: crate::Error) -> crate::Result<()> {
        let delay = self.after_failure(err)?;
        tokio::time::sleep(delay).await;
        Ok(())
    }

    fn after_failure(&mut self, err: crate::Error) -> crate::Result<Duration> {
        use crate::Error;
        if let Error::RateLimited { .. } = &err {
            // Set by the transport when this 429 may be waited out.
            let wait = lock(&self.run).take_resend();
            return match wait {
                Some(wait) if self.can_resend => {
                    tracing::debug!(
                        delay_ms = wait.as_millis() as u64,
                        "upload refused (429): sent again after the wait"
                    );
                    self.refused = Some(err);
                    Ok(wait)
                }
                _ => Err(err),
            };
        }
        // Only what the server cannot have processed is sent again.
        let unsent = match &err {
            Error::Transport(e) => e.is_connect(),
            Error::UploadInterrupted { .. } => true,
            _ => false,
        };
        let delay = if unsent && self.can_resend {
            lock(&self.run).next_delay(None)
        } else {
            None
        };
        let Some(delay) = delay else {
            // Failed without an answer after a 429: that 429 is the cause.
            let answerless = matches!(
                err,
                Error::Transport(_) | Error::IdleTimeout { .. } | Error::UploadInterrupted { .. }
            );
            return Err(match self.refused.take() {
                Some(cause) if answerless => cause,
                _ => err,
            });
        };
        tracing::debug!(error = %err, delay_ms = delay.as_millis() as u64, "submission retried");
        Ok(delay)
    }
}
