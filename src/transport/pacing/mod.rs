//! Client-side pacing under the published rate limits.
//!
//! identifAI allows, per API key, 1 POST/s and 30 POST/min, 2 GET/s and 60
//! GET/min, and answers 429 past that. The pacer models both sliding
//! windows of each method the way the server counts them: it keeps the send
//! times of the last requests, and a request goes out at the earliest time
//! at which every trailing window holds fewer than its limit, plus
//! [`HEADROOM`](RateLimits::HEADROOM) (an absolute margin for clock and network jitter, so the
//! pacing is exact at any time scale). A batch of 30 submissions therefore
//! goes out one per second, the 31st one minute after the first.
//!
//! A 429 slows the whole key, not only that request: the wait the refusal
//! policy gives it (its `Retry-After` at least; see [`crate::config::RetryConfig`])
//! holds every request of that method until it passes.
//!
//! Where the send times live is the [`Pacer`]: in the process (the
//! default; clones of a [`crate::Client`] share it), or, with feature
//! `redis`, in Redis, shared by every process on one key ([`Pacer::redis`]).
//! `health` is not rate limited and is not paced.

#[cfg(feature = "redis")]
pub(crate) mod redis;
/// The tests' one `redis-server` helper, for `redis`'s own unit tests.
#[cfg(all(test, feature = "redis"))]
#[path = "../../../tests/support/redis_server.rs"]
mod test_redis;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// Short names for the pacing margins, defined on [`RateLimits`].
pub(crate) const HEADROOM: Duration = RateLimits::HEADROOM;
pub(crate) const PATIENCE: Duration = RateLimits::PATIENCE;

/// The rate limits the client paces itself under.
///
/// ```
/// use std::time::Duration;
/// use identifai::config::RateLimits;
/// let published = RateLimits::PUBLISHED;
/// assert_eq!(
///     published.post_windows(),
///     [(Duration::from_secs(1), 1), (Duration::from_secs(60), 30)]
/// );
/// // A test server 100 times faster:
/// assert_eq!(published.with_time_scale(0.01).post_windows()[0].0, Duration::from_millis(10));
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimits {
    /// POSTs per second.
    posts_per_second: u32,
    /// POSTs per minute.
    posts_per_minute: u32,
    /// GETs per second.
    gets_per_second: u32,
    /// GETs per minute.
    gets_per_minute: u32,
    /// Multiplies every window (1.0 = real time; 0.01 for a mock server
    /// whose windows are 100 times shorter).
    time_scale: f64,
}

impl RateLimits {
    /// The margin added to every window: a request goes out at least this
    /// long after the request that leaves the window for it (5 ms). Absolute,
    /// not relative to the window, so it holds at compressed time scales too.
    pub const HEADROOM: Duration = Duration::from_millis(5);

    /// How long, at least, the pacer waits for the answer of the request
    /// that leaves a window before it stops counting on that answer (and
    /// counts the request from when it was sent): one more window, but never
    /// less than this (500 ms), so that a compressed time scale does not turn
    /// a slow answer on a loaded machine into a 429.
    pub const PATIENCE: Duration = Duration::from_millis(500);

    /// The limits identifAI publishes.
    pub const PUBLISHED: RateLimits = RateLimits {
        posts_per_second: 1,
        posts_per_minute: 30,
        gets_per_second: 2,
        gets_per_minute: 60,
        time_scale: 1.0,
    };

