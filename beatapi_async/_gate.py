"""The concurrency gate: at most the account's limit of our tasks running at once.

``run``, ``run_many`` and ``as_completed`` admit every create through a ``Gate``:
``acquire`` waits in line for a slot and returns a ``Lease``; the create's task is
bound to it (``bind``); the lease is released the moment the task leaves the running
states, or ``requeue``d at the head of the line when BeatAPI refuses the create with
429 ``user_concurrency_exceeded`` (another process took the slot).

Two kinds implement it: ``LocalGate`` (one process, below) and the gate a fleet of
processes shares through Redis (``beatapi_async.redis``). A ``Coordinator`` hands a
client both its gate and its poll budget (``_budget.py``).

``LocalGate`` sizes itself from ``GET /v1/usage`` (``concurrency.limit`` minus the
``active`` tasks others hold). Requests are admitted strictly first come first served:
one line, never reordered. One background reader does every usage read for the whole
line: the first read is shared by everyone waiting for it (its failure fails them all at
once, with one request's worth of retries), and while requests wait it re-reads usage
every ``refresh_interval``, since slots others hold free up without telling us.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import math
import time
from collections import deque
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from ._exceptions import APIConnectionError, APIStatusError, BeatAPIError, InvalidResponseError
from ._logging import get_logger

if TYPE_CHECKING:
    from ._budget import PollBudget
    from ._client import AsyncBeatAPI

logger = get_logger("beatapi_async")


class Lease(Protocol):
    """One admitted slot, from ``Gate.acquire`` until ``release``."""

    async def bind(self, task_id: str) -> None:
        """The create succeeded: this slot now stands for ``task_id`` (a shared gate tracks it)."""

    async def requeue(self, retry_after: float | None) -> None:
        """BeatAPI refused the create (429 ``user_concurrency_exceeded``): give the slot back and
        wait for the next one at the head of the line (nothing was created)."""

    async def release(self, *, still_running: bool = False) -> None:
        """Give the slot back; idempotent. ``still_running``: nobody waits on the task any more
        but it still runs at BeatAPI (a deadline passed), so it still counts until usage says not."""


@runtime_checkable
class Gate(Protocol):
    """Admission to run a task: ``lease = await acquire()`` -> create -> ``lease.release()``."""

    async def acquire(self) -> Lease:
        """Wait in line (first come first served) for a free slot and take it."""

    async def refresh(self) -> None:
        """Re-read the account's limit and the slots others hold."""

    async def renew(self) -> None:
        """Extend every lease this gate holds (a shared gate's leases expire unless renewed)."""

    async def aclose(self) -> None:
        """Stop background work; requests still in line end with an error."""


class Coordinator(Protocol):
    """What a client shares with other processes: its gate and its poll budget."""

    def gate(self, client: AsyncBeatAPI) -> Gate:
        """The gate ``client`` admits its creates through."""

    def poll_budget(self, client: AsyncBeatAPI) -> PollBudget:
        """The budget ``client``'s waits spend their polls from."""


def clone_error(exc: BaseException) -> BaseException:
    """A shallow copy of ``exc``: one failure handed to many requests, each free to annotate its own."""
    try:
        twin = copy.copy(exc)
    except Exception:  # an __init__ with required keyword arguments cannot be re-run by copy
        twin = type(exc).__new__(type(exc), *exc.args)
        twin.__dict__.update(getattr(exc, "__dict__", {}))
    twin.__traceback__ = exc.__traceback__
    return twin


class LocalLease:
    """A slot of a ``LocalGate``."""

    __slots__ = ("_gate", "_held")

    def __init__(self, gate: LocalGate) -> None:
        self._gate = gate
        self._held = True

    async def bind(self, task_id: str) -> None:
        return None  # one process: the count of slots is all there is to track

    async def requeue(self, retry_after: float | None) -> None:
        gate = self._gate
        if self._held:
            self._held = False
            gate._rejected(retry_after)
        await gate._wait_turn(front=True)
        self._held = True

    async def release(self, *, still_running: bool = False) -> None:
        if self._held:
            self._held = False
            self._gate._give_back()


