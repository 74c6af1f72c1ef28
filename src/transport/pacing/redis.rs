//! The fleet-wide pacer store (feature `redis`): the send times of each
//! method live in a Redis sorted set, and one Lua script checks and
//! reserves a slot atomically, on the store's clock, so that every process
//! on one API key paces against the same windows.
//!
//! Keys, per method: `identifai:pacer:<hash>:{post,get}` (the send times,
//! scores in microseconds), `...:pending` (the slots not answered yet),
//! `...:seq`, `...:hold` (no request before this, set by a 429) and
//! `...:hold:set` (when it was set), `...:clock` (the store's clock),
//! `...:epoch` (which life of the store this is) and `...:lost` (the
//! store was found lost a moment ago), where `<hash>` is the first 16 bytes
//! of SHA-256 of the API key and the base URL in hex: the key itself never
//! reaches Redis, and two services on one key (two mock servers, staging
//! and production) each have their own windows, as they have their own
//! limits.
//!
//! **Faults.** A connection that fails is dropped and a new one made (at
//! once, once, if it was an old one: a blip costs nothing); the pacer asks
//! a failing Redis again within the request's retry budget
//! ([`crate::transport::pacing::STORE_RETRY_MAX`] apart at most).
//!
//! **The clock** is Redis's `TIME` plus an offset kept in `...:clock`, so
//! that it never goes back: when Redis's clock steps back, the store's
//! stands still until Redis's catches up (nothing waits longer), and a send
//! time or hold found in its future counts from now. A step forward is
//! taken back as soon as a client can tell: each call carries the latest
//! time the store's clock can read by the client's own monotonic clock
//! since its last call (plus [`CLOCK_SLACK`]), and the store's clock is
//! held to it. No wait the store gives is longer than the longest window
//! (plus the headroom): a hold longer than that is asked about again.
//!
//! **A lost store** (Redis restarted without persistence, flushed, failed
//! over, its keys expired early by a clock step): each client remembers
//! its own slots of the last windows and the store's epoch they were taken
//! in. A client that finds the epoch gone or changed while it has slots
//! that still count writes them back; the first to find it so holds every
//! request for [`RESTORE_GRACE`], long enough for every client that is
//! waiting on the store to come back and write its own. A process that
//! sent within the last window but asks nothing during the grace is not
//! restored: the server may then refuse, and the refusal policy holds the
//! key (fleet-wide).

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::{
    Class, Pacer, PacerError, SharedSpec, SharedStore, HEADROOM, PATIENCE, STORE_RETRY_MAX,
};
use crate::api::BoxFuture;

mod scripts;
use scripts::{HOLD, RESERVE, RESTORE, SEEN};

/// The longest the pacer waits for Redis (connecting or answering).
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// How far past what a client's own clock can account for the store's
/// clock may be before it is held back (the time a call takes to reach
/// Redis and run). A step forward smaller than this is not seen; a call
/// slower than this holds the store's clock back by the difference (at
/// worst one more window of waiting, never an early request).
pub(crate) const CLOCK_SLACK: Duration = Duration::from_millis(100);

/// How long every request waits once the store was found lost, for the
/// clients waiting on it to write their slots back: twice the longest
/// wait between two calls to a failing store.
pub(crate) const RESTORE_GRACE: Duration = STORE_RETRY_MAX.saturating_mul(2);

impl Pacer {
    /// Send times kept in Redis at `url` (`redis://[:password@]host[:port][/db]`),
    /// so that every process pacing with the same URL and API key shares
    /// the limits. Only the URL is checked here; the connection is made at
    /// the first request. A connection that fails is replaced, and a Redis
    /// that cannot be reached is asked again (a few times a second) until
    /// the request's retry budget ([`crate::config::RetryConfig::with_max_elapsed`])
    /// is spent: only then does the request fail, unsent, with
    /// [`crate::Error::Pacer`] (never silent local pacing). A Redis that
    /// restarts empty gets back the send times of the clients waiting on
    /// it, and a step of its clock costs at most one window. The windows
    /// are keyed by a hash of the API key and the base URL, never the key.
    ///
    /// The clients' waits share the same Redis: one client of the fleet
    /// polls every client's pending identifiers and hands the answers back
    /// through it (see [`crate::config::WaitConfig`]).
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(url: &str) -> crate::Result<Self> {
        Ok(Pacer::shared(RedisSpec::parse(url)?))
    }
}