    /// The same limits over windows `scale` times as long.
    pub fn with_time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }

    /// The POST windows: (length, requests allowed in it). A limit of 0
    /// or `u32::MAX` means that window is not limited.
    pub fn post_windows(&self) -> [(Duration, u32); 2] {
        self.windows(self.posts_per_second, self.posts_per_minute)
    }

    /// The GET windows: (length, requests allowed in it).
    pub fn get_windows(&self) -> [(Duration, u32); 2] {
        self.windows(self.gets_per_second, self.gets_per_minute)
    }

    fn windows(&self, per_second: u32, per_minute: u32) -> [(Duration, u32); 2] {
        let scale = if self.time_scale.is_finite() && self.time_scale > 0.0 {
            self.time_scale
        } else {
            1.0
        };
        let len = |secs: f64| Duration::try_from_secs_f64(secs * scale).unwrap_or(Duration::MAX);
        [(len(1.0), per_second), (len(60.0), per_minute)]
    }

    /// The spacing at which GETs can go on for ever: the longest window
    /// over its limit (1 s at the published limits, 60 GETs a minute).
    pub(crate) fn steady_get_spacing(&self) -> Duration {
        self.get_windows()
            .iter()
            .filter(|(_, n)| limited(*n))
            .map(|(len, n)| *len / *n)
            .max()
            .unwrap_or_default()
    }

    pub(crate) fn windows_of(&self, class: Class) -> [(Duration, u32); 2] {
        match class {
            Class::Post => self.post_windows(),
            Class::Get => self.get_windows(),
        }
    }
}

/// Reading and changing the limits one by one.
impl RateLimits {
    /// POSTs per second (`0` disables that window).
    pub fn posts_per_second(&self) -> u32 {
        self.posts_per_second
    }
    /// Sets [`RateLimits::posts_per_second`].
    pub fn with_posts_per_second(mut self, n: u32) -> Self {
        self.posts_per_second = n;
        self
    }
    /// POSTs per minute (`0` disables that window).
    pub fn posts_per_minute(&self) -> u32 {
        self.posts_per_minute
    }
    /// Sets [`RateLimits::posts_per_minute`].
    pub fn with_posts_per_minute(mut self, n: u32) -> Self {
        self.posts_per_minute = n;
        self
    }
    /// GETs per second (`0` disables that window).
    pub fn gets_per_second(&self) -> u32 {
        self.gets_per_second
    }
    /// Sets [`RateLimits::gets_per_second`].
    pub fn with_gets_per_second(mut self, n: u32) -> Self {
        self.gets_per_second = n;
        self
    }
    /// GETs per minute (`0` disables that window).
    pub fn gets_per_minute(&self) -> u32 {
        self.gets_per_minute
    }
    /// Sets [`RateLimits::gets_per_minute`].
    pub fn with_gets_per_minute(mut self, n: u32) -> Self {
        self.gets_per_minute = n;
        self
    }
    /// The factor every window is multiplied by (1.0: real time).
    pub fn time_scale(&self) -> f64 {
        self.time_scale
    }
}

impl Default for RateLimits {
    fn default() -> Self {
        Self::PUBLISHED
    }
}

/// Which published limit a request counts against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Class {
    Post,
    Get,
}

impl Class {
    pub(crate) fn of(method: &reqwest::Method) -> Self {
        if method == reqwest::Method::GET || method == reqwest::Method::HEAD {
            Class::Get
        } else {
            Class::Post
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }

    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    pub(crate) fn name(self) -> &'static str {
        match self {
            Class::Post => "post",
            Class::Get => "get",
        }
    }
}

/// Where the pacer keeps the send times: in this process (the default), or
/// in Redis, shared by every process that uses the same key (feature
/// `redis`).
///
/// identifAI allows, per API key, 1 POST/s and 30 POST/min, 2 GET/s and 60
/// GET/min, and answers 429 past that. The client paces itself under these
/// limits ([`RateLimits`], set with
/// [`ClientBuilder::rate_limits`](crate::ClientBuilder::rate_limits)): it
/// keeps the send times of the last requests, and a request goes out at the
/// earliest time at which every trailing window holds fewer than its limit,
/// plus [`HEADROOM`](RateLimits::HEADROOM). A batch of 30 submissions therefore goes out one per
/// second, the 31st one minute after the first. A 429 slows the whole key,
/// not only that request (see [`RetryConfig`](crate::config::RetryConfig)).
/// `health` is not rate limited and is not paced.
///
/// The send times live in the process (the default; clones of a
/// [`Client`](crate::Client) share them), or, with feature `redis`, in Redis,
/// shared by every process on one key:
#[cfg_attr(feature = "redis", doc = "[`Pacer::redis`].")]
#[cfg_attr(not(feature = "redis"), doc = "`Pacer::redis`.")]
///
/// ```
/// let client = identifai::Client::builder()
///     .api_key("my-api-key")
///     .pacer(identifai::config::Pacer::local())
///     .build()?;
/// # let _ = client;
/// # Ok::<(), identifai::Error>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct Pacer {
    store: StoreSpec,
}

