//! The fleet-wide pacer store (feature `redis`): the send times of each
//! method live in a Redis sorted set, and one Lua script checks and
//! reserves a slot atomically, on Redis's clock (`TIME`), so that every
//! process on one API key paces against the same windows.
//!
//! Keys: `identifai:pacer:<hash>:{post,get}` (the send times, scores in
//! microseconds), `...:pending` (the slots not answered yet), `...:seq`
//! and `...:hold` (no request before this, set by a 429),
//! where `<hash>` is the first 16 bytes of SHA-256 of the API key in hex:
//! the key itself never reaches Redis.

use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::OnceCell;

use crate::api::BoxFuture;
use crate::pacing::{Class, Pacer, PacerError, SharedSpec, SharedStore, HEADROOM, PATIENCE};

/// The longest the pacer waits for Redis (connecting or answering).
const REDIS_TIMEOUT: Duration = Duration::from_secs(5);

/// KEYS: log, hold, seq, pending. ARGV: headroom µs, patience µs, then
/// (window µs, limit) pairs. Returns {0, slot number} when one more request
/// fits now (and records it), else {µs to wait before asking again, 0}:
/// nothing is reserved ahead, so a request that goes out late never lets
/// the next one in early. A request that must leave a window but has no
/// answer yet (it is in `pending`) may not have reached the server yet
/// either: its answer is waited for (asking again every headroom), up to
/// one more window and at least the patience (as the in-process pacer does).
const RESERVE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local headroom = tonumber(ARGV[1])
local patience = tonumber(ARGV[2])
local at = now
local hold = tonumber(redis.call('GET', KEYS[2]) or '0')
if hold > at then at = hold end
local keep = 0
local longest = 0
local i = 3
while ARGV[i] do
  local w = tonumber(ARGV[i])
  local limit = tonumber(ARGV[i + 1])
  i = i + 2
  if limit > 0 then
    if limit > keep then keep = limit end
    if w > longest then longest = w end
    local n = redis.call('ZCARD', KEYS[1])
    if n >= limit then
      local pivot = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
      local sent = tonumber(pivot[2])
      local p = sent + w + headroom
      if p > at then at = p end
      local wait_to = sent + w + math.max(w, patience) + headroom
      if at <= now and now < wait_to and redis.call('HEXISTS', KEYS[4], pivot[1]) == 1 then
        at = math.min(now + headroom, wait_to)
      end
    end
  end
end
if keep == 0 then return {0, 0} end
if at > now then return {at - now, 0} end
local seq = redis.call('INCR', KEYS[3])
-- %d: a number this large would lose digits through tostring.
redis.call('ZADD', KEYS[1], string.format('%d', at), tostring(seq))
local n = redis.call('ZCARD', KEYS[1])
if n > keep then
  for _, gone in ipairs(redis.call('ZRANGE', KEYS[1], 0, n - keep - 1)) do
    redis.call('HDEL', KEYS[4], gone)
  end
  redis.call('ZREMRANGEBYRANK', KEYS[1], 0, n - keep - 1)
end
local ttl = math.ceil((at - now + longest * 2 + patience + headroom) / 1000) + 1000
redis.call('HSET', KEYS[4], tostring(seq), '1')
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[3], ttl)
redis.call('PEXPIRE', KEYS[4], ttl)
return {at - now, seq}
"#;

/// KEYS: log, pending. ARGV: seq. The request `seq` was seen by the server
/// by now: count it from now if that is later than its slot, and no longer
/// as pending.
const SEEN: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
redis.call('HDEL', KEYS[2], ARGV[1])
local old = redis.call('ZSCORE', KEYS[1], ARGV[1])
if old and now > tonumber(old) then
  redis.call('ZADD', KEYS[1], 'XX', string.format('%d', now), ARGV[1])
end
return 0
"#;

/// KEYS: hold. ARGV: pause µs. Holds the method until now + pause.
const HOLD: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local until_ = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if until_ > cur then
  redis.call('SET', KEYS[1], string.format('%d', until_), 'PX', math.ceil(tonumber(ARGV[1]) / 1000) + 1000)
end
return 0
"#;

impl Pacer {
    /// Send times kept in Redis at `url` (`redis://[:password@]host[:port][/db]`),
    /// so that every process pacing with the same URL and API key shares
    /// the limits. Only the URL is checked here; the connection is made at
    /// the first request, and a Redis that cannot be reached makes that
    /// request fail with [`crate::Error::Pacer`] (never silent local
    /// pacing). The windows are keyed by a hash of the API key, never the
    /// key.
    #[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
    pub fn redis(url: &str) -> crate::Result<Self> {
        Ok(Pacer::shared(RedisSpec::parse(url)?))
    }
}

