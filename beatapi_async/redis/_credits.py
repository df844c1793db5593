"""Credit admission a fleet of processes shares through Redis: one ledger per account.

The same rule as ``LocalCreditAdmission`` (``.._ledger``), with the ledger in Redis so
every worker subtracts every other worker's creates: what is left is the balance of the
fleet's last ``GET /v1/usage`` read minus the reservations of the creates the fleet sent
since. Each step is one Lua script, so two workers never both take the last credits.
Amounts are kept as whole ten-thousandths (``Decimal`` x 10^4): dollars with cents and
whole credits fit exactly, and Lua's numbers stay exact up to 9 x 10^11. A reservation
whose worker died before its create was answered stops counting as "in flight" after
``in_flight_ttl`` (Redis time) and is settled by the next read.
"""

from __future__ import annotations

import uuid
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import TYPE_CHECKING, Any

import anyio

from .._credits import CreditCap, Reservation, UnitLearner, charged_amount, insufficient, may_ask
from .._exceptions import APIStatusError
from ._store import KEY_PREFIX, Store

if TYPE_CHECKING:
    from .._client import AsyncBeatAPI
    from .._models import Task, TaskRequest
    from .._pricing import Estimate

SCALE = Decimal(10_000)

# KEYS: state hash, pending hash, task -> reservation hash, in-flight deadlines (sorted set).
# A pending entry is "amount sent answered deadline probe" (answered -1: in flight).
_PRELUDE = """
local K, P, T, I = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local function tick() return redis.call('HINCRBY', K, 'events', 1) end
local function parse(v)
  local a, s, ans, d, p = string.match(v, '(%S+) (%S+) (%S+) (%S+) (%S+)')
  return {tonumber(a), tonumber(s), tonumber(ans), tonumber(d), tonumber(p)}
end
local function store(id, e) redis.call('HSET', P, id, string.format('%d %d %d %d %d', e[1], e[2], e[3], e[4], e[5])) end
local function answered(id, e)
  if e[3] < 0 then redis.call('HINCRBY', K, 'in_flight', -1); redis.call('ZREM', I, id) end
  e[3] = tick()
end
-- a create unanswered past its deadline (its worker died): no longer in flight; a read settles it
for _, id in ipairs(redis.call('ZRANGEBYSCORE', I, '-inf', now_ms)) do
  local v = redis.call('HGET', P, id)
  if v then local e = parse(v); answered(id, e); store(id, e) else redis.call('ZREM', I, id) end
end
"""

_RESERVE = _PRELUDE + """
local id, amount, force, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3] == '1', tonumber(ARGV[4])
local s = redis.call('HMGET', K, 'balance', 'total', 'doubt', 'read_started', 'stale', 'read_at', 'in_flight',
                     'blocked_at', 'probe')
if not s[1] or s[3] == '1' then return {'read'} end
local balance, total = tonumber(s[1]), tonumber(s[2] or '0')
local left = balance - total
local probe = 0
if amount > left then
  if not force then
    local straddled = 0
    for _, pid in ipairs(redis.call('HKEYS', P)) do
      if parse(redis.call('HGET', P, pid))[2] < tonumber(s[4] or '0') then straddled = 1 break end
    end
    return {'short', string.format('%d', left), tonumber(s[7] or '0'), straddled, tonumber(s[5] or '0'),
            now_ms - tonumber(s[6] or '0'), string.format('%d', balance), s[8] or '', s[9] or ''}
  end
  local holder = s[9] and redis.call('HGET', P, s[9])
  if holder and parse(holder)[3] < 0 then return {'busy'} end
  probe = 1
  redis.call('HSET', K, 'probe', id)
end
store(id, {amount, tick(), -1, now_ms + ttl, probe})
redis.call('ZADD', I, now_ms + ttl, id)
redis.call('HINCRBY', K, 'total', amount)
redis.call('HINCRBY', K, 'in_flight', 1)
return {'ok', string.format('%d', left)}
"""

# ARGV: how long the read may hold the fleet's turn (ms), and the read seen before waiting ('' at first).
_BEGIN_READ = _PRELUDE + """
local current = tonumber(redis.call('HGET', K, 'read_started') or '0')
if ARGV[2] ~= '' and current > tonumber(ARGV[2]) then return {0, current} end
if tonumber(redis.call('HGET', K, 'reading_until') or '0') > now_ms then return {-1, current} end
redis.call('HSET', K, 'reading_until', now_ms + tonumber(ARGV[1]))
return {tick(), current}
"""

