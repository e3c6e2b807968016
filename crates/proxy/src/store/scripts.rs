//! The Lua scripts of the Redis backend: each read-and-write that must be atomic
//! across replicas is one script, run with Redis' own clock (`TIME`) so that the
//! replicas' clocks do not matter. `redis::Script` sends them by digest and loads
//! them again after a Redis restart (`NOSCRIPT`).
//!
//! Every script touches keys of one feature only; see docs/operations.md for what
//! would change on Redis Cluster (hash tags, one slot per connection).

use redis::Script;

/// GCRA rate limits. KEYS: the buckets, in order. ARGV: per bucket its emission
/// interval and burst tolerance, in microseconds. Returns 0, or `{index, wait_us}`
/// of the first bucket that refuses (the ones before it stay charged).
const CHARGE: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local tolerance = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key)) or now
  if tat < now then tat = now end
  if tat - now > tolerance then
    return {i, tat - now - tolerance}
  end
  local new = tat + interval
  redis.call('SET', key, string.format('%.0f', new), 'PX', math.floor((new - now) / 1000) + 1)
end
return 0
";

/// The Powens budget: a sliding window of send times in a sorted set, and a pause.
/// KEYS: sent, pause, sequence. ARGV: window (ms), limit. Returns 0 (spent) or the
/// milliseconds to wait.
const SPEND_BUDGET: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local window = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], n - limit, n - limit, 'WITHSCORES')
  local wait = tonumber(oldest[2]) + window - now
  if wait < 1 then wait = 1 end
  return wait
end
local seq = redis.call('INCR', KEYS[3])
redis.call('ZADD', KEYS[1], now, seq)
redis.call('PEXPIRE', KEYS[1], window)
return 0
";

/// A 429's pause, never shortened. KEYS: pause. ARGV: milliseconds.
const PAUSE: &str = r"
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('SET', KEYS[1], '1', 'PX', ARGV[1])
end
return 0
";

/// The budget spent in the window. KEYS: sent. ARGV: window (ms).
const BUDGET_USED: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], now - tonumber(ARGV[1]), '+inf')
";

/// A replica's heartbeat. KEYS: replicas (sorted set, score = expiry in ms). ARGV:
/// this replica, lifetime (ms). Returns the replicas alive.
const HEARTBEAT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
return redis.call('ZCARD', KEYS[1])
";

/// The poller lease of one connection: valid while its owner's heartbeat is.
/// KEYS: lease, replicas. ARGV: this replica, lifetime (ms). Returns 1 when this
/// replica holds it now, 0 when another live replica does.
const LEASE: &str = r"
local owner = redis.call('GET', KEYS[1])
if owner and owner ~= ARGV[1] then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local alive = redis.call('ZSCORE', KEYS[2], owner)
  if alive and tonumber(alive) > now then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
";

/// Deletes a key only if it holds `ARGV[1]` (a lease, an action slot).
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
";

/// The epoch states are issued in, created on first use. KEYS: epoch. ARGV: a new
/// epoch, used if there is none.
const EPOCH: &str = r"
local e = redis.call('GET', KEYS[1])
if not e then
  redis.call('SET', KEYS[1], ARGV[1])
  e = ARGV[1]
end
return e
";

/// Whether a state's nonce was spent. KEYS: epoch, nonce. ARGV: the state's epoch.
/// Returns -1 (another epoch), 1 (spent) or 0 (not spent).
const NONCE: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
return redis.call('EXISTS', KEYS[2])
";

/// Spends a state's nonce. KEYS: epoch, nonce. ARGV: the state's epoch, lifetime
/// (ms). Returns -1 (another epoch), 1 (spent by this call) or 0 (spent before).
const SPEND: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if redis.call('SET', KEYS[2], '1', 'NX', 'PX', ARGV[2]) then return 1 end
return 0
";

/// The scripts, hashed once.
#[derive(Debug)]
pub struct Scripts {
    pub charge: Script,
    pub spend_budget: Script,
    pub pause: Script,
    pub budget_used: Script,
    pub heartbeat: Script,
    pub lease: Script,
    pub release: Script,
    pub epoch: Script,
    pub nonce: Script,
    pub spend: Script,
}

impl Default for Scripts {
    fn default() -> Self {
        Self {
            charge: Script::new(CHARGE),
            spend_budget: Script::new(SPEND_BUDGET),
            pause: Script::new(PAUSE),
            budget_used: Script::new(BUDGET_USED),
            heartbeat: Script::new(HEARTBEAT),
            lease: Script::new(LEASE),
            release: Script::new(RELEASE),
            epoch: Script::new(EPOCH),
            nonce: Script::new(NONCE),
            spend: Script::new(SPEND),
        }
    }
}