impl SharedSpec for RedisSpec {
    fn open(&self, api_key: &str, base_url: &str) -> Box<dyn SharedStore> {
        Box::new(RedisSpec::open(self, api_key, base_url))
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl SharedStore for RedisStore {
    fn reserve<'a>(
        &'a self,
        class: Class,
        windows: &'a [(Duration, u32)],
    ) -> BoxFuture<'a, Result<(Duration, u64), PacerError>> {
        Box::pin(RedisStore::reserve(self, class, windows))
    }

    fn seen(&self, class: Class, seq: u64) -> BoxFuture<'_, ()> {
        Box::pin(RedisStore::seen(self, class, seq))
    }

    fn hold(&self, class: Class, pause: Duration) -> BoxFuture<'_, ()> {
        Box::pin(RedisStore::hold(self, class, pause))
    }

    fn unreachable(&self, why: &str) -> PacerError {
        RedisStore::unreachable(self, why)
    }
}

/// A parsed Redis URL (connected later).
#[derive(Clone)]
pub(crate) struct RedisSpec {
    client: redis::Client,
    /// For `Debug`: host and port only (no password).
    shown: String,
}

impl std::fmt::Debug for RedisSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Redis").field(&self.shown).finish()
    }
}

impl RedisSpec {
    pub(crate) fn parse(url: &str) -> crate::Result<Self> {
        let bad = |reason: String| crate::InputError::InvalidSetting {
            setting: "pacer",
            reason,
        };
        let parsed = url::Url::parse(url.trim()).map_err(|e| bad(format!("not a URL: {e}")))?;
        if !matches!(parsed.scheme(), "redis" | "rediss" | "redis+unix" | "unix") {
            return Err(bad(format!(
                "`{}:` is not a Redis URL (expected redis://host:port)",
                parsed.scheme()
            ))
            .into());
        }
        let shown = format!(
            "{}://{}{}",
            parsed.scheme(),
            parsed.host_str().unwrap_or(""),
            parsed.port().map(|p| format!(":{p}")).unwrap_or_default()
        );
        let client = redis::Client::open(url.trim()).map_err(|e| bad(e.to_string()))?;
        Ok(Self { client, shown })
    }

    pub(crate) fn open(&self, api_key: &str, base_url: &str) -> RedisStore {
        // As the fleet's poll board keys its own (`wait::fleet`).
        let mut h = Sha256::new();
        h.update(api_key.as_bytes());
        h.update(b"\n");
        h.update(base_url.as_bytes());
        let prefix = format!("identifai:pacer:{}", hex::encode(&h.finalize()[..16]));
        RedisStore {
            conn: self.connection(),
            keys: [
                Keys::new(&prefix, Class::Post),
                Keys::new(&prefix, Class::Get),
            ],
            memory: Mutex::default(),
            reserve: redis::Script::new(RESERVE),
            restore: redis::Script::new(RESTORE),
            seen: redis::Script::new(SEEN),
            hold: redis::Script::new(HOLD),
        }
    }

    /// A connection to this Redis of its own, made at its first call.
    pub(crate) fn connection(&self) -> Conn {
        Conn {
            client: self.client.clone(),
            shown: self.shown.clone(),
            cached: tokio::sync::Mutex::new(Cached::default()),
        }
    }
}

/// The key names of one method.
struct Keys {
    clock: String,
    log: String,
    hold: String,
    holdset: String,
    seq: String,
    pending: String,
    epoch: String,
    lost: String,
}

impl Keys {
    /// The first `n` keys, in the order every script numbers its `KEYS`.
    fn first(&self, n: usize) -> impl Iterator<Item = &String> {
        [
            &self.clock,
            &self.log,
            &self.hold,
            &self.holdset,
            &self.seq,
            &self.pending,
            &self.epoch,
            &self.lost,
        ]
        .into_iter()
        .take(n)
    }