#[derive(Clone, Debug, Default)]
enum StoreSpec {
    #[default]
    Local,
    /// A store shared between processes (`Pacer::redis`, feature `redis`).
    #[cfg(feature = "redis")]
    Shared(Arc<dyn SharedSpec>),
}

/// Where a shared store is (implemented by `redis`): opened per API
/// key when a client is built.
#[cfg(feature = "redis")]
pub(crate) trait SharedSpec: std::fmt::Debug + Send + Sync {
    /// The store of the send times of `api_key` at `base_url` (keyed by a
    /// hash of both: two services on one key have their own limits).
    fn open(&self, api_key: &str, base_url: &str) -> Box<dyn SharedStore>;
    /// For the fleet's poll board, which shares the store (the client
    /// takes the Redis connection from it).
    fn as_any(&self) -> &dyn std::any::Any;
}

/// Send times kept outside this process (implemented by `redis`).
#[cfg(feature = "redis")]
pub(crate) trait SharedStore: Send + Sync {
    /// Takes a slot of `class` if one is free now: `(0, slot number)`
    /// (number 0: nothing is limited), else `(how long to wait, 0)`.
    fn reserve<'a>(
        &'a self,
        class: Class,
        windows: &'a [(Duration, u32)],
    ) -> crate::api::BoxFuture<'a, Result<(Duration, u64), PacerError>>;
    /// The request in slot `seq` was answered. Best effort.
    fn seen(&self, class: Class, seq: u64) -> crate::api::BoxFuture<'_, ()>;
    /// Holds `class` for `pause`, for every process. Best effort.
    fn hold(&self, class: Class, pause: Duration) -> crate::api::BoxFuture<'_, ()>;
    /// The error of a store that failed to answer: `why`, with its address.
    fn unreachable(&self, why: &str) -> PacerError;
}

/// The first wait before a failed call to the shared store is made again;
/// doubled at each failure in a row up to [`STORE_RETRY_MAX`], each drawn
/// over the upper half of its step.
#[cfg(feature = "redis")]
const STORE_RETRY_FIRST: Duration = Duration::from_millis(20);

/// The longest wait between two calls to a failing shared store: a store
/// back after a restart is found within this.
#[cfg(feature = "redis")]
pub(crate) const STORE_RETRY_MAX: Duration = Duration::from_millis(500);

impl Pacer {
    /// Send times kept in this process (the default).
    pub fn local() -> Self {
        Self::default()
    }

    /// Send times kept in the shared store `spec` (`Pacer::redis`).
    #[cfg(feature = "redis")]
    pub(crate) fn shared(spec: impl SharedSpec + 'static) -> Self {
        Self {
            store: StoreSpec::Shared(Arc::new(spec)),
        }
    }

    /// Whether the send times are shared through Redis.
    pub fn is_shared(&self) -> bool {
        !matches!(self.store, StoreSpec::Local)
    }

    /// The shared store, if any.
    #[cfg(feature = "redis")]
    pub(crate) fn shared_spec(&self) -> Option<&dyn SharedSpec> {
        match &self.store {
            StoreSpec::Local => None,
            StoreSpec::Shared(spec) => Some(spec.as_ref()),
        }
    }

