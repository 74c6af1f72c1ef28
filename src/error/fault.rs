//! Why the transport ended a request or a body read itself: the source of
//! the `reqwest::Error` it surfaces as, which [`crate::Error`] maps to a
//! variant of its own.

use std::time::Duration;

/// Why a body read, an upload or a request stopped.
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
