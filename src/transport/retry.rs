//! Retries, and the one refusal policy every request follows.
//!
//! **What is retried.** A GET: on connection failures, timeouts, 429, 502,
//! 503 and 504. A POST (an upload, a submission by URL, an override, a
//! partner call) only when the server cannot have processed it: a 429
//! (refused before anything was done), a failure to connect (nothing went
//! out) or to send the body in full. A `no_cache` submission costs credits,
//! so a POST that timed out or got a 5xx is never sent again.
//!
//! **429s** (a [`Run`] per request; an upload's run spans its re-sends).
//! The n-th 429 of a request waits `max(floor, step)`:
//!
//! - `step` is [`RetryConfig::rate_limit_backoff`] doubled at each 429,
//!   capped at [`RetryConfig::max_rate_limit_backoff`], then jittered over
//!   its upper half ("equal jitter": uniform between half the step and the
//!   step). Pure full jitter can draw near-zero waits again and again, and a
//!   key refused for minutes would then be asked dozens of times; half a
//!   step of floor keeps the growth certain (at most 8 requests in 2
//!   minutes with the defaults, whatever the draws) and still spreads a
//!   fleet over the other half.
//! - `floor` is the `Retry-After`, when it names a time to come. One that
//!   cannot (zero, negative, a date in the past, unreadable) counts as
//!   [`RetryConfig::retry_after_fallback`], the longest window the server
//!   counts (a minute): a server that refuses while saying "now" does not
//!   know when room comes back, and a minute is what the published limits
//!   guarantee to clear every window of this client's own requests; the
//!   per-second window (1 s) would mean up to 60 refused requests, or 60
//!   re-uploads of a file, while a spent minute quota recovers. No
//!   `Retry-After` at all: the step alone.
//!
//! The wait also holds every request of that method on the client's pacer
//! (fleet-wide with [`crate::config::Pacer::redis`]), so that others wait for room
//! too. A file is uploaded again at most [`RetryConfig::max_upload_resends`]
//! times on 429s (each costs a whole upload).
//!
//! **The breaker** ([`Refusals`], one per client, shared by its clones; one
//! per method, as the server counts POSTs and GETs apart): once
//! [`RetryConfig::breaker_refusals`] 429s in a row have come over at least
//! [`RetryConfig::breaker_window`] with no answer that is not one in
//! between, requests of that method fail at once, unsent, with
//! [`crate::Error::RateLimited`]; one request goes out as a probe once the
//! last wait is over (at least [`RetryConfig::max_rate_limit_backoff`]
//! after the last 429). Any answer other than a 429 or a 5xx closes it.
//!
//! **The budget** ([`RetryConfig::max_elapsed`]) is a hard deadline: no
//! request, its attempts, pacer waits and backoffs included, outlives it.
//! A shared pacer that fails (Redis restarting) is asked again within it,
//! whatever the attempts: nothing has been sent yet.
//! An upload's transfer is not counted in it (a large video takes longer):
//! it is bounded by the upload timeout, and its answer by the request
//! timeout once the file is sent.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use backon::{BackoffBuilder, ExponentialBuilder};

use super::pacing::Class;
use crate::error::refusals::{Hint, Summary};

mod run;

pub(crate) use run::Uploads;