    pub(crate) fn build(&self, limits: RateLimits, _api_key: &str, _base_url: &str) -> Gate {
        let store = match &self.store {
            StoreSpec::Local => Store::Local(Default::default()),
            #[cfg(feature = "redis")]
            StoreSpec::Shared(spec) => Store::Shared(spec.open(_api_key, _base_url)),
        };
        Gate {
            limits,
            store,
            holds: Mutex::new([None, None]),
            #[cfg(feature = "redis")]
            turns: Default::default(),
        }
    }
}

/// Why the pacer could not tell when a request may go out.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the shared pacer is unreachable: {0}")]
pub struct PacerError(pub(crate) String);

#[cfg(feature = "redis")]
impl PacerError {
    /// The last failure of a store asked again since `since`, until the
    /// retry budget ran out.
    fn gave_up(self, since: Instant) -> Self {
        PacerError(format!(
            "{} (asked again for {:.1}s, until the retry budget ran out)",
            self.0,
            since.elapsed().as_secs_f64()
        ))
    }
}

/// Why a request was not let out.
#[derive(Debug)]
pub(crate) enum Unready {
    /// The deadline came while the request waited for room under the limits.
    Budget,
    /// The shared store failed until the deadline (nothing was sent).
    #[cfg_attr(not(feature = "redis"), allow(dead_code))]
    Pacer(PacerError),
}

/// The pacer of one client (shared by its clones).
pub(crate) struct Gate {
    limits: RateLimits,
    store: Store,
    /// Per class: no request before this (set by a 429).
    holds: Mutex<[Option<Instant>; 2]>,
    /// Per class, with a shared store: this process's requests ask it one
    /// at a time, in turn (FIFO), as the local store's do. Without it every
    /// waiting request raced for each slot, and one could lose until its
    /// retry budget ran out.
    #[cfg(feature = "redis")]
    turns: [tokio::sync::Mutex<()>; 2],
}

enum Store {
    /// Per class, the send times, locked by the request whose turn it is
    /// (FIFO) until it goes out.
    Local(Local),
    #[cfg(feature = "redis")]
    Shared(Box<dyn SharedStore>),
}

impl Gate {
    /// Waits until a request of this method may go out, and counts it as
    /// sent then; no later than `deadline` (the retry budget). A shared
    /// store that fails is asked again (with a short backoff) until then.
    pub(crate) async fn ready(
        &self,
        method: &reqwest::Method,
        deadline: Option<Instant>,
    ) -> Result<Option<Ticket>, Unready> {
        let class = Class::of(method);
        let windows = self.limits.windows_of(class);
        match &self.store {
            Store::Local(local) => {
                let wait = self.ready_local(local, class, &windows);
                match deadline {
                    Some(at) => tokio::time::timeout_at(at.into(), wait)
                        .await
                        .map_err(|_| Unready::Budget),
                    None => Ok(wait.await),
                }
            }
            #[cfg(feature = "redis")]
            Store::Shared(store) => {
                let _turn = self.turns[class.index()].lock().await;
                self.ready_shared(&**store, class, &windows, deadline).await
            }
        }
    }

    async fn ready_local(
        &self,
        local: &Local,
        class: Class,
        windows: &[(Duration, u32)],
    ) -> Option<Ticket> {
        // The send time recorded is when the request actually goes out (a
        // late wake-up never shortens the next spacing), and later when the
        // server had it at the latest ([`Gate::seen`]).
        let _turn = local.turns[class.index()].lock().await;
        loop {
            let now = Instant::now();
            let hold = self.hold_of(class, now);
            let at = {
                let mut logs = local.logs.lock().expect("pacer lock");
                let log = &mut logs[class.index()];
                let at = earliest(
                    log.iter().map(|e| (e.0, e.1.answered)),
                    log.len(),
                    windows,
                    now,
                    hold,
                );
                if at <= now {
                    let id = local
                        .tickets
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    record(
                        log,
                        windows,
                        (
                            now,
                            Entry {
                                id,
                                answered: false,
                            },
                        ),
                    );
                    return Some(Ticket { class, id });
                }
                at
            };
            tokio::time::sleep_until(at.into()).await;
        }
    }