    fn new(prefix: &str, class: Class) -> Self {
        let log = format!("{prefix}:{}", class.name());
        Self {
            clock: format!("{log}:clock"),
            hold: format!("{log}:hold"),
            holdset: format!("{log}:hold:set"),
            seq: format!("{log}:seq"),
            pending: format!("{log}:pending"),
            epoch: format!("{log}:epoch"),
            lost: format!("{log}:lost"),
            log,
        }
    }
}

/// The connection in use, if any, and its number (so that a failure on an
/// old connection never drops a newer one).
#[derive(Default)]
struct Cached {
    conn: Option<(u64, redis::aio::MultiplexedConnection)>,
    made: u64,
}

/// What one client knows of one method's windows in the store.
#[derive(Default)]
struct Memory {
    /// Its own slots that may still count, oldest first: written back if
    /// the store loses them.
    own: VecDeque<Own>,
    /// The store's epoch they were taken in.
    epoch: String,
    /// How long a slot may count (the longest window and the patience for
    /// its answer), and how many are kept: from the last reservation.
    horizon: Duration,
    keep: usize,
    /// The last reading of the store's clock: when the call that read it
    /// was sent (by this process's monotonic clock), and what it read.
    clock: Option<(Instant, i64)>,
}

/// One of a client's slots.
struct Own {
    /// When it was taken, or later answered.
    at: Instant,
    seq: u64,
    answered: bool,
}

impl Memory {
    /// The latest time the store's clock can read now, by this process's
    /// clock (0: no reading yet).
    fn bound(&self) -> i64 {
        self.clock.map_or(0, |(sent, read)| {
            let since = sent.elapsed().saturating_add(CLOCK_SLACK);
            read.saturating_add(since.as_micros().min(i64::MAX as u128) as i64)
        })
    }

    /// The epoch of this client's slots that still count ('' if none).
    fn mine(&mut self) -> String {
        let horizon = self.horizon;
        while self.own.front().is_some_and(|o| o.at.elapsed() >= horizon) {
            self.own.pop_front();
        }
        if self.own.is_empty() {
            String::new()
        } else {
            self.epoch.clone()
        }
    }
}

/// One client's connection to the shared windows.
pub(crate) struct RedisStore {
    conn: Conn,
    /// Per class.
    keys: [Keys; 2],
    /// Per class.
    memory: Mutex<[Memory; 2]>,
    reserve: redis::Script,
    restore: redis::Script,
    seen: redis::Script,
    hold: redis::Script,
}

/// One connection to Redis, made at the first call and made again after
/// a failure (shared by the pacer's store and the fleet's poll board).
pub(crate) struct Conn {
    client: redis::Client,
    shown: String,
    cached: tokio::sync::Mutex<Cached>,
}

impl Conn {
    pub(crate) fn unreachable(&self, e: impl std::fmt::Display) -> PacerError {
        PacerError(format!("Redis at {}: {e}", self.shown))
    }

    /// The connection in use (and its number, and whether it was made
    /// now), or a new one.
    async fn conn(&self) -> Result<(u64, bool, redis::aio::MultiplexedConnection), PacerError> {
        let mut cached = self.cached.lock().await;
        if let Some((n, conn)) = &cached.conn {
            return Ok((*n, false, conn.clone()));
        }
        let conn = match tokio::time::timeout(
            REDIS_TIMEOUT,
            self.client.get_multiplexed_async_connection(),
        )
        .await
        {
            Ok(Ok(c)) => c,
            Ok(Err(e)) => return Err(self.unreachable(e)),
            Err(_) => return Err(self.unreachable("no connection within 5 s")),
        };
        cached.made += 1;
        let n = cached.made;
        cached.conn = Some((n, conn.clone()));
        Ok((n, true, conn))
    }

    /// Drops connection `n` if it is still the one in use: the next call
    /// makes a new one.
    async fn forget(&self, n: u64) {
        let mut cached = self.cached.lock().await;
        if cached.conn.as_ref().is_some_and(|c| c.0 == n) {
            cached.conn = None;
        }
    }