_IN_FLIGHT = _PRELUDE + "return tonumber(redis.call('HGET', K, 'in_flight') or '0')"

_END_READ = _PRELUDE + """
local started, balance = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('HDEL', K, 'reading_until')
if started <= tonumber(redis.call('HGET', K, 'read_started') or '0') then return 0 end
redis.call('HSET', K, 'balance', balance, 'read_started', started, 'read_at', now_ms, 'doubt', 0, 'stale', 0)
local blocked = redis.call('HGET', K, 'blocked_at')
if blocked and balance > tonumber(blocked) then redis.call('HDEL', K, 'blocked_at') end
local total = 0
for _, id in ipairs(redis.call('HKEYS', P)) do
  local e = parse(redis.call('HGET', P, id))
  if e[3] >= 0 and e[3] < started then redis.call('HDEL', P, id) else total = total + e[1] end
end
for _, task in ipairs(redis.call('HKEYS', T)) do
  if redis.call('HEXISTS', P, redis.call('HGET', T, task)) == 0 then redis.call('HDEL', T, task) end
end
redis.call('HSET', K, 'total', total)
return 1
"""

_ANSWER = _PRELUDE + """
local id, actual, task = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local v = redis.call('HGET', P, id)
if not v then return 0 end
local e = parse(v)
answered(id, e)
if task ~= '' then
  local twin = redis.call('HGET', T, task)
  if twin and twin ~= id then actual = 0 else redis.call('HSET', T, task, id) end
end
if actual >= 0 then
  redis.call('HINCRBY', K, 'total', actual - e[1])
  e[1] = actual
end
store(id, e)
return 1
"""

_FORGET = _PRELUDE + """
local id, refused_for_credits = ARGV[1], ARGV[2] == '1'
local v = redis.call('HGET', P, id)
if not v then return 0 end
local e = parse(v)
answered(id, e)
redis.call('HDEL', P, id)
redis.call('HINCRBY', K, 'total', -e[1])
if refused_for_credits then
  redis.call('HSET', K, 'doubt', 1)
  if e[5] == 1 then redis.call('HSET', K, 'blocked_at', redis.call('HGET', K, 'balance') or '0') end
end
return 1
"""

_FINISH = _PRELUDE + """
local task, left_charged = ARGV[1], tonumber(ARGV[2])
local id = redis.call('HGET', T, task)
local v = id and redis.call('HGET', P, id)
if not v then redis.call('HSET', K, 'stale', 1) return 0 end
local e = parse(v)
local amount = math.max(0, math.min(e[1], left_charged))
redis.call('HINCRBY', K, 'total', amount - e[1])
e[1] = amount
store(id, e)
return 1
"""


# The longest one worker's usage read holds the fleet's turn (a worker that died mid-read).
READ_HOLD_MS = 5_000


def _units(amount: Decimal, *, up: bool = True) -> int:
    """Whole ten-thousandths: a reservation rounds up, a balance down (never more than there is)."""
    return int((amount * SCALE).to_integral_value(rounding=ROUND_CEILING if up else ROUND_FLOOR))


def _from_units(value: Any) -> Decimal:
    return Decimal(int(value)) / SCALE