    /// [`Gate::ready`] with the send times in a shared store. A failed call
    /// (Redis restarting, a connection cut) is made again after a short
    /// backoff until the deadline; only then does the request fail, with
    /// the store's last error.
    #[cfg(feature = "redis")]
    async fn ready_shared(
        &self,
        store: &dyn SharedStore,
        class: Class,
        windows: &[(Duration, u32)],
        deadline: Option<Instant>,
    ) -> Result<Option<Ticket>, Unready> {
        // The store's failures in a row: how many, since when, the last one.
        let mut failing: Option<(u32, Instant, PacerError)> = None;
        loop {
            let now = Instant::now();
            if deadline.is_some_and(|d| now >= d) {
                return Err(match failing {
                    Some((_, since, e)) => Unready::Pacer(e.gave_up(since)),
                    None => Unready::Budget,
                });
            }
            // No sleep past the deadline.
            let until = |d: Duration| {
                let at = now + d;
                deadline.map_or(at, |end| at.min(end))
            };
            if let Some(hold) = self.hold_of(class, now) {
                tokio::time::sleep_until(until(hold - now).into()).await;
                continue;
            }
            let asked = store.reserve(class, windows);
            let answer = match deadline {
                Some(end) => tokio::time::timeout_at(end.into(), asked)
                    .await
                    .unwrap_or_else(|_| {
                        Err(store.unreachable("no answer before the retry budget ran out"))
                    }),
                None => asked.await,
            };
            match answer {
                Ok((wait, seq)) => {
                    if let Some((n, since, _)) = failing.take() {
                        tracing::info!(
                            failures = n,
                            after_ms = since.elapsed().as_millis() as u64,
                            "the shared pacer answers again"
                        );
                    }
                    if wait.is_zero() {
                        return Ok((seq != 0).then_some(Ticket { class, id: seq }));
                    }
                    tokio::time::sleep_until(until(wait).into()).await;
                }
                // No budget to ask again within.
                Err(e) if deadline.is_none() => return Err(Unready::Pacer(e)),
                Err(e) => {
                    let (n, since) = failing.as_ref().map_or((0, now), |f| (f.0, f.1));
                    if n == 0 {
                        tracing::warn!(error = %e, "the shared pacer failed; asking again until the retry budget runs out");
                    }
                    let step = STORE_RETRY_FIRST
                        .saturating_mul(1 << n.min(16))
                        .min(STORE_RETRY_MAX);
                    let delay = step / 2 + (step / 2).mul_f64(fastrand::f64());
                    failing = Some((n.saturating_add(1), since, e));
                    tokio::time::sleep_until(until(delay).into()).await;
                }
            }
        }
    }

    /// The request of `ticket` reached the server at `at` at the latest
    /// (its body was asked for, or its answer came): count it from then, so
    /// that a slow first connection never lets a later request in early.
    pub(crate) async fn seen(&self, ticket: Ticket, at: Instant) {
        // One arm without the `redis` feature (a user's build, e.g.
        // examples/downstream): clippy would ask for a `let`.
        #[allow(clippy::infallible_destructuring_match)]
        let local = match &self.store {
            Store::Local(local) => local,
            #[cfg(feature = "redis")]
            Store::Shared(store) => return store.seen(ticket.class, ticket.id).await,
        };
        let mut logs = local.logs.lock().expect("pacer lock");
        let log = &mut logs[ticket.class.index()];
        if let Some(e) = log.iter_mut().find(|e| e.1.id == ticket.id) {
            e.0 = e.0.max(at);
            e.1.answered = true;
            log.make_contiguous().sort();
        }
    }

    /// See [`RateLimits::steady_get_spacing`].
    pub(crate) fn steady_get_spacing(&self) -> Duration {
        self.limits.steady_get_spacing()
    }