    /// Runs `call`. A connection that fails is dropped; if it was an old
    /// one (cut while idle: a restart, a proxy, Redis's `timeout`), the
    /// call is made again at once on a new one.
    pub(crate) async fn invoke<T: redis::FromRedisValue>(
        &self,
        call: &redis::ScriptInvocation<'_>,
    ) -> Result<T, PacerError> {
        let mut again = true;
        loop {
            let (n, fresh, mut conn) = self.conn().await?;
            let why = match tokio::time::timeout(REDIS_TIMEOUT, call.invoke_async(&mut conn)).await
            {
                Ok(Ok(v)) => return Ok(v),
                Ok(Err(e)) => e.to_string(),
                Err(_) => {
                    // A Redis that does not answer is not asked again at once.
                    again = false;
                    "no answer within 5 s".to_string()
                }
            };
            self.forget(n).await;
            if fresh || !again {
                return Err(self.unreachable(why));
            }
            tracing::debug!(error = %why, "a Redis connection failed; trying a new one");
            again = false;
        }
    }
}

impl RedisStore {
    fn unreachable(&self, e: impl std::fmt::Display) -> PacerError {
        self.conn.unreachable(e)
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, [Memory; 2]> {
        // Plain values: still usable after a panic elsewhere.
        self.memory.lock().unwrap_or_else(|e| e.into_inner())
    }

    async fn invoke<T: redis::FromRedisValue>(
        &self,
        call: &redis::ScriptInvocation<'_>,
    ) -> Result<T, PacerError> {
        self.conn.invoke(call).await
    }

    /// Takes a slot of `class` if one is free now: `(0, slot number)`
    /// (number 0: nothing is limited), else `(how long to wait, 0)`.
    pub(crate) async fn reserve(
        &self,
        class: Class,
        windows: &[(Duration, u32)],
    ) -> Result<(Duration, u64), PacerError> {
        let keys = &self.keys[class.index()];
        let longest = windows
            .iter()
            .filter(|w| w.1 != 0 && w.1 != u32::MAX)
            .map(|w| w.0)
            .max()
            .unwrap_or_default();
        let keep = windows
            .iter()
            .filter(|w| w.1 != 0 && w.1 != u32::MAX)
            .map(|w| w.1 as usize)
            .max()
            .unwrap_or(0);
        let horizon = longest + longest.max(PATIENCE) + HEADROOM;
        // Written back at most a few times in a row (the store lost again
        // meanwhile): then asked again through the pacer's loop.
        for _ in 0..4 {
            let (bound, mine) = {
                let mut memory = self.memory();
                let m = &mut memory[class.index()];
                m.horizon = horizon;
                m.keep = keep;
                (m.bound(), m.mine())
            };
            let mut call = self.reserve.prepare_invoke();
            for key in keys.first(8) {
                call.key(key);
            }
            call.arg(bound)
                .arg(micros(HEADROOM))
                .arg(micros(PATIENCE))
                .arg(&mine)
                .arg(micros(RESTORE_GRACE));
            for &(window, limit) in windows {
                let limit = if limit == u32::MAX { 0 } else { limit };
                call.arg(micros(window)).arg(limit);
            }
            let sent = Instant::now();
            let (wait, seq, now, epoch): (i64, u64, i64, String) = self.invoke(&call).await?;
            let own = {
                let mut memory = self.memory();
                let m = &mut memory[class.index()];
                if now > 0 {
                    m.clock = Some((sent, now));
                }
                if wait >= 0 && m.epoch != epoch {
                    // A new store: the slots of the old one (if any) no
                    // longer count.
                    m.own.clear();
                    m.epoch = epoch.clone();
                }
                if seq != 0 {
                    m.own.push_back(Own {
                        at: Instant::now(),
                        seq,
                        answered: false,
                    });
                    while m.own.len() > keep {
                        m.own.pop_front();
                    }
                }
                if wait >= 0 {
                    return Ok((Duration::from_micros(wait as u64), seq));
                }
                // The store lost this client's slots: write them back.
                m.own
                    .iter()
                    .map(|o| (micros(o.at.elapsed()), o.seq, u8::from(o.answered)))
                    .collect::<Vec<_>>()
            };
            tracing::info!(
                slots = own.len(),
                "the shared pacer's store was lost (Redis restarted?): writing this client's send times back"
            );
            let ttl = (longest * 2 + PATIENCE + HEADROOM).as_millis() as u64 + 1000;
            let bound = self.memory()[class.index()].bound();
            let mut call = self.restore.prepare_invoke();
            for key in keys.first(7) {
                call.key(key);
            }
            call.arg(bound).arg(&epoch).arg(keep).arg(ttl);
            for (age, seq, answered) in own {
                call.arg(age).arg(seq).arg(answered);
            }
            let (written, _now): (i64, i64) = self.invoke(&call).await?;
            if written == 1 {
                self.memory()[class.index()].epoch = epoch;
            }
        }
        Ok((HEADROOM, 0))
    }

    /// The request in slot `seq` was answered: count it from now (the
    /// store's clock) if that is later. Best effort.
    pub(crate) async fn seen(&self, class: Class, seq: u64) {
        let keys = &self.keys[class.index()];
        let bound = {
            let mut memory = self.memory();
            let m = &mut memory[class.index()];
            if let Some(o) = m.own.iter_mut().find(|o| o.seq == seq) {
                o.at = Instant::now();
                o.answered = true;
            }
            m.bound()
        };
        let mut call = self.seen.prepare_invoke();
        for key in keys.first(6) {
            call.key(key);
        }
        call.arg(bound).arg(seq);
        if let Err(e) = self.invoke::<i64>(&call).await {
            tracing::debug!(error = %e, "could not update a send time in Redis");
        }
    }

    /// Holds `class` for `pause`, for every process. Best effort: the hold
    /// is also kept in this process.
    pub(crate) async fn hold(&self, class: Class, pause: Duration) {
        let keys = &self.keys[class.index()];
        let bound = self.memory()[class.index()].bound();
        let mut call = self.hold.prepare_invoke();
        for key in keys.first(4) {
            call.key(key);
        }
        call.arg(bound).arg(micros(pause));
        if let Err(e) = self.invoke::<i64>(&call).await {
            tracing::debug!(error = %e, "could not share a 429 hold through Redis");
        }
    }
}

/// `d` in whole microseconds, saturated.
fn micros(d: Duration) -> u64 {
    d.as_micros().min(u64::MAX as u128) as u64
}

/// The store against a real `redis-server` of each test's own (skipped
/// when none is installed, except under `CI=true`). Steps of Redis's clock
/// are made by moving the store's clock offset: the store reads Redis's
/// `TIME` plus it, so that is the same step as far as it can tell.
#[cfg(test)]
mod tests {
    use super::*;