class RedisCreditAdmission:
    """A ``CreditAdmission`` shared by every process that uses the same Redis and namespace."""

    def __init__(
        self,
        client: AsyncBeatAPI,
        store: Store,
        *,
        refresh_interval: float | None = None,
        settle_timeout: float = 2.0,
        in_flight_ttl: float = 60.0,
    ) -> None:
        self._client = client
        self._store = store
        # Beside the fleet's other keys; the hash tag keeps them on one Redis Cluster slot (scripts need it).
        base = f"{KEY_PREFIX}:{{{store.namespace}}}:credits"
        self._keys = [base + suffix for suffix in ("", ":pending", ":tasks", ":in_flight")]
        self._refresh_ms = 1000 * (refresh_interval if refresh_interval is not None else client.poll_policy.interval)
        self._settle_timeout = settle_timeout
        self._ttl_ms = int(in_flight_ttl * 1000)
        self._scripts: dict[str, Any] = {}
        self.units = UnitLearner()
        self.refused = 0

    async def _run(self, name: str, source: str, *args: Any) -> Any:
        """Run one script within the coordinator's timeout (else ``CoordinationError``)."""
        script = self._scripts.get(name)
        if script is None:
            script = self._scripts[name] = self._store.register(source)
        return await self._store.call(script, keys=self._keys, args=list(args))

    async def _read(self) -> None:
        """Read the balance for the fleet; while another worker reads it, wait for theirs instead."""
        seen = ""
        while True:
            started, current = (int(x) for x in await self._run("begin_read", _BEGIN_READ, READ_HOLD_MS, seen))
            if started > 0:
                break  # our turn
            if started == 0:
                return  # another worker's read landed while we waited
            seen = seen or str(current)
            await anyio.sleep(0.01)
        try:
            usage = await self._client.usage.get()
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self._run("end_read", _END_READ, 0, 0)  # give the turn back
            raise
        await self._run("end_read", _END_READ, started, _units(usage.credit_balance, up=False))

    async def _settle_in_flight(self) -> None:
        # Other processes' answers are not events here: ask Redis, briefly, until none is in flight.
        with anyio.move_on_after(self._settle_timeout):
            while True:
                if int(await self._run("in_flight", _IN_FLIGHT)) <= 0:
                    return
                await anyio.sleep(0.01)

    async def reserve(self, request: TaskRequest | Estimate, *, cap: CreditCap | None = None) -> Reservation:
        from .._pricing import Estimate

        def price() -> Estimate:
            return request if isinstance(request, Estimate) else self._client.estimate(request)

        estimate = price()
        amount = self.units.amount(estimate)
        if cap is not None and amount > cap.left:
            self.refused += 1
            raise insufficient(amount, cap.left, estimate, cap=True)
        key = uuid.uuid4().hex
        settled = False
        for _ in range(4):  # read, settle and read, then decide
            answer = await self._run("reserve", _RESERVE, key, _units(amount), "0", self._ttl_ms)
            kind = _text(answer[0])
            if kind == "ok":
                return self._admitted(key, amount, estimate, cap, probe=False)
            if kind == "read":
                await self._settle_in_flight()
                await self._read()
                continue
            left = _from_units(_text(answer[1]))
            in_flight, straddled, stale, age = (int(x) for x in answer[2:6])
            if not settled and (in_flight or straddled or stale or age >= self._refresh_ms):
                settled = True
                await self._settle_in_flight()
                await self._read()
                estimate = price()
                amount = self.units.amount(estimate)
                continue
            balance = _from_units(_text(answer[6]))
            blocked = _text(answer[7])
            if self._may_probe(estimate, balance, left, blocked):
                forced = await self._run("reserve", _RESERVE, key, _units(amount), "1", self._ttl_ms)
                if _text(forced[0]) == "ok":
                    return self._admitted(key, amount, estimate, cap, probe=True)
            self.refused += 1
            raise insufficient(amount, max(left, Decimal(0)), estimate, cap=False)
        self.refused += 1
        raise insufficient(amount, Decimal(0), estimate, cap=False)

    def _may_probe(self, estimate: Estimate, balance: Decimal, left: Decimal, blocked: str) -> bool:
        """``may_ask``; one at a time in the fleet (the reserve script checks that)."""
        return may_ask(self.units, estimate, balance, left, _from_units(blocked) if blocked else None)

    def _admitted(
        self, key: str, amount: Decimal, estimate: Estimate, cap: CreditCap | None, *, probe: bool
    ) -> Reservation:
        reservation = Reservation(amount, estimate, cap, probe=probe)
        reservation.task_id = None
        reservation.key = key
        if cap is not None:
            cap.reserved += amount
        return reservation

    async def created(self, reservation: Reservation, task: Task) -> None:
        self.units.learn(reservation.estimate, task.usage)
        actual = charged_amount(task.usage) or reservation.amount
        await self._run("answer", _ANSWER, reservation.key, _units(actual), task.id)
        if reservation.cap is not None:
            reservation.cap.reserved += actual - reservation.amount
        reservation.amount = actual
        reservation.task_id = task.id

    async def not_created(self, reservation: Reservation, error: BaseException) -> None:
        if isinstance(error, APIStatusError) and error.status is not None and error.status < 500:
            await self._run("forget", _FORGET, reservation.key, "1" if error.status == 402 else "0")
            if reservation.cap is not None:
                reservation.cap.reserved -= reservation.amount
            reservation.amount = Decimal(0)
        else:
            # It may have been charged: counted until a read that began after now settles it.
            await self._run("answer", _ANSWER, reservation.key, -1, "")

    async def finished(self, task: Task) -> None:
        usage = task.usage
        if usage is None or usage.credits_refunded <= 0:
            return
        charged = charged_amount(usage) or Decimal(0)
        await self._run("finish", _FINISH, task.id, _units(max(Decimal(0), charged - usage.credits_refunded)))


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
