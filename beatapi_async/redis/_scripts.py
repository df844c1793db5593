"""The Lua scripts behind the fleet's gate and poll budget: each one step, atomic in Redis.

Times come from Redis ``TIME`` (milliseconds), never from a worker's clock. Keys
(``KEYS``, all under one namespace with a hash tag, so a cluster keeps them together):

- ``line``, ``line_exp``: tickets waiting for a slot (score: the ticket's number, which is
  its place in line; and its expiry, renewed by its waiting process);
- ``leases``: admitted slots (score: expiry, renewed by the holder); ``bound``: lease ->
  the task it admitted;
- ``orphans``: tasks whose lease ended while they still ran at BeatAPI (a holder killed,
  a wait abandoned), and ``lease:<id>`` placeholders for leases that expired before their
  task was known (the create may have gone out); they count until a usage read says fewer
  run;
- ``usage``: ``limit``, ``extra`` (tasks running that no lease or orphan accounts for:
  other users of the key) and ``next_read`` (when the fleet should read usage again);
- ``poll``: the fleet's token bucket (``tokens``, ``stamp``, ``paused``).
"""

from __future__ import annotations

# Shared by the gate's scripts: the time, and dropping expired tickets and leases.
_COMMON = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function purge(now, line, line_exp, leases, bound, orphans)
  for _, t in ipairs(redis.call('ZRANGEBYSCORE', line_exp, '-inf', now)) do
    redis.call('ZREM', line, t)
    redis.call('ZREM', line_exp, t)
  end
  for _, l in ipairs(redis.call('ZRANGEBYSCORE', leases, '-inf', now)) do
    -- Its holder stopped renewing (killed, or its loop blocked): the task it admitted
    -- may still run at BeatAPI, so it keeps counting as an orphan. A lease with no task
    -- yet may have sent its create (the holder died before hearing the answer): it counts
    -- as a placeholder orphan, 'lease:<id>', until a usage read settles it.
    local task = redis.call('HGET', bound, l) or ('lease:' .. l)
    redis.call('ZADD', orphans, 'NX', now, task)
    redis.call('HDEL', bound, l)
    redis.call('ZREM', leases, l)
  end
end
"""

# KEYS: seq, line, line_exp. ARGV: ticket ttl ms. -> the new ticket (its number is its place).
ENQUEUE = (
    _COMMON
    + """
local now = now_ms()
local t = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], t, t)
redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), t)
return t
"""
)

# KEYS: line, line_exp. ARGV: tickets that leave the line.
LEAVE = """
for i = 1, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
end
return 1
"""

# KEYS: line, line_exp, leases, bound, orphans, usage.
# ARGV: lease ms, ticket ttl ms, then this process's waiting tickets.
# -> {admitted tickets (now leases), usage state: 0 fresh, 1 due for a read, 2 never read}
ADMIT = (
    _COMMON
    + """
local now = now_ms()
local line, line_exp, leases, bound, orphans, usage = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
purge(now, line, line_exp, leases, bound, orphans)
local mine = {}
for i = 3, #ARGV do
  local t = ARGV[i]
  mine[t] = true
  -- Still waiting: keep the ticket alive, and at its own place should it have expired.
  redis.call('ZADD', line, tonumber(t), t)
  redis.call('ZADD', line_exp, now + tonumber(ARGV[2]), t)
end
local u = redis.call('HMGET', usage, 'limit', 'extra', 'next_read')
if not u[1] then
  return {{}, 2}
end
local free = tonumber(u[1]) - tonumber(u[2]) - redis.call('ZCARD', leases) - redis.call('ZCARD', orphans)
local admitted = {}
if free > 0 then
  -- First come first served across the fleet: only the first ``free`` tickets may go.
  for _, t in ipairs(redis.call('ZRANGE', line, 0, free - 1)) do
    if mine[t] then
      redis.call('ZREM', line, t)
      redis.call('ZREM', line_exp, t)
      redis.call('ZADD', leases, now + tonumber(ARGV[1]), t)
      table.insert(admitted, t)
    end
  end
end
local due = 0
if now >= tonumber(u[3]) then due = 1 end
return {admitted, due}
"""
)

# KEYS: leases, bound, orphans. ARGV: lease ms, task id, lease.
# -> 1 bound; 0 the lease had expired (the task counts as an orphan instead).
BIND = (
    _COMMON
    + """
local now = now_ms()
-- The task now has a lease; if it was an orphan (a job delivered again), it counts once,
-- and so does a placeholder its own expired lease left.
redis.call('ZREM', KEYS[3], ARGV[2], 'lease:' .. ARGV[3])
local expires = redis.call('ZSCORE', KEYS[1], ARGV[3])
if expires and tonumber(expires) > now then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[1]), ARGV[3])
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[2])
  return 1
end
redis.call('ZADD', KEYS[3], 'NX', now, ARGV[2])
return 0
"""
)

# KEYS: leases, bound, orphans. ARGV: lease, task id or '', still running (0/1).
RELEASE = (
    _COMMON
    + """
local now = now_ms()
local task = redis.call('HGET', KEYS[2], ARGV[1]) or ARGV[2]
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('ZREM', KEYS[3], 'lease:' .. ARGV[1])  -- its holder is back: no placeholder
if task ~= '' then
  if ARGV[3] == '1' then
    redis.call('ZADD', KEYS[3], 'NX', now, task)
  else
    redis.call('ZREM', KEYS[3], task)
  end
