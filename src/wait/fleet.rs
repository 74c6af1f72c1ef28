//! One poller for a fleet (feature `redis`): the processes whose pacer is
//! in Redis ([`crate::config::Pacer::redis`]) share their pending identifiers
//! there; one of them, the leader, polls them all through the list
//! endpoints and hands every finished answer back through Redis. Four
//! processes on one key then cost the GETs of one, and each result reaches
//! its process about one poll interval after it is done.
//!
//! Keys, under `identifai:poll:<hash>` (the first 16 bytes of SHA-256 of
//! the API key and base URL, in hex; the key itself never reaches Redis):
//! - `:leader`: the leader's token, a lease of three poll intervals it
//!   renews every interval and gives up when it has nothing left to wait
//!   for (another process takes over at its next tick, a tenth of an
//!   interval: see [`Timing`]);
//! - `:pending`: a sorted set of `<kind>|<identifier>` (`any|...` when the
//!   kind is not known yet), each scored by when it lapses unless its
//!   process renews it (every interval, lapsing after ten): a process that
//!   dies leaves nothing polled for long;
//! - `:done:<identifier>`: a finished answer (`<kind>` and the raw JSON on
//!   the next line, or `ask`: the waiter asks on its own, for a typed error)
//!   kept [`KEEP`];
//! - `:failing`: why the leader's last round failed, when it did, so that
//!   every process's waits end with the cause rather than a timeout.
//!
//! A follower that cannot reach Redis polls on its own that round (through
//! the pacer, which then also waits for Redis).

use std::time::Duration;

/// The fleet's timing, in poll intervals ([`crate::config::WaitConfig::initial_interval`],
/// 1 s by default), so that a time-scaled run scales it too.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Timing {
    /// How often a follower collects its answers and bids for the lead.
    pub(crate) tick: Duration,
    /// How often a process renews its pending identifiers (and a leader
    /// between rounds its lease).
    pub(crate) renew: Duration,
    /// How long a leader's lease lasts without renewal.
    pub(crate) lease: Duration,
    /// How long a pending identifier stays without renewal.
    pub(crate) lapse: Duration,
}

impl Timing {
    pub(crate) fn of(interval: Duration) -> Self {
        let interval = interval.max(Duration::from_millis(10));
        Timing {
            tick: interval / 10,
            renew: interval,
            lease: interval * 3,
            lapse: interval * 10,
        }
    }
}

/// How long a finished answer is kept for its waiters.
#[cfg(feature = "redis")]
pub(crate) const KEEP: Duration = Duration::from_secs(600);
/// The most identifiers a leader takes from the fleet a round.
#[cfg(feature = "redis")]
pub(crate) const MAX_FLEET: usize = 10_000;

/// A finished answer as it travels through Redis.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Delivery {
    /// Done or errored: the kind and the raw JSON.
    Answer(crate::Kind, String),
    /// The leader got an error for it that is not a result: its waiter
    /// asks on its own, for the typed error.
    Ask,
}

#[cfg(feature = "redis")]
impl Delivery {
    pub(crate) fn encode(&self) -> String {
        match self {
            Delivery::Answer(kind, json) => format!("{kind}\n{json}"),
            Delivery::Ask => "ask".into(),
        }
    }

    /// `None` for a value no version of this protocol writes.
    pub(crate) fn decode(s: &str) -> Option<Self> {
        if s == "ask" {
            return Some(Delivery::Ask);
        }
        let (kind, json) = s.split_once('\n')?;
        Some(Delivery::Answer(kind.parse().ok()?, json.to_string()))
    }
}

/// Why the leader's last round failed, as it travels through Redis: the
/// errors a wait may end with instead of a timeout.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub(crate) enum Failing {
    RateLimited {
        retry_after_ms: Option<u64>,
        message: Option<String>,
        refusals: u32,
        over_ms: u64,
        breaker_open: bool,
    },
    Server {
        status: u16,
        snippet: Option<String>,
    },
}

impl Failing {
    pub(crate) fn of(e: &crate::Error) -> Option<Self> {
        match e {
            crate::Error::RateLimited {
                retry_after,
                message,
                refusals,
                over,
                breaker_open,
            } => Some(Failing::RateLimited {
                retry_after_ms: retry_after.map(|d| d.as_millis() as u64),
                message: message.clone(),
                refusals: *refusals,
                over_ms: over.as_millis() as u64,
                breaker_open: *breaker_open,
            }),
            crate::Error::Server { status, snippet } => Some(Failing::Server {
                status: *status,
                snippet: snippet.clone(),
            }),
            _ => None,
        }
    }