/// How requests are retried, and how 429s are met.
///
/// The default makes up to 4 attempts on a transient failure (connection,
/// timeout, 502/503/504 of a GET) with backoff from 500 ms to 20 s (full
/// jitter); meets consecutive 429s with a backoff from 2 s to 60 s (see
/// [`with_rate_limit_backoff`](Self::with_rate_limit_backoff)), uploads a
/// file again at most 3 times on 429s, trips the breaker after 8 429s in a
/// row over 2 minutes, and bounds each request, attempts included, to 2
/// minutes.
///
/// ```
/// use std::time::Duration;
/// use identifai::config::RetryConfig;
/// let patient = RetryConfig::default().with_max_attempts(8).with_max_elapsed(Duration::from_secs(600));
/// let never = RetryConfig::disabled();
/// assert_eq!(never.max_attempts(), 1);
/// // A server whose windows are 100 times shorter (the mock at time scale 0.01):
/// let fast = RetryConfig::default().scaled(0.01);
/// assert_eq!(fast.max_rate_limit_backoff(), Duration::from_millis(600));
/// # let _ = patient;
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct RetryConfig {
    max_attempts: u32,
    initial_backoff: Duration,
    max_backoff: Duration,
    max_elapsed: Duration,
    rate_limit_backoff: Duration,
    max_rate_limit_backoff: Duration,
    retry_after_fallback: Duration,
    max_upload_resends: u32,
    breaker_refusals: u32,
    breaker_window: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(20),
            max_elapsed: Duration::from_secs(120),
            // 2 s: doubled from there, at most 8 requests meet 429s in the
            // 2-minute budget (1 s would allow 9).
            rate_limit_backoff: Duration::from_secs(2),
            // The longest window the server counts.
            max_rate_limit_backoff: Duration::from_secs(60),
            retry_after_fallback: Duration::from_secs(60),
            max_upload_resends: 3,
            breaker_refusals: 8,
            breaker_window: Duration::from_secs(120),
        }
    }
}

impl RetryConfig {
    /// No retries: every request is sent once (at most: the breaker still
    /// refuses to send while the server refuses everything).
    pub fn disabled() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Attempts in all, the first included (at least 1). 1 turns every
    /// retry off, 429s included.
    pub fn with_max_attempts(mut self, n: u32) -> Self {
        self.max_attempts = n.max(1);
        self
    }

    /// The first backoff delay after a transient failure (before jitter).
    pub fn with_initial_backoff(mut self, d: Duration) -> Self {
        self.initial_backoff = d;
        self
    }

    /// The largest backoff delay after a transient failure.
    pub fn with_max_backoff(mut self, d: Duration) -> Self {
        self.max_backoff = d;
        self
    }

    /// The retry budget: the most wall time one request may take, its
    /// attempts, the waits for the pacer and the waits between attempts
    /// included (default 2 minutes); an upload's transfer is not counted.
    /// No retry starts past it, a `Retry-After` longer than what is left
    /// ends the retries, and an attempt is cut at what is left.
    pub fn with_max_elapsed(mut self, d: Duration) -> Self {
        self.max_elapsed = d;
        self
    }

    /// The wait after a request's first 429, before jitter (default 2 s);
    /// each further 429 of the request doubles it, up to
    /// [`with_max_rate_limit_backoff`](Self::with_max_rate_limit_backoff).
    /// Each wait is drawn between half the step and the step, and is never
    /// shorter than the server's `Retry-After`.
    pub fn with_rate_limit_backoff(mut self, d: Duration) -> Self {
        self.rate_limit_backoff = d;
        self
    }

    /// The largest step of the 429 backoff (default 60 s, the longest
    /// window the server counts); also the least time between two probes
    /// while the breaker is open. A longer `Retry-After` still wins.
    pub fn with_max_rate_limit_backoff(mut self, d: Duration) -> Self {
        self.max_rate_limit_backoff = d;
        self
    }

    /// What a 429's `Retry-After` counts as when it is zero, negative, a
    /// date in the past or unreadable (default 60 s: the minute window;
    /// one second, the other window, is what such a server answers again
    /// at once).
    pub fn with_retry_after_fallback(mut self, d: Duration) -> Self {
        self.retry_after_fallback = d;
        self
    }

    /// How many times one file is uploaded again after 429s (default 3):
    /// each re-upload sends the whole file.
    pub fn with_max_upload_resends(mut self, n: u32) -> Self {
        self.max_upload_resends = n;
        self
    }

    /// How many 429s in a row (of one method, with no other answer between)
    /// trip the breaker, once they span
    /// [`with_breaker_window`](Self::with_breaker_window) (default 8; 0
    /// turns the breaker off).
    pub fn with_breaker_refusals(mut self, n: u32) -> Self {
        self.breaker_refusals = n;
        self
    }