    use crate::transport::pacing::test_redis::RedisServer as Redis;

    /// The store of test `redis`, on the test's own server.
    fn store_on(redis: &Redis) -> RedisStore {
        RedisSpec::parse(&redis.url())
            .unwrap()
            .open("test-key", "http://127.0.0.1:1")
    }

    /// 5 POSTs a minute.
    const WINDOWS: [(Duration, u32); 1] = [(Duration::from_secs(60), 5)];
    const TEN_MINUTES: &str = "600000000";

    /// Takes the 5 slots of the minute.
    async fn fill(store: &RedisStore) {
        for _ in 0..5 {
            let (wait, seq) = store.reserve(Class::Post, &WINDOWS).await.unwrap();
            assert!(wait.is_zero() && seq != 0, "{wait:?} {seq}");
        }
    }

    /// Redis's clock moved by `by` µs, as the store sees it.
    fn step(redis: &Redis, store: &RedisStore, by: &str) {
        let clock = &store.keys[Class::Post.index()].clock;
        redis.cli(&["HINCRBY", clock, "offset", by]);
    }

    #[tokio::test]
    async fn a_step_forward_of_redis_clock_lets_nothing_out_early() {
        let Some(redis) = Redis::start("a_step_forward_of_redis_clock_lets_nothing_out_early")
        else {
            return;
        };
        let store = store_on(&redis);
        fill(&store).await;
        step(&redis, &store, TEN_MINUTES);
        let (wait, seq) = store.reserve(Class::Post, &WINDOWS).await.unwrap();
        assert_eq!(seq, 0, "a slot 10 minutes early");
        assert!(wait > Duration::from_secs(50), "{wait:?}");
    }