    pub(crate) fn error(self) -> crate::Error {
        match self {
            Failing::RateLimited {
                retry_after_ms,
                message,
                refusals,
                over_ms,
                breaker_open,
            } => crate::Error::RateLimited {
                retry_after: retry_after_ms.map(Duration::from_millis),
                message,
                refusals,
                over: Duration::from_millis(over_ms),
                breaker_open,
            },
            Failing::Server { status, snippet } => crate::Error::Server { status, snippet },
        }
    }
}

/// The fleet's shared pending identifiers and answers (in Redis).
#[cfg(feature = "redis")]
pub(crate) struct Board {
    conn: crate::transport::pacing::redis::Conn,
    leader: String,
    round: String,
    pending: String,
    done: String,
    failing: String,
    lead: redis::Script,
    register: redis::Script,
    list: redis::Script,
    deliver: redis::Script,
    collect: redis::Script,
}

/// Without Redis there is no fleet: a type with no value, so that the
/// poller's code is the same in every build.
#[cfg(not(feature = "redis"))]
pub(crate) enum Board {}

#[cfg(feature = "redis")]
mod lua {
    /// KEYS: leader, round. ARGV: token, lease ms, '1' to give it up.
    /// {1, ..}: the caller leads (until the lease lapses); a caller that
    /// takes the lead over also learns how long ago (ms) the last leader's
    /// last round ended ({1, -1} when it renews, or nobody polled lately).
    pub(super) const LEAD: &str = r#"
local cur = redis.call('GET', KEYS[1])
if ARGV[3] == '1' then
  if cur == ARGV[1] then redis.call('DEL', KEYS[1]) end
  return {0, -1}
end
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, -1}
end
if not cur then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  local last = tonumber(redis.call('GET', KEYS[2]))
  if last then
    local t = redis.call('TIME')
    local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
    return {1, math.max(now - last, 0)}
  end
  return {1, -1}
end
return {0, -1}
"#;

    /// KEYS: pending. ARGV: lapse ms, then members. Renews them.
    pub(super) const REGISTER: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lapse = tonumber(ARGV[1])
for i = 2, #ARGV do
  redis.call('ZADD', KEYS[1], now + lapse, ARGV[i])
end
redis.call('PEXPIRE', KEYS[1], lapse * 2)
return #ARGV - 1
"#;

    /// KEYS: pending. ARGV: the most to return. The members that have not
    /// lapsed (the lapsed ones are removed).
    pub(super) const LIST: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
"#;

    /// KEYS: pending, failing, round. ARGV: keep ms, failing ('' for none),
    /// the number n of answers, n (key, value) pairs, then the members
    /// answered. Notes when this round ended, for the next leader.
    pub(super) const DELIVER: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', KEYS[3], now, 'PX', 60000)
if ARGV[2] == '' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', 5000)
end
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  redis.call('SET', ARGV[4 + 2 * i], ARGV[5 + 2 * i], 'PX', ARGV[1])
end
for i = 4 + 2 * n, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
end
return n
"#;

    /// KEYS: failing. ARGV: answer keys. The failing cause, then each value.
    pub(super) const COLLECT: &str = r#"
local out = {redis.call('GET', KEYS[1])}
if #ARGV > 0 then
  local got = redis.call('MGET', unpack(ARGV))
  for i = 1, #got do out[i + 1] = got[i] end
end
return out
"#;
}

#[cfg(feature = "redis")]
type BoardResult<T> = std::result::Result<T, crate::transport::pacing::PacerError>;

/// Answers collected in one call at most (Lua's `unpack` has a limit).
#[cfg(feature = "redis")]
const COLLECT_CHUNK: usize = 1000;

#[cfg(feature = "redis")]
impl Board {
    pub(crate) fn new(
        conn: crate::transport::pacing::redis::Conn,
        api_key: &str,
        base_url: &str,
    ) -> Self {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(api_key.as_bytes());
        h.update(b"\n");
        h.update(base_url.as_bytes());
        let prefix = format!("identifai:poll:{}", hex::encode(&h.finalize()[..16]));
        Self {
            conn,
            leader: format!("{prefix}:leader"),
            round: format!("{prefix}:round"),
            pending: format!("{prefix}:pending"),
            done: format!("{prefix}:done:"),
            failing: format!("{prefix}:failing"),
            lead: redis::Script::new(lua::LEAD),
            register: redis::Script::new(lua::REGISTER),
            list: redis::Script::new(lua::LIST),
            deliver: redis::Script::new(lua::DELIVER),
            collect: redis::Script::new(lua::COLLECT),
        }
    }