    /// How long the 429s in a row must have lasted to trip the breaker
    /// (default 2 minutes): a burst of concurrent requests refused at once
    /// does not trip it.
    pub fn with_breaker_window(mut self, d: Duration) -> Self {
        self.breaker_window = d;
        self
    }

    /// Every duration of this configuration multiplied by `factor`, for a
    /// server whose windows are that many times as long (the mock at a
    /// `time_scale`). A factor that is not finite and positive changes
    /// nothing.
    pub fn scaled(mut self, factor: f64) -> Self {
        if !(factor.is_finite() && factor > 0.0) {
            return self;
        }
        for d in [
            &mut self.initial_backoff,
            &mut self.max_backoff,
            &mut self.max_elapsed,
            &mut self.rate_limit_backoff,
            &mut self.max_rate_limit_backoff,
            &mut self.retry_after_fallback,
            &mut self.breaker_window,
        ] {
            *d = Duration::try_from_secs_f64(d.as_secs_f64() * factor).unwrap_or(Duration::MAX);
        }
        self
    }

    /// Whether anything is retried.
    fn enabled(&self) -> bool {
        self.max_attempts > 1
    }
}

/// Reading the settings back.
impl RetryConfig {
    /// Attempts in all, the first included.
    pub fn max_attempts(&self) -> u32 {
        self.max_attempts
    }
    /// The first backoff delay after a transient failure (before jitter).
    pub fn initial_backoff(&self) -> Duration {
        self.initial_backoff
    }
    /// The largest backoff delay after a transient failure.
    pub fn max_backoff(&self) -> Duration {
        self.max_backoff
    }
    /// The retry budget of one request, its attempts and waits included.
    pub fn max_elapsed(&self) -> Duration {
        self.max_elapsed
    }
    /// The first step of the 429 backoff.
    pub fn rate_limit_backoff(&self) -> Duration {
        self.rate_limit_backoff
    }
    /// The largest step of the 429 backoff.
    pub fn max_rate_limit_backoff(&self) -> Duration {
        self.max_rate_limit_backoff
    }
    /// What a meaningless `Retry-After` counts as.
    pub fn retry_after_fallback(&self) -> Duration {
        self.retry_after_fallback
    }
    /// How many times one file is uploaded again after 429s.
    pub fn max_upload_resends(&self) -> u32 {
        self.max_upload_resends
    }
    /// How many 429s in a row trip the breaker (0: never).
    pub fn breaker_refusals(&self) -> u32 {
        self.breaker_refusals
    }
    /// How long those 429s must have lasted.
    pub fn breaker_window(&self) -> Duration {
        self.breaker_window
    }
}

// ------------------------------------------------------------------ the breaker

/// The 429s of one client, per method: the breaker. Shared by every request
/// of the client and its clones.
pub(crate) struct Refusals {
    config: RetryConfig,
    streaks: [Mutex<Streak>; 2],
}

/// The 429s in a row of one method.
#[derive(Debug, Default)]
struct Streak {
    count: u32,
    /// When the first of them came.
    since: Option<Instant>,
    /// When the last one's wait is over.
    until: Option<Instant>,
    open: bool,
    /// A probe is out (while open).
    probing: bool,
}

/// A request the breaker did not let out: how many 429s in a row over how
/// long, and when a probe may go.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tripped {
    pub(crate) refusals: u32,
    pub(crate) over: Duration,
    pub(crate) retry_after: Option<Duration>,
}

/// The one request let out while the breaker is open; another may go once
/// it is answered (or dropped).
pub(crate) struct Probe {
    refusals: Arc<Refusals>,
    class: Class,
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.refusals.streak(self.class).probing = false;
    }
}

impl Refusals {
    pub(crate) fn new(config: RetryConfig) -> Self {
        Self {
            config,
            streaks: Default::default(),
        }
    }

    pub(crate) fn config(&self) -> &RetryConfig {
        &self.config
    }

