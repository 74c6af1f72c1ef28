//! The pacer store's Lua scripts, each run atomically by Redis: reserve a
//! slot, write a lost store's slots back, record an answer, hold after a
//! 429. Each starts with the shared prelude (`prelude_lua!`): the store's
//! clock and the log's trim.

/// The prelude of every script. The store's clock: `clock(keys, bound)` returns
/// now (µs) and the offset to Redis's `TIME`; `keep_clock` stores them.
/// `keys` names the clock, log, hold and hold:set keys. Redis's clock
/// stepping back stands the store's still (never before the last reading,
/// nor, when the clock is lost, before the latest time stored); `bound` (0:
/// none), a client's proof of how far it can be, takes a step forward back.
/// `trim(log, pending, keep)` keeps the newest `keep` send times of the
/// log and forgets the pending marks of the ones dropped.
macro_rules! prelude_lua {
    () => {
        r#"
local function fmt(x) return string.format('%d', x) end
local function clock(keys, bound)
  local t = redis.call('TIME')
  local raw = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local c = redis.call('HMGET', keys.clock, 'offset', 'last')
  local offset = tonumber(c[1]) or 0
  local last = tonumber(c[2])
  if not last then
    last = 0
    local top = redis.call('ZRANGE', keys.log, -1, -1, 'WITHSCORES')
    if top[2] then last = tonumber(top[2]) end
    local set = tonumber(redis.call('GET', keys.holdset))
    if set and set > last then last = set end
  end
  local now = raw + offset
  if bound > 0 and now > bound then now = bound end
  if now < last then now = last end
  return now, now - raw
end
local function trim(log, pending, keep)
  local n = redis.call('ZCARD', log)
  if n > keep then
    for _, gone in ipairs(redis.call('ZRANGE', log, 0, n - keep - 1)) do
      redis.call('HDEL', pending, gone)
    end
    redis.call('ZREMRANGEBYRANK', log, 0, n - keep - 1)
  end
end
local function keep_clock(key, now, offset, ttl)
  if ttl or redis.call('EXISTS', key) == 1 then
    redis.call('HSET', key, 'offset', fmt(offset), 'last', fmt(now))
    if ttl then redis.call('PEXPIRE', key, ttl) end
  end
end
"#
    };
}

/// KEYS: clock, log, hold, hold:set, seq, pending, epoch, lost. ARGV: clock
/// bound µs, headroom µs, patience µs, the caller's epoch ('' when it has
/// no slot that still counts), grace µs, then (window µs, limit) pairs.
/// Returns {wait µs, slot number, now, epoch}: {0, n, ..} when one more
/// request fits now (and records it), {µs to wait before asking again, 0,
/// ..} when not, {-1, 0, ..} when the caller must first write back its
/// slots (the store was lost since it took them). Nothing is reserved
/// ahead, so a request that goes out late never lets the next one in
/// early. A request that must leave a window but has no answer yet (it is
/// in `pending`) may not have reached the server yet either: its answer is
/// waited for (asking again every headroom), up to one more window and at
/// least the patience (as the in-process pacer does).
pub(super) const RESERVE: &str = concat!(
    prelude_lua!(),
    r#"
local keys = {clock = KEYS[1], log = KEYS[2], holdset = KEYS[4]}
local bound = tonumber(ARGV[1])
local headroom = tonumber(ARGV[2])
local patience = tonumber(ARGV[3])
local mine = ARGV[4]
local grace = tonumber(ARGV[5])
local keep = 0
local longest = 0
local i = 6
while ARGV[i] do
  local w = tonumber(ARGV[i])
  local limit = tonumber(ARGV[i + 1])
  if limit > 0 then
    if limit > keep then keep = limit end
    if w > longest then longest = w end
  end
  i = i + 2
end
if keep == 0 then return {0, 0, 0, ''} end
local now, offset = clock(keys, bound)
local ttl = math.ceil((longest * 2 + patience + headroom) / 1000) + 1000
keep_clock(KEYS[1], now, offset, ttl)
local epoch = redis.call('GET', KEYS[7])
if not epoch then
  -- A new store, or a lost one: slot numbers from now on are past any of
  -- the lost store's.
  epoch = fmt(now)
  redis.call('SET', KEYS[7], epoch, 'PX', ttl)
  if (tonumber(redis.call('GET', KEYS[5])) or 0) < now then
    redis.call('SET', KEYS[5], epoch, 'PX', ttl)
  end
  if mine ~= '' then
    redis.call('SET', KEYS[8], '1', 'PX', math.ceil(grace / 1000))
  end
end
redis.call('PEXPIRE', KEYS[7], ttl)
if mine ~= '' and mine ~= epoch then return {-1, 0, now, epoch} end
local lost = redis.call('PTTL', KEYS[8])
if lost > 0 then return {math.min(lost * 1000, grace), 0, now, epoch} end
-- Send times in the store's future (its clock lost while Redis's stepped
-- back) count as sent now.
for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '(' .. fmt(now), '+inf')) do
  redis.call('ZADD', KEYS[2], 'XX', fmt(now), m)