impl SharedSpec for RedisSpec {
    fn open(&self, api_key: &str) -> Box<dyn SharedStore> {
        Box::new(RedisSpec::open(self, api_key))
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

    pub(crate) fn open(&self, api_key: &str) -> RedisStore {
        let digest = Sha256::digest(api_key.as_bytes());
        let prefix = format!("identifai:pacer:{}", hex::encode(&digest[..16]));
        RedisStore {
            client: self.client.clone(),
            shown: self.shown.clone(),
            prefix,
            conn: OnceCell::new(),
            reserve: redis::Script::new(RESERVE),
            seen: redis::Script::new(SEEN),
            hold: redis::Script::new(HOLD),
        }
    }
}

/// One client's connection to the shared windows.
pub(crate) struct RedisStore {
    client: redis::Client,
    shown: String,
    prefix: String,
    conn: OnceCell<redis::aio::MultiplexedConnection>,
    reserve: redis::Script,
    seen: redis::Script,
    hold: redis::Script,
}

impl RedisStore {
    fn unreachable(&self, e: impl std::fmt::Display) -> PacerError {
        PacerError(format!("Redis at {}: {e}", self.shown))
    }

    async fn conn(&self) -> Result<redis::aio::MultiplexedConnection, PacerError> {
        self.conn
            .get_or_try_init(|| async {
                match tokio::time::timeout(
                    REDIS_TIMEOUT,
                    self.client.get_multiplexed_async_connection(),
                )
                .await
                {
                    Ok(Ok(c)) => Ok(c),
                    Ok(Err(e)) => Err(self.unreachable(e)),
                    Err(_) => Err(self.unreachable("no connection within 5 s")),
                }
            })
            .await
            .cloned()
    }

    /// Takes a slot of `class` if one is free now: `(0, slot number)`
    /// (number 0: nothing is limited), else `(how long to wait, 0)`.
    pub(crate) async fn reserve(
        &self,
        class: Class,
        windows: &[(Duration, u32)],
    ) -> Result<(Duration, u64), PacerError> {
        let mut conn = self.conn().await?;
        let mut call = self.reserve.prepare_invoke();
        call.key(format!("{}:{}", self.prefix, class.name()))
            .key(format!("{}:{}:hold", self.prefix, class.name()))
            .key(format!("{}:{}:seq", self.prefix, class.name()))
            .key(format!("{}:{}:pending", self.prefix, class.name()))
            .arg(HEADROOM.as_micros() as u64)
            .arg(PATIENCE.as_micros() as u64);
        for &(window, limit) in windows {
            let limit = if limit == u32::MAX { 0 } else { limit };
            call.arg(window.as_micros().min(u64::MAX as u128) as u64)
                .arg(limit);
        }
        let (wait, seq): (i64, u64) =
            match tokio::time::timeout(REDIS_TIMEOUT, call.invoke_async(&mut conn)).await {
                Ok(Ok(w)) => w,
                Ok(Err(e)) => return Err(self.unreachable(e)),
                Err(_) => return Err(self.unreachable("no answer within 5 s")),
            };
        Ok((Duration::from_micros(wait.max(0) as u64), seq))
    }

    /// The request in slot `seq` was answered: count it from now (Redis's
    /// clock) if that is later. Best effort.
    pub(crate) async fn seen(&self, class: Class, seq: u64) {
        let Ok(mut conn) = self.conn().await else {
            return;
        };
        let mut call = self.seen.prepare_invoke();
        call.key(format!("{}:{}", self.prefix, class.name()))
            .key(format!("{}:{}:pending", self.prefix, class.name()))
            .arg(seq);
        let r: Result<Result<i64, _>, _> =
            tokio::time::timeout(REDIS_TIMEOUT, call.invoke_async(&mut conn)).await;
        if !matches!(r, Ok(Ok(_))) {
            tracing::debug!("could not update a send time in Redis");
        }
    }

    /// Holds `class` for `pause`, for every process. Best effort: the hold
    /// is also kept in this process.
    pub(crate) async fn hold(&self, class: Class, pause: Duration) {
        let Ok(mut conn) = self.conn().await else {
            return;
        };
        let mut call = self.hold.prepare_invoke();
        call.key(format!("{}:{}:hold", self.prefix, class.name()))
            .arg(pause.as_micros().min(u64::MAX as u128) as u64);
        let r: Result<Result<i64, _>, _> =
            tokio::time::timeout(REDIS_TIMEOUT, call.invoke_async(&mut conn)).await;
        if !matches!(r, Ok(Ok(_))) {
            tracing::debug!("could not share a 429 hold through Redis");
        }
    }
}
