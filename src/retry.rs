//! Retries with jittered exponential backoff, honouring `Retry-After`.
//!
//! The backoff schedule comes from [`backon`]; this module decides *what*
//! is retried. GETs are retried on connection failures, timeouts and 429,
//! 502, 503, 504. A 429 (nothing was processed) does not use up an
//! attempt: it is retried, after its `Retry-After`, as long as the retry
//! budget ([`RetryConfig::max_elapsed`]) allows. A POST is retried only when the server cannot have
//! processed it: a 429 (rejected before it was read) or a failure to
//! connect (nothing went out). A `no_cache` submission costs credits, so a
//! POST that timed out or got a 502 is never sent again.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// How requests are retried. The default makes up to 4 attempts with
/// backoff from 500 ms to 20 s (full jitter), within 2 minutes in all:
/// the attempts themselves and the waits between them.
///
/// ```
/// use std::time::Duration;
/// use identifai::RetryConfig;
/// let patient = RetryConfig::default().with_max_attempts(8).with_max_elapsed(Duration::from_secs(600));
/// let never = RetryConfig::disabled();
/// assert_eq!(never.max_attempts(), 1);
/// # let _ = patient;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_elapsed: Duration::from_secs(120),
        }
    }
}

impl RetryConfig {
    /// No retries: every request is sent once.
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1).
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The first backoff delay (before jitter).
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The largest backoff delay.
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The retry budget: the most wall time one request may take, its
    /// attempts and the waits between them included (default 2 minutes).
    /// No retry starts past it, a `Retry-After` longer than what is left
    /// ends the retries, and a GET's attempt is cut at what is left.
    pub fn with_max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// Attempts in all.
    pub fn attempts(&self) -> u32 {
        self.max_attempts
    }

    /// The delays before each retry.
    pub(crate) fn schedule(&self) -> Schedule {
        Schedule {
            backoff: None,
            max_backoff: self.max_backoff,
            retries: self.max_attempts.saturating_sub(1),
            floor: self.initial_backoff,
            enabled: self.max_attempts > 1,
            budget: self.max_elapsed,
            start: std::time::Instant::now(),
        }
    }
}

/// Reading the settings back.
impl RetryConfig {
    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    /// The first backoff delay (before jitter).
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }
    /// The largest backoff delay.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }
    /// The retry budget of one request, its attempts and waits included.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }
}

/// The delays of one request's retries.
pub(crate) struct Schedule {
    /// The jittered backoff, made at the first retry (most requests have
    /// none, so most never build one).
    backoff: Option<Box<dyn Iterator<Item = Duration> + Send>>,
    max_backoff: Duration,
    retries: u32,
    floor: Duration,
    enabled: bool,
    budget: Duration,
    start: std::time::Instant,
}

impl Schedule {
    /// The delay before the next attempt, or `None` when no retry is left.
    /// `retry_after` (the server's) wins over a shorter backoff; one longer
    /// than the time left ends the retries.
    pub(crate) fn next_delay(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        let (floor, max, retries) = (self.floor, self.max_backoff, self.retries);
        let backoff = self
            .backoff
            .get_or_insert_with(|| {
                Box::new(
                    ExponentialBuilder::default()
                        .with_min_delay(floor)
                        .with_max_delay(max)
                        .with_max_times(retries as usize)
                        .with_jitter()
                        .build(),
                )
            })
            .next()?;
        let delay = retry_after.map_or(backoff, |ra| ra.max(backoff.min(ra + backoff / 4)));
        if delay >= self.left() {
            return None;
        }
        Some(delay)
    }

    /// The delay before the next attempt after a 429, or `None` when the
    /// budget does not allow one (never with [`RetryConfig::disabled`]): a 429 means nothing was processed, so it
    /// does not use up an attempt; the retry waits for `retry_after` (or
    /// the initial backoff) and is bounded by the budget only.
    pub(crate) fn next_rate_limited_delay(
        &mut self,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let delay = retry_after.unwrap_or(self.floor);
        (self.enabled && delay < self.left()).then_some(delay)
    }

    /// What is left of the retry budget (attempts included).
    pub(crate) fn left(&self) -> Duration {
        self.budget.saturating_sub(self.start.elapsed())
    }
}

/// Statuses a GET is retried on.
pub(crate) fn retryable_get_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

/// The `Retry-After` header, in seconds or as an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<f64>() {
        return (secs.is_finite() && secs >= 0.0)
            .then(|| Duration::from_secs_f64(secs.min(86_400.0)));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_is_bounded_by_attempts_and_time() {
        let mut s = RetryConfig::default().with_max_attempts(3).schedule();
        assert!(s.next_delay(None).is_some());
        assert!(s.next_delay(None).is_some());
        assert!(s.next_delay(None).is_none(), "3 attempts = 2 retries");

        let mut s = RetryConfig::default()
            .with_max_elapsed(Duration::from_secs(5))
            .schedule();
        assert!(
            s.next_delay(Some(Duration::from_secs(60))).is_none(),
            "Retry-After past the budget"
        );
        let d = s.next_delay(Some(Duration::from_secs(2))).unwrap();
        assert!(
            d >= Duration::from_secs(2),
            "Retry-After is honoured: {d:?}"
        );
    }

    #[test]
    fn retry_after_forms() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
        h.insert(RETRY_AFTER, "-1".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        h.insert(RETRY_AFTER, "soon".parse().unwrap());
        assert_eq!(retry_after(&h), None);
        let later = httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(30));
        h.insert(RETRY_AFTER, later.parse().unwrap());
        let d = retry_after(&h).unwrap();
        assert!(
            d > Duration::from_secs(27) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }
}