end
local at = now
local hold = tonumber(redis.call('GET', KEYS[3])) or 0
local set = tonumber(redis.call('GET', KEYS[4]))
if set and set > now and hold > set then
  -- Likewise a hold: its pause counts from now.
  hold = now + (hold - set)
  local px = math.ceil((hold - now) / 1000) + 1000
  redis.call('SET', KEYS[3], fmt(hold), 'PX', px)
  redis.call('SET', KEYS[4], fmt(now), 'PX', px)
end
if hold > at then at = hold end
i = 6
while ARGV[i] do
  local w = tonumber(ARGV[i])
  local limit = tonumber(ARGV[i + 1])
  i = i + 2
  if limit > 0 then
    local n = redis.call('ZCARD', KEYS[2])
    if n >= limit then
      local pivot = redis.call('ZRANGE', KEYS[2], n - limit, n - limit, 'WITHSCORES')
      local sent = tonumber(pivot[2])
      local p = sent + w + headroom
      if p > at then at = p end
      local wait_to = sent + w + math.max(w, patience) + headroom
      if at <= now and now < wait_to and redis.call('HEXISTS', KEYS[6], pivot[1]) == 1 then
        at = math.min(now + headroom, wait_to)
      end
    end
  end
end
if at > now then return {math.min(at - now, longest + headroom), 0, now, epoch} end
if redis.call('EXISTS', KEYS[5]) == 0 then redis.call('SET', KEYS[5], fmt(now)) end
local seq = redis.call('INCR', KEYS[5])
-- %d: a number this large would lose digits through tostring.
redis.call('ZADD', KEYS[2], fmt(now), fmt(seq))
trim(KEYS[2], KEYS[6], keep)
redis.call('HSET', KEYS[6], fmt(seq), '1')
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[5], ttl)
redis.call('PEXPIRE', KEYS[6], ttl)
return {0, seq, now, epoch}
"#
);

/// KEYS: clock, log, hold, hold:set, seq, pending, epoch. ARGV: clock bound
/// µs, the epoch to restore into, keep, ttl ms, then (age µs, slot number,
/// answered 0/1) per slot of the caller. Writes the caller's slots back
/// into a store that lost them (unless it was lost again: the epoch
/// differs). Returns {1 if written, now}.
pub(super) const RESTORE: &str = concat!(
    prelude_lua!(),
    r#"
local keys = {clock = KEYS[1], log = KEYS[2], holdset = KEYS[4]}
local now, offset = clock(keys, tonumber(ARGV[1]))
local ttl = tonumber(ARGV[4])
keep_clock(KEYS[1], now, offset, ttl)
if redis.call('GET', KEYS[7]) ~= ARGV[2] then return {0, now} end
local top = tonumber(redis.call('GET', KEYS[5])) or 0
local i = 5
while ARGV[i] do
  local at = now - tonumber(ARGV[i])
  if at > now then at = now end
  local seq = ARGV[i + 1]
  redis.call('ZADD', KEYS[2], 'NX', fmt(at), seq)
  if ARGV[i + 2] == '0' then redis.call('HSET', KEYS[6], seq, '1') end
  if tonumber(seq) > top then top = tonumber(seq) end
  i = i + 3
end
redis.call('SET', KEYS[5], fmt(top), 'PX', ttl)
local keep = tonumber(ARGV[3])
trim(KEYS[2], KEYS[6], keep)
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PEXPIRE', KEYS[6], ttl)
return {1, now}
"#
);

/// KEYS: clock, log, hold, hold:set, seq (unused), pending. ARGV: clock
/// bound µs, seq.
/// The request `seq` was seen by the server by now: count it from now if
/// that is later than its slot, and no longer as pending. Returns now.
pub(super) const SEEN: &str = concat!(
    prelude_lua!(),
    r#"
local keys = {clock = KEYS[1], log = KEYS[2], holdset = KEYS[4]}
local now, offset = clock(keys, tonumber(ARGV[1]))
keep_clock(KEYS[1], now, offset, nil)
redis.call('HDEL', KEYS[6], ARGV[2])
local old = redis.call('ZSCORE', KEYS[2], ARGV[2])
if old and now > tonumber(old) then
  redis.call('ZADD', KEYS[2], 'XX', fmt(now), ARGV[2])
end
return now
"#
);

/// KEYS: clock, log, hold, hold:set. ARGV: clock bound µs, pause µs. Holds
/// the method until now + pause. Returns now.
pub(super) const HOLD: &str = concat!(
    prelude_lua!(),
    r#"
local keys = {clock = KEYS[1], log = KEYS[2], holdset = KEYS[4]}
local now, offset = clock(keys, tonumber(ARGV[1]))
keep_clock(KEYS[1], now, offset, nil)
local until_ = now + tonumber(ARGV[2])
local cur = tonumber(redis.call('GET', KEYS[3])) or 0
if until_ > cur then
  local px = math.ceil(tonumber(ARGV[2]) / 1000) + 1000
  redis.call('SET', KEYS[3], fmt(until_), 'PX', px)
  redis.call('SET', KEYS[4], fmt(now), 'PX', px)
end
return now
"#
);