    fn streak(&self, class: Class) -> std::sync::MutexGuard<'_, Streak> {
        // A panic while holding it leaves plain counters: still usable.
        self.streaks[class.index()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Whether a request of `class` may go out now: always, unless the
    /// breaker is open; then only one probe, once the last wait is over.
    pub(crate) fn admit(self: &Arc<Self>, class: Class) -> Result<Option<Probe>, Tripped> {
        let mut s = self.streak(class);
        if !s.open {
            return Ok(None);
        }
        let now = Instant::now();
        let waiting = s.until.filter(|u| *u > now);
        if waiting.is_some() || s.probing {
            return Err(Tripped {
                refusals: s.count,
                over: s.since.map_or(Duration::ZERO, |t| now.duration_since(t)),
                retry_after: waiting.map(|u| u - now),
            });
        }
        s.probing = true;
        Ok(Some(Probe {
            refusals: self.clone(),
            class,
        }))
    }

    /// A 429 came at `now` and its request waits `wait`: counts it; whether
    /// the breaker is open now.
    fn refused(&self, class: Class, now: Instant, wait: Duration) -> bool {
        let mut s = self.streak(class);
        s.count = s.count.saturating_add(1);
        let since = *s.since.get_or_insert(now);
        let k = self.config.breaker_refusals;
        if k > 0 && s.count >= k && now.duration_since(since) >= self.config.breaker_window {
            s.open = true;
        }
        // Open: probes at least a backoff cap apart, whatever the server says.
        let wait = if s.open {
            wait.max(self.config.max_rate_limit_backoff)
        } else {
            wait
        };
        let until = now + wait;
        s.until = Some(s.until.map_or(until, |u| u.max(until)));
        s.open
    }

    /// An answer other than a 429 or a 5xx: the server has room again.
    pub(crate) fn answered(&self, class: Class) {
        let mut s = self.streak(class);
        if s.count > 0 || s.open {
            let probing = s.probing;
            *s = Streak {
                probing,
                ..Streak::default()
            };
        }
    }
}

// ------------------------------------------------------------------ one request

/// The retries of one request (of one upload, across its re-sends).
pub(crate) struct Run {
    refusals: Arc<Refusals>,
    class: Class,
    /// Re-sent by the submission loop (a file re-opened), not the transport.
    upload: bool,
    start: Instant,
    /// Time spent sending an upload and waiting for its answer: not
    /// counted in the budget.
    transfer: Duration,
    refused: u32,
    first_refusal: Option<Instant>,
    resends: u32,
    /// After a 429 the upload loop may act on: how long to wait first.
    resend_after: Option<Duration>,
    breaker_open: bool,
    /// The backoff of transient failures, made at the first one.
    backoff: Option<Box<dyn Iterator<Item = Duration> + Send>>,
}

/// What a 429 means for its request.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Refusal {
    /// How long to wait before sending again (every request of the method
    /// is held that long).
    pub(crate) wait: Duration,
    /// Whether to send again.
    pub(crate) retry: bool,
}

/// A run the transport and the upload loop share.
pub(crate) type SharedRun = Arc<Mutex<Run>>;

tokio::task_local! {
    /// The run of the upload being sent: set by the submission loop (which
    /// re-sends it with the file re-opened) around the generated call, read
    /// by the transport (which meets its answers).
    static UPLOAD: SharedRun;
}

/// Runs `fut` (one attempt of an upload) with `run` as its run.
pub(crate) async fn within<F: Future>(run: SharedRun, fut: F) -> F::Output {
    UPLOAD.scope(run, fut).await
}

/// The run of the upload this task is sending, if any.
pub(crate) fn current_upload() -> Option<SharedRun> {
    UPLOAD.try_with(Arc::clone).ok()
}

/// Locks a shared run (a panic while holding it leaves plain counters).
pub(crate) fn lock(run: &SharedRun) -> std::sync::MutexGuard<'_, Run> {
    run.lock().unwrap_or_else(|e| e.into_inner())
}