    /// Takes or renews the lease for `token` (gives it up with `release`):
    /// whether `token` leads now, and, when it has just taken the lead
    /// over, how long ago the last leader's last round ended.
    pub(crate) async fn lead(
        &self,
        token: &str,
        lease: Duration,
        release: bool,
    ) -> BoardResult<(bool, Option<Duration>)> {
        let mut call = self.lead.prepare_invoke();
        call.key(&self.leader)
            .key(&self.round)
            .arg(token)
            .arg(lease.as_millis().max(1) as u64)
            .arg(if release { "1" } else { "0" });
        let (leads, since): (i64, i64) = self.conn.invoke(&call).await?;
        let since = u64::try_from(since).ok().map(Duration::from_millis);
        Ok((leads == 1, since))
    }

    /// Renews `members` (`<kind>|<identifier>`) for `lapse`.
    pub(crate) async fn register(&self, members: &[String], lapse: Duration) -> BoardResult<()> {
        if members.is_empty() {
            return Ok(());
        }
        let mut call = self.register.prepare_invoke();
        call.key(&self.pending).arg(lapse.as_millis().max(1) as u64);
        for m in members {
            call.arg(m);
        }
        self.conn.invoke::<i64>(&call).await.map(drop)
    }

    /// Every member some process waits for.
    pub(crate) async fn pending(&self) -> BoardResult<Vec<String>> {
        let mut call = self.list.prepare_invoke();
        call.key(&self.pending).arg(MAX_FLEET);
        self.conn.invoke(&call).await
    }

    /// Hands `answers` over, drops the `members` they answer, and says why
    /// the round failed (`None`: it did not).
    pub(crate) async fn deliver(
        &self,
        answers: &[(String, Delivery)],
        members: &[String],
        failing: Option<&Failing>,
    ) -> BoardResult<()> {
        let mut call = self.deliver.prepare_invoke();
        let failing = failing
            .and_then(|f| serde_json::to_string(f).ok())
            .unwrap_or_default();
        call.key(&self.pending)
            .key(&self.failing)
            .key(&self.round)
            .arg(KEEP.as_millis() as u64)
            .arg(failing)
            .arg(answers.len());
        for (id, d) in answers {
            call.arg(format!("{}{id}", self.done)).arg(d.encode());
        }
        for m in members {
            call.arg(m);
        }
        self.conn.invoke::<i64>(&call).await.map(drop)
    }

    /// The answers delivered for `ids` (in order), and why the leader's
    /// last round failed.
    pub(crate) async fn collect(
        &self,
        ids: &[String],
    ) -> BoardResult<(Vec<Option<Delivery>>, Option<Failing>)> {
        let mut out = Vec::with_capacity(ids.len());
        let mut failing = None;
        let mut chunks: Vec<&[String]> = ids.chunks(COLLECT_CHUNK).collect();
        if chunks.is_empty() {
            chunks.push(&[]);
        }
        for chunk in chunks {
            let mut call = self.collect.prepare_invoke();
            call.key(&self.failing);
            for id in chunk {
                call.arg(format!("{}{id}", self.done));
            }
            let got: Vec<Option<String>> = self.conn.invoke(&call).await?;
            let mut got = got.into_iter();
            if let Some(Some(f)) = got.next() {
                failing = serde_json::from_str(&f).ok();
            }
            out.extend(got.map(|v| v.as_deref().and_then(Delivery::decode)));
        }
        out.resize(ids.len(), None);
        Ok((out, failing))
    }
}

#[cfg(not(feature = "redis"))]
#[allow(clippy::unused_async)]
impl Board {
    pub(crate) async fn lead(
        &self,
        _: &str,
        _: Duration,
        _: bool,
    ) -> Result<(bool, Option<Duration>), crate::transport::pacing::PacerError> {
        match *self {}
    }
    pub(crate) async fn register(
        &self,
        _: &[String],
        _: Duration,
    ) -> Result<(), crate::transport::pacing::PacerError> {
        match *self {}
    }
    pub(crate) async fn pending(
        &self,
    ) -> Result<Vec<String>, crate::transport::pacing::PacerError> {
        match *self {}
    }
    pub(crate) async fn deliver(
        &self,
        _: &[(String, Delivery)],
        _: &[String],
        _: Option<&Failing>,
    ) -> Result<(), crate::transport::pacing::PacerError> {
        match *self {}
    }
    #[allow(clippy::type_complexity)]
    pub(crate) async fn collect(
        &self,
        _: &[String],
    ) -> Result<(Vec<Option<Delivery>>, Option<Failing>), crate::transport::pacing::PacerError>
    {
        match *self {}
    }
}