    /// Counts requests of `method` that went out before this client
    /// existed, at `times` (a run that was killed, say), so the server's
    /// windows hold from the first request. A shared store already has
    /// them: only the in-process one is told.
    pub(crate) fn seed(&self, method: &reqwest::Method, times: &[Instant]) {
        let class = Class::of(method);
        let windows = self.limits.windows_of(class);
        #[allow(clippy::infallible_destructuring_match)]
        let local = match &self.store {
            Store::Local(local) => local,
            #[cfg(feature = "redis")]
            Store::Shared(_) => return,
        };
        let mut logs = local.logs.lock().expect("pacer lock");
        let log = &mut logs[class.index()];
        let mut all: Vec<(Instant, Entry)> = log.drain(..).collect();
        for &at in times {
            let id = local
                .tickets
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            all.push((at, Entry { id, answered: true }));
        }
        all.sort();
        for entry in all {
            record(log, &windows, entry);
        }
    }

    fn hold_of(&self, class: Class, now: Instant) -> Option<Instant> {
        self.holds.lock().expect("pacer lock")[class.index()].filter(|h| *h > now)
    }

    /// A 429 came back for this method: hold every request of it for
    /// `retry_after` (the refusal policy's wait; without one, the shortest
    /// window).
    pub(crate) async fn hold(&self, method: &reqwest::Method, retry_after: Option<Duration>) {
        let class = Class::of(method);
        let windows = self.limits.windows_of(class);
        let shortest = windows.iter().map(|w| w.0).min().unwrap_or_default();
        let pause = retry_after.unwrap_or(shortest);
        let until = Instant::now() + pause;
        {
            let mut holds = self.holds.lock().expect("pacer lock");
            let h = &mut holds[class.index()];
            if h.is_none_or(|h| h < until) {
                *h = Some(until);
            }
        }
        tracing::debug!(
            class = ?class,
            pause_ms = pause.as_millis() as u64,
            "429: every request of this method held"
        );
        #[cfg(feature = "redis")]
        if let Store::Shared(store) = &self.store {
            store.hold(class, pause).await;
        }
    }
}

/// The in-process store.
#[derive(Default)]
struct Local {
    /// Per class: held by the request whose turn it is (FIFO) until it goes out.
    turns: [tokio::sync::Mutex<()>; 2],
    /// Per class: the send times, sorted, with the ticket of each.
    logs: Mutex<[VecDeque<(Instant, Entry)>; 2]>,
    tickets: std::sync::atomic::AtomicU64,
}

/// A send time's request: its ticket, and whether its answer came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Entry {
    id: u64,
    answered: bool,
}

/// A request counted by the pacer, to say later when the server saw it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ticket {
    class: Class,
    id: u64,
}

/// Whether a window limits anything.
fn limited(limit: u32) -> bool {
    limit != 0 && limit != u32::MAX
}

/// The earliest time at or after `now` (and `hold`) at which one more
/// request fits every window of `log` (sorted send times), with
/// [`HEADROOM`](RateLimits::HEADROOM).
fn earliest(
    log: impl Iterator<Item = (Instant, bool)>,
    n: usize,
    windows: &[(Duration, u32)],
    now: Instant,
    hold: Option<Instant>,
) -> Instant {
    let times: Vec<(Instant, bool)> = log.collect();
    let mut at = hold.map_or(now, |h| h.max(now));
    for &(window, limit) in windows {
        if limited(limit) && n >= limit as usize {
            // The request that must leave the window for one more to fit.
            let (pivot, answered) = times[n - limit as usize];
            at = at.max(pivot + window + HEADROOM);
            // Not answered yet: the server may not have counted it yet
            // either. Wait for its answer (asking again every HEADROOM), up
            // to one more window, and at least PATIENCE.
            let patience = pivot + window + window.max(PATIENCE) + HEADROOM;
            if !answered && at <= now && now < patience {
                at = (now + HEADROOM).min(patience);
            }
        }
    }
    at
}