impl Run {
    pub(crate) fn new(refusals: Arc<Refusals>, class: Class, upload: bool) -> Self {
        Self {
            refusals,
            class,
            upload,
            start: Instant::now(),
            transfer: Duration::ZERO,
            refused: 0,
            first_refusal: None,
            resends: 0,
            resend_after: None,
            breaker_open: false,
            backoff: None,
        }
    }

    fn config(&self) -> &RetryConfig {
        &self.refusals.config
    }

    /// The run began at `at` (its budget counts from then).
    pub(crate) fn started(&mut self, at: Instant) {
        self.start = at;
    }

    /// When the budget runs out.
    pub(crate) fn deadline(&self) -> Instant {
        let budget = self.config().max_elapsed.saturating_add(self.transfer);
        self.start
            .checked_add(budget)
            .unwrap_or_else(|| self.start + Duration::from_secs(86_400 * 365))
    }

    /// What is left of the budget.
    pub(crate) fn left(&self) -> Duration {
        self.deadline().saturating_duration_since(Instant::now())
    }

    /// An upload attempt took `d` (sending and answer): not budget time.
    pub(crate) fn add_transfer(&mut self, d: Duration) {
        self.transfer = self.transfer.saturating_add(d);
    }

    /// A 429 came, with `hint` for its `Retry-After`: counts it (here and
    /// client-wide) and says how long to wait, and whether to send again.
    pub(crate) fn refused(&mut self, hint: Hint) -> Refusal {
        let now = Instant::now();
        self.refused = self.refused.saturating_add(1);
        self.first_refusal.get_or_insert(now);
        let c = self.config();
        let floor = match hint {
            Hint::After(d) => d,
            Hint::Meaningless => c.retry_after_fallback,
            Hint::Missing => Duration::ZERO,
        };
        let wait = floor.max(step(c, self.refused));
        let open = self.refusals.refused(self.class, now, wait);
        self.breaker_open = open;
        let c = self.config();
        let retry = c.enabled()
            && !open
            && (!self.upload || self.resends < c.max_upload_resends)
            && now.checked_add(wait).is_some_and(|at| at < self.deadline());
        self.resend_after = None;
        if retry && self.upload {
            self.resends += 1;
            self.resend_after = Some(wait);
        }
        Refusal { wait, retry }
    }

    /// The wait before re-sending an upload after the 429 the transport
    /// just met, if it is to be sent again.
    pub(crate) fn take_resend(&mut self) -> Option<Duration> {
        self.resend_after.take()
    }

    /// The delay before the next attempt after a transient failure (a
    /// GET's 5xx, a connection that failed), or `None` when no attempt or
    /// budget is left. `retry_after` (the server's) wins over a shorter
    /// backoff; one longer than the time left ends the retries.
    pub(crate) fn next_delay(&mut self, retry_after: Option<Duration>) -> Option<Duration> {
        let c = self.config();
        if !c.enabled() {
            return None;
        }
        let (floor, max, retries) = (c.initial_backoff, c.max_backoff, c.max_attempts - 1);
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
        (delay < self.left()).then_some(delay)
    }

    /// This run's 429s, for the error that ends it.
    pub(crate) fn summary(&self) -> Summary {
        Summary {
            refusals: self.refused,
            over: self.first_refusal.map_or(Duration::ZERO, |t| t.elapsed()),
            breaker_open: self.breaker_open,
        }
    }
}

/// The `n`-th step of the 429 backoff (n from 1), jittered over its upper
/// half.
fn step(c: &RetryConfig, n: u32) -> Duration {
    let doublings = n.saturating_sub(1).min(31);
    let full = c
        .rate_limit_backoff
        .saturating_mul(1u32 << doublings)
        .min(c.max_rate_limit_backoff);
    let half = full / 2;
    half + (full - half).mul_f64(fastrand::f64())
}

