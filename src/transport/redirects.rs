//! Redirects followed by hand: the key is dropped as soon as a hop leaves
//! the origin it was meant for (reqwest only strips `Authorization`).

use reqwest::header::LOCATION;
use reqwest::{Method, StatusCode};

use super::body::Activity;
use super::hooks::{cold_error, Limits};
use super::pacing::Unready;
use super::resend::Resend;
use super::Transport;
use crate::error::BodyFault;

impl Transport {
    /// Sends `request`, following redirects of body-less requests by hand:
    /// the key is dropped as soon as the target's origin differs from the
    /// one it was meant for (reqwest only strips `Authorization`). Every hop
    /// waits its turn under the rate limits (when `paced`), and at most
    /// [`MAX_REDIRECTS`](Transport::MAX_REDIRECTS) are followed: the last redirect is then handed back
    /// as it is. `template` is a copy of `request` (none for a streamed
    /// body): a redirect's request is made from it, only when one comes.
    /// No wait for the pacer, and no hop, outlives `limits`' deadlines.
    pub(super) async fn send(
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
            let (Some(base), true, true) = (
                base,
                status.is_redirection(),
                hops < Transport::MAX_REDIRECTS,
            ) else {
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
                next.headers_mut().remove(Transport::API_KEY_HEADER);
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
}