end
return 1
"""
)

# KEYS: line, line_exp, leases, bound, orphans, usage. ARGV: lease, ticket ttl ms, retry-after ms.
# BeatAPI refused the create (another user of the key took the slot): back to the lease's
# own place in line, no slot free until usage is read again (after Retry-After).
REQUEUE = (
    _COMMON
    + """
local now = now_ms()
local l = ARGV[1]
redis.call('ZREM', KEYS[3], l)
redis.call('HDEL', KEYS[4], l)
redis.call('ZREM', KEYS[5], 'lease:' .. l)  -- the create was refused: nothing of it runs
redis.call('ZADD', KEYS[1], tonumber(l), l)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), l)
local limit = tonumber(redis.call('HGET', KEYS[6], 'limit') or '0')
local used = redis.call('ZCARD', KEYS[3]) + redis.call('ZCARD', KEYS[5])
local extra = tonumber(redis.call('HGET', KEYS[6], 'extra') or '0')
if limit - used > extra then extra = limit - used end
redis.call('HSET', KEYS[6], 'extra', extra, 'next_read', now + tonumber(ARGV[3]))
return 1
"""
)

# KEYS: line, line_exp, leases, bound, orphans, usage. ARGV: lease ms, ticket ttl ms, then
# 'l:<lease>' / 't:<ticket>'. -> the leases that had already expired (lost; their tasks are orphans).
RENEW = (
    _COMMON
    + """
local now = now_ms()
purge(now, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
local lost = {}
for i = 3, #ARGV do
  local kind, id = string.sub(ARGV[i], 1, 1), string.sub(ARGV[i], 3)
  if kind == 'l' then
    if redis.call('ZSCORE', KEYS[3], id) then
      redis.call('ZADD', KEYS[3], now + tonumber(ARGV[1]), id)
    else
      table.insert(lost, id)
    end
  elseif redis.call('ZSCORE', KEYS[1], id) then
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), id)
  end
end
return lost
"""
)

# KEYS: line, line_exp, leases, bound, orphans, usage. ARGV: limit, active, interval ms, settle ms.
# A fresh /v1/usage read. ``active`` counts every running task of the account: the
# bound leases' tasks, the orphans still running, and others'. More running than we
# account for is believed at once. Fewer is believed once it has lasted ``settle``: a task
# of ours may have ended at BeatAPI before its holder saw it and released its lease; then
# orphans beyond what ``active`` leaves room for have stopped (the oldest go first).
STORE_USAGE = (
    _COMMON
    + """
local now = now_ms()
purge(now, KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
local unaccounted = tonumber(ARGV[2]) - redis.call('HLEN', KEYS[4])
if unaccounted < 0 then unaccounted = 0 end
local orphans = redis.call('ZCARD', KEYS[5])
local u = redis.call('HMGET', KEYS[6], 'extra', 'low_since')
local old_extra = tonumber(u[1])
local low_since = tonumber(u[2]) or 0
local believe = true
if old_extra ~= nil and unaccounted < orphans + old_extra then
  if low_since == 0 then low_since = now end
  believe = now - low_since >= tonumber(ARGV[4])
else
  low_since = 0
end
local extra = old_extra
if believe then
  if orphans > unaccounted then
    redis.call('ZPOPMIN', KEYS[5], orphans - unaccounted)
    orphans = unaccounted
  end
  extra = unaccounted - orphans
  low_since = 0
end
redis.call('HSET', KEYS[6], 'limit', ARGV[1], 'extra', extra, 'low_since', low_since,
           'next_read', now + tonumber(ARGV[3]))
return 1
"""
)

# KEYS: usage. ARGV: ms. A failed re-read: keep the last figures, try again after ``ms``.
DEFER_READ = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'next_read', now + tonumber(ARGV[1]))
end
return 1
"""

_BUCKET = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local h = redis.call('HMGET', KEYS[1], 'tokens', 'stamp', 'paused')
local burst = tonumber(ARGV[2])
local tokens = tonumber(h[1]) or burst
local stamp = tonumber(h[2]) or now
local paused = tonumber(h[3]) or 0
"""

# KEYS: poll. ARGV: tokens per ms, burst. -> 0 (a poll may go now) or ms to wait.
TAKE = (
    _BUCKET
    + """
if paused > now then return paused - now end
if now > stamp then
  tokens = math.min(burst, tokens + (now - stamp) * tonumber(ARGV[1]))
  stamp = now
end
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
else
  wait = math.ceil((1 - tokens) / tonumber(ARGV[1]))
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', stamp, 'paused', paused)
redis.call('PEXPIRE', KEYS[1], 3600000)
return wait
"""
)

# KEYS: poll. ARGV: tokens per ms, burst, pause ms. No poll for anyone until then; empty after.
PAUSE = (
    _BUCKET
    + """
local until_ms = now + tonumber(ARGV[3])
if until_ms > paused then paused = until_ms end
if paused > stamp then stamp = paused end
redis.call('HSET', KEYS[1], 'tokens', '0', 'stamp', stamp, 'paused', paused)
redis.call('PEXPIRE', KEYS[1], 3600000)
return 1
"""
)