/// Statuses a GET is retried on.
pub(crate) fn retryable_get_status(status: u16) -> bool {
    matches!(status, 429 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(config: RetryConfig, upload: bool) -> Run {
        Run::new(Arc::new(Refusals::new(config)), Class::Post, upload)
    }

    #[test]
    fn transient_failures_are_bounded_by_attempts_and_time() {
        let mut s = run(RetryConfig::default().with_max_attempts(3), false);
        assert!(s.next_delay(None).is_some());
        assert!(s.next_delay(None).is_some());
        assert!(s.next_delay(None).is_none(), "3 attempts = 2 retries");

        let mut s = run(
            RetryConfig::default().with_max_elapsed(Duration::from_secs(5)),
            false,
        );
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
    fn consecutive_429s_back_off_exponentially_from_their_floor() {
        let mut r = run(
            RetryConfig::default().with_max_elapsed(Duration::MAX),
            false,
        );
        let mut at = Duration::ZERO;
        let mut within_2_min = 1;
        for n in 1..=12u32 {
            let w = r.refused(Hint::Missing).wait;
            let full = (Duration::from_secs(2) * 2u32.pow(n - 1)).min(Duration::from_secs(60));
            assert!(w >= full / 2 && w <= full, "{n}: {w:?}");
            at += w;
            if at <= Duration::from_secs(120) {
                within_2_min += 1;
            }
        }
        assert!(within_2_min <= 8, "{within_2_min} requests in 2 minutes");
        // The server's wait is a floor; a meaningless one counts as the window.
        let mut r = run(RetryConfig::default(), false);
        assert_eq!(
            r.refused(Hint::After(Duration::from_secs(30))).wait,
            Duration::from_secs(30)
        );
        assert!(r.refused(Hint::Meaningless).wait >= Duration::from_secs(60));
    }

    #[test]
    fn uploads_are_sent_again_a_few_times_only() {
        let mut r = run(RetryConfig::default().scaled(0.001), true);
        let sent_again = (0..10)
            .filter(|_| r.refused(Hint::Missing).retry && r.take_resend().is_some())
            .count();
        assert_eq!(sent_again, 3);
        let mut r = run(RetryConfig::disabled(), false);
        assert!(!r.refused(Hint::Missing).retry, "disabled: never");
    }

    #[test]
    fn the_breaker_trips_after_k_refusals_over_m_and_an_answer_closes_it() {
        let config = RetryConfig::default()
            .with_breaker_refusals(3)
            .with_breaker_window(Duration::ZERO)
            .with_max_rate_limit_backoff(Duration::ZERO)
            .with_rate_limit_backoff(Duration::ZERO);
        let refusals = Arc::new(Refusals::new(config));
        let mut r = Run::new(refusals.clone(), Class::Get, false);
        assert!(r.refused(Hint::Missing).retry);
        assert!(r.refused(Hint::Missing).retry);
        assert!(!r.refused(Hint::Missing).retry, "tripped");
        assert!(r.summary().breaker_open);
        // Open: one probe, the others refused while it is out.
        let probe = refusals.admit(Class::Get).unwrap();
        assert!(probe.is_some());
        let t = refusals.admit(Class::Get).err().unwrap();
        assert_eq!(t.refusals, 3);
        // POSTs are counted apart.
        assert!(refusals.admit(Class::Post).unwrap().is_none());
        refusals.answered(Class::Get);
        drop(probe);
        assert!(refusals.admit(Class::Get).unwrap().is_none(), "closed");
    }

    #[test]
    fn a_burst_of_refusals_does_not_trip_the_breaker() {
        let refusals = Arc::new(Refusals::new(RetryConfig::default()));
        for _ in 0..20 {
            Run::new(refusals.clone(), Class::Post, false).refused(Hint::Missing);
        }
        assert!(refusals.admit(Class::Post).unwrap().is_none());
    }

    #[test]
    fn scaled_scales_every_duration() {
        let c = RetryConfig::default().scaled(0.5);
        assert_eq!(c.max_elapsed(), Duration::from_secs(60));
        assert_eq!(c.breaker_window(), Duration::from_secs(60));
        assert_eq!(c.retry_after_fallback(), Duration::from_secs(30));
        assert_eq!(c.max_attempts(), 4);
        assert_eq!(
            RetryConfig::default().scaled(f64::NAN),
            RetryConfig::default()
        );
    }
}