    #[tokio::test]
    async fn a_step_back_of_redis_clock_costs_at_most_one_window() {
        let Some(redis) = Redis::start("a_step_back_of_redis_clock_costs_at_most_one_window")
        else {
            return;
        };
        let store = store_on(&redis);
        fill(&store).await;
        step(&redis, &store, &format!("-{TEN_MINUTES}"));
        let (wait, seq) = store.reserve(Class::Post, &WINDOWS).await.unwrap();
        assert_eq!(seq, 0);
        assert!(wait <= WINDOWS[0].0 + HEADROOM, "{wait:?}");
        // A client that never read the clock before is told the same.
        let (wait, _) = store_on(&redis)
            .reserve(Class::Post, &WINDOWS)
            .await
            .unwrap();
        assert!(wait <= WINDOWS[0].0 + HEADROOM, "{wait:?}");
    }

    #[tokio::test]
    async fn no_wait_is_longer_than_the_longest_window() {
        let Some(redis) = Redis::start("no_wait_is_longer_than_the_longest_window") else {
            return;
        };
        let store = store_on(&redis);
        store.hold(Class::Post, Duration::from_secs(600)).await;
        let (wait, seq) = store.reserve(Class::Post, &WINDOWS).await.unwrap();
        assert_eq!(seq, 0, "held");
        assert!(
            wait > Duration::ZERO && wait <= WINDOWS[0].0 + HEADROOM,
            "{wait:?}"
        );
    }

    /// The log keeps the send times the longest window's limit needs, no
    /// more; an answered slot is no longer pending.
    #[tokio::test]
    async fn the_log_keeps_the_limit_and_an_answered_slot_is_not_pending() {
        let Some(redis) =
            Redis::start("the_log_keeps_the_limit_and_an_answered_slot_is_not_pending")
        else {
            return;
        };
        let store = store_on(&redis);
        let windows = [(Duration::from_millis(100), 2)];
        let mut sent = 0;
        for _ in 0..200 {
            let (wait, seq) = store.reserve(Class::Post, &windows).await.unwrap();
            if seq != 0 {
                store.seen(Class::Post, seq).await;
                sent += 1;
                if sent == 5 {
                    break;
                }
            }
            tokio::time::sleep(wait).await;
        }
        assert_eq!(sent, 5, "five slots over three windows");
        let keys = &store.keys[Class::Post.index()];
        assert_eq!(redis.cli(&["ZCARD", &keys.log]).trim(), "2");
        // Every slot was answered (`seen`): none is pending.
        assert_eq!(redis.cli(&["HLEN", &keys.pending]).trim(), "0");
    }

    /// Redis emptied under a client (a restart without persistence): the
    /// client's slots are written back, and every client waits the grace
    /// for the others' first.
    #[tokio::test]
    async fn a_lost_store_gets_the_send_times_of_its_clients_back() {
        let Some(redis) = Redis::start("a_lost_store_gets_the_send_times_of_its_clients_back")
        else {
            return;
        };
        let store = store_on(&redis);
        fill(&store).await;
        assert_eq!(redis.cli(&["FLUSHALL"]).trim(), "OK");
        let (wait, seq) = store.reserve(Class::Post, &WINDOWS).await.unwrap();
        assert_eq!(seq, 0, "a slot past the 5 of the minute");
        assert!(wait > Duration::ZERO && wait <= RESTORE_GRACE, "{wait:?}");
        // A client with no slots of its own waits the grace too.
        let other = store_on(&redis);
        let (wait, seq) = other.reserve(Class::Post, &WINDOWS).await.unwrap();
        assert_eq!(seq, 0);
        assert!(wait > Duration::ZERO && wait <= RESTORE_GRACE, "{wait:?}");
        tokio::time::sleep(RESTORE_GRACE).await;
        for s in [&store, &other] {
            let (wait, seq) = s.reserve(Class::Post, &WINDOWS).await.unwrap();
            assert_eq!(seq, 0, "the minute still holds 5");
            assert!(wait > Duration::from_secs(50), "{wait:?}");
        }
    }
}