class LocalGate:
    """A ``Gate`` for one process, sized from ``GET /v1/usage``."""

    def __init__(self, client: AsyncBeatAPI, *, refresh_interval: float | None = None) -> None:
        self._client = client
        # While requests wait and nothing of ours frees a slot, re-read usage this often:
        # slots held by other processes free up without telling us.
        self._refresh_interval = refresh_interval or max(client.poll_policy.interval, 0.01)
        # A lower count of others' slots is believed once it has lasted this long: longer
        # than it takes us to see one of our tasks end (its poll cadence).
        self._settle = max(self._refresh_interval, 2 * client.poll_policy.max_interval)
        self._capacity: int | None = None
        self._limit: int | None = None
        self._others: int | None = None
        self._lower_since: float | None = None
        self._held = 0
        self._line: deque[asyncio.Future[None]] = deque()
        self._reader: asyncio.Task[None] | None = None
        self._reader_wake: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._last_refresh = -math.inf
        self._next_read = -math.inf
        self.rejections = 0

    @property
    def capacity(self) -> int | None:
        """Slots this process may hold (limit minus what others hold); None before the first refresh."""
        return self._capacity

    @property
    def held(self) -> int:
        """Slots held now."""
        return self._held

    @property
    def limit(self) -> int | None:
        """The account's concurrency limit, as last read."""
        return self._limit

    @property
    def waiting(self) -> int:
        """Requests in line for a slot."""
        return sum(not f.done() for f in self._line)

    def _free(self) -> bool:
        return self._capacity is not None and self._held < self._capacity

    # -- the line ---------------------------------------------------------------------

    async def acquire(self) -> LocalLease:
        await self._wait_turn(front=False)
        return LocalLease(self)

    async def _wait_turn(self, *, front: bool) -> None:
        """Take a slot, after everyone ahead in line (``front``: go ahead of them, a requeue)."""
        if not self._line and self._free():
            self._held += 1
            return
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if front:
            self._line.appendleft(fut)
        else:
            self._line.append(fut)
        self._admit()
        self._ensure_reader()
        try:
            await fut
        except BaseException:
            if fut.done() and not fut.cancelled() and fut.exception() is None:
                self._held -= 1  # admitted, then cancelled: the slot goes to the next in line
            else:
                fut.cancel()
                with contextlib.suppress(ValueError):
                    self._line.remove(fut)
            self._admit()
            raise

    def _admit(self) -> None:
        """Hand free slots to the head of the line, in order."""
        line = self._line
        while line and (line[0].done() or self._free()):
            fut = line.popleft()
            if not fut.done():
                self._held += 1
                fut.set_result(None)
        if not line and self._reader_wake is not None:
            self._reader_wake.set()  # nobody waits: the reader may stop

    def _fail_line(self, exc: BaseException) -> None:
        while self._line:
            fut = self._line.popleft()
            if not fut.done():
                fut.set_exception(clone_error(exc))

    def _give_back(self) -> None:
        self._held = max(0, self._held - 1)
        self._admit()

    def _rejected(self, retry_after: float | None) -> None:
        self._held = max(0, self._held - 1)
        self.rejections += 1
        # Someone else took the slot: we can hold no more than now until usage says otherwise.
        limit = self._limit if self._limit is not None else self._held
        self._others = max(self._others or 0, limit - self._held)
        self._capacity = max(0, limit - self._others)
        self._lower_since = None
        # Re-read usage at once, or once BeatAPI's Retry-After has passed.
        self._next_read = time.monotonic() + (retry_after or 0.0)
        if self._reader_wake is not None:
            self._reader_wake.set()

    # -- reading usage ------------------------------------------------------------------

    def _ensure_reader(self) -> None:
        if self._line and (self._reader is None or self._reader.done()):
            self._reader_wake = asyncio.Event()
            self._reader = asyncio.get_running_loop().create_task(self._read_while_waiting())

    async def _read_while_waiting(self) -> None:
        assert self._reader_wake is not None
        wake = self._reader_wake
        try:
            while self._line:
                delay = self._next_read - time.monotonic()
                if self._capacity is not None and delay > 0:
                    wake.clear()
                    with anyio.move_on_after(delay):
                        await wake.wait()
                    continue
                first = self._capacity is None
                try:
                    await self.refresh()
                except Exception as exc:
                    if first or not _keeps_capacity(exc):
                        # The first read (or an answer waiting will not change, such as 401):
                        # everyone in line fails with it now, instead of each retrying in turn.
                        self._fail_line(exc)
                        return
                    # A request waiting in line must not fail because a re-read did: the last
                    # known capacity holds, and slots we free still admit the next in line.
                    logger.info("concurrency gate: re-reading usage failed, keeping the last capacity: %s", exc)
                self._next_read = time.monotonic() + self._refresh_interval
                self._admit()
        finally:
            if self._reader is asyncio.current_task():
                self._reader = None

    async def refresh(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = time.monotonic()
            if now - self._last_refresh < self._refresh_interval / 2 and self._capacity is not None:
                return  # just done
            usage = await self._client.usage.get()
            self._last_refresh = now = time.monotonic()
            self._limit = usage.concurrency.limit
            # ``active`` counts the whole account; what we hold is ours, the rest is others'.
            estimate = max(0, usage.concurrency.active - self._held)
            if self._others is None or estimate >= self._others:
                self._others, self._lower_since = estimate, None
            elif self._lower_since is None:
                # Lower than before: maybe others freed slots, maybe a create of ours is not
                # counted yet or a task of ours ended unseen. Believe it only when it lasts.
                self._lower_since = now
            elif now - self._lower_since >= self._settle or self._held == 0:
                self._others, self._lower_since = estimate, None
            self._capacity = max(0, self._limit - self._others)
        self._admit()

    async def renew(self) -> None:
        return None  # leases of one process live as long as the process

    async def aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None and not reader.done():
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        self._fail_line(BeatAPIError("the client was closed while requests waited for a slot", code="client_closed"))


def _keeps_capacity(exc: BaseException) -> bool:
    """A failed re-read after which the last known capacity still holds (transient failures)."""
    if isinstance(exc, (APIConnectionError, InvalidResponseError)):
        return True
    if isinstance(exc, APIStatusError):
        return exc.status is None or exc.status >= 500 or exc.status == 429
    return False