/// Records a request sent at `at` (not before the last one), keeping only
/// as many send times as the largest limit needs.
fn record<T: Copy + Ord>(
    log: &mut VecDeque<(Instant, T)>,
    windows: &[(Duration, u32)],
    entry: (Instant, T),
) {
    let keep = windows
        .iter()
        .filter(|w| limited(w.1))
        .map(|w| w.1 as usize)
        .max()
        .unwrap_or(0);
    if keep == 0 {
        return;
    }
    let at = log.back().map_or(entry.0, |last| last.0.max(entry.0));
    log.push_back((at, entry.1));
    while log.len() > keep {
        log.pop_front();
    }
}

/// [`earliest`] then [`record`]: the schedule of requests all asked for at
/// `now` (the tests' model of the pacer).
#[cfg(test)]
fn reserve(
    log: &mut VecDeque<(Instant, ())>,
    windows: &[(Duration, u32)],
    now: Instant,
    hold: Option<Instant>,
) -> Instant {
    let at = earliest(
        log.iter().map(|e| (e.0, true)),
        log.len(),
        windows,
        now,
        hold,
    );
    record(log, windows, (at, ()));
    at
}

/// Shared, cheap-to-clone handle (the transport holds one).
pub(crate) type SharedGate = Arc<Gate>;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every trailing window of the planned send times holds at most its
    /// limit, with the headroom.
    fn check(times: &[Instant], windows: &[(Duration, u32)]) {
        for &(w, limit) in windows {
            for (i, t) in times.iter().enumerate() {
                let inside = times[..i]
                    .iter()
                    .filter(|s| *t < **s + w + HEADROOM)
                    .count();
                assert!(inside < limit as usize, "{i}: {inside} in {w:?}");
            }
        }
    }

    #[test]
    fn schedules_are_exact_for_both_windows() {
        let windows = RateLimits::PUBLISHED.post_windows();
        let t0 = Instant::now();
        let mut log = VecDeque::new();
        let times: Vec<_> = (0..100)
            .map(|_| reserve(&mut log, &windows, t0, None))
            .collect();
        check(&times, &windows);
        // One per second (plus the headroom), the 31st a minute after the first.
        let step = Duration::from_secs(1) + HEADROOM;
        assert_eq!(times[1] - t0, step);
        assert_eq!(times[29] - t0, step * 29);
        assert_eq!(times[30] - t0, Duration::from_secs(60) + HEADROOM);
        assert_eq!(
            times[99] - t0,
            (Duration::from_secs(60) + HEADROOM) * 3 + step * 9
        );
    }

    #[test]
    fn exact_at_any_time_scale() {
        let windows = RateLimits::PUBLISHED.with_time_scale(0.001).get_windows();
        let t0 = Instant::now();
        let mut log = VecDeque::new();
        let times: Vec<_> = (0..200)
            .map(|i| reserve(&mut log, &windows, t0 + Duration::from_micros(i * 37), None))
            .collect();
        check(&times, &windows);
        // 2 GETs per 1 ms window: the second at once, the third a window
        // (plus the headroom) after the first.
        assert_eq!(times[1] - t0, Duration::from_micros(37));
        assert_eq!(times[2] - t0, Duration::from_millis(1) + HEADROOM);
    }

    #[test]
    fn holds_and_unlimited_windows() {
        let windows = RateLimits::PUBLISHED.post_windows();
        let t0 = Instant::now();
        let mut log = VecDeque::new();
        let hold = t0 + Duration::from_secs(5);
        assert_eq!(reserve(&mut log, &windows, t0, Some(hold)), hold);
        let off = [
            (Duration::from_secs(1), u32::MAX),
            (Duration::from_secs(60), 0),
        ];
        let mut log = VecDeque::new();
        for _ in 0..10 {
            assert_eq!(reserve(&mut log, &off, t0, None), t0);
        }
        assert!(log.is_empty());
    }
}
