"""``RedisGate``: the concurrency gate of a whole fleet, as leases in Redis.

Each process keeps a local view of its own part: the tickets it has in the fleet's
line (one future each, in order) and the leases it holds. One background task per
process (the admitter) asks Redis, while this process has tickets waiting, which of
them may go (the first ``free`` tickets of the fleet's line, ``free`` = limit minus
leases, orphans and others' tasks), and reads ``/v1/usage`` when it is this process's
turn (one reader per interval for the whole fleet). Another (the renewer) extends this
process's leases and tickets every third of ``lease_seconds``, from a timer, whatever
the holders are doing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import secrets
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import anyio

from .._exceptions import BeatAPIError
from .._gate import _keeps_capacity, clone_error
from .._logging import get_logger
from ._store import Store

if TYPE_CHECKING:
    from .._client import AsyncBeatAPI

logger = get_logger("beatapi_async")
_CLOSED = "the client was closed while requests waited for a slot"


class RedisLease:
    """A slot of the fleet, held in Redis until released (or, unrenewed, until it expires)."""

    __slots__ = ("_gate", "_id", "_task_id", "held")

    def __init__(self, gate: RedisGate, lease_id: str) -> None:
        self._gate = gate
        self._id = lease_id
        self._task_id: str | None = None
        self.held = True

    @property
    def id(self) -> str:
        """The lease's id in Redis (its ticket number)."""
        return self._id

    async def bind(self, task_id: str) -> None:
        self._task_id = task_id
        gate = self._gate
        bound = await gate._store.run("BIND", [gate._store.leases, gate._store.bound, gate._store.orphans],
                                      [gate._lease_ms, task_id, self._id])  # fmt: skip
        if not bound:
            logger.warning("fleet gate: lease %s expired before task %s was bound; the task counts until "
                           "usage says it stopped", self._id, task_id)  # fmt: skip

    async def requeue(self, retry_after: float | None) -> None:
        gate = self._gate
        if self.held:
            self.held = False
            gate._held.pop(self._id, None)
            retry_ms = math.ceil(max(0.0, retry_after or 0.0) * 1000)
            await gate._store.run("REQUEUE", gate._store.gate_keys, [self._id, gate._lease_ms, retry_ms])
        await gate._wait(self._id)
        gate._held[self._id] = self
        self.held = True

    async def release(self, *, still_running: bool = False) -> None:
        if not self.held:
            return
        self.held = False
        gate = self._gate
        gate._held.pop(self._id, None)
        store = gate._store
        try:
            await store.run("RELEASE", [store.leases, store.bound, store.orphans],
                            [self._id, self._task_id or "", int(still_running)])  # fmt: skip
        except BeatAPIError as exc:
            # Not raised: the caller's result stands. Unreleased, the lease expires after
            # lease_seconds, and its task counts until usage says it stopped.
            logger.warning("fleet gate: could not release lease %s (%s); it expires on its own", self._id, exc)
        gate._poke()


class RedisGate:
    """A ``Gate`` shared by every process of a fleet through Redis (see the module docstring)."""

    def __init__(self, client: AsyncBeatAPI, store: Store, *, lease_seconds: float, wait_interval: float) -> None:
        self._client = client
        self._store = store
        self._lease_ms = max(1, math.ceil(lease_seconds * 1000))
        self._lease_seconds = lease_seconds
        self._wait_interval = wait_interval
        policy = client.poll_policy
        self._read_interval_ms = max(1, math.ceil(max(policy.interval, 0.01) * 1000))
        # A lower count of running tasks is believed once it lasted longer than it takes a
        # holder to see its task end (two poll intervals) and the next read.
        self._settle_ms = self._read_interval_ms + math.ceil(2 * policy.max_interval * 1000)
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self._held: dict[str, RedisLease] = {}
        self._admitter: asyncio.Task[None] | None = None
        self._renewer: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._token = secrets.token_hex(8)
        self.usage_reads = 0

    @property
    def held(self) -> int:
        """Leases this process holds."""
        return len(self._held)

    @property
    def waiting(self) -> int:
        """This process's requests in the fleet's line."""
        return len(self._waiting)

    async def acquire(self) -> RedisLease:
        store = self._store
        ticket = str(await store.run("ENQUEUE", [store.seq, store.line, store.line_exp], [self._lease_ms]))
        await self._wait(ticket)
        lease = RedisLease(self, ticket)
        self._held[ticket] = lease
        self._ensure_renewer()
        return lease

    async def _wait(self, ticket: str) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting[ticket] = fut
        self._ensure_admitter()
        self._poke()
        try:
            await fut
        except BaseException:
            self._waiting.pop(ticket, None)
            failed = fut.done() and not fut.cancelled() and fut.exception() is not None
            with anyio.CancelScope(shield=True):
                if fut.done() and not fut.cancelled() and not failed:
                    await RedisLease(self, ticket).release()  # admitted, then cancelled
                elif not failed:
                    await self._leave(ticket)  # cancelled while in line
                # failed (Redis out of reach, usage unreadable): the ticket expires on its own
            raise

    async def _leave(self, ticket: str) -> None:
        store = self._store
        with contextlib.suppress(BeatAPIError):  # unrenewed, the ticket expires on its own
            await store.run("LEAVE", [store.line, store.line_exp], [ticket])

    # -- background work ----------------------------------------------------------------

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        return asyncio.get_running_loop().create_task(coro)

    def _ensure_admitter(self) -> None:
        if self._admitter is None or self._admitter.done():
            self._wake = asyncio.Event()
            self._admitter = self._spawn(self._admit_while_waiting())
        self._ensure_renewer()

    def _ensure_renewer(self) -> None:
        if self._renewer is None or self._renewer.done():
            self._renewer = self._spawn(self._renew_while_holding())

    def _fail_waiting(self, exc: BaseException) -> None:
        waiting, self._waiting = self._waiting, {}
        for fut in waiting.values():
            if not fut.done():
                fut.set_exception(clone_error(exc))

    async def _admit_while_waiting(self) -> None:
        assert self._wake is not None
        wake, store = self._wake, self._store
        try:
            while self._waiting:
                wake.clear()
                tickets = list(self._waiting)
                try:
                    admitted, state = await store.run("ADMIT", store.gate_keys,
                                                      [self._lease_ms, self._lease_ms, *tickets])  # fmt: skip
                except BeatAPIError as exc:
                    self._fail_waiting(exc)  # Redis out of reach: nothing is sent without a slot
                    return
                for raw in admitted:
                    ticket = raw.decode() if isinstance(raw, bytes) else str(raw)
                    fut = self._waiting.pop(ticket, None)
                    if fut is not None and not fut.done():
                        fut.set_result(None)
                    else:  # its request left meanwhile: the slot goes back
                        await RedisLease(self, ticket).release()
                if state and self._waiting and not await self._read_usage(first=state == 2):
                    return
                if self._waiting and not admitted:
                    with anyio.move_on_after(self._wait_interval):
                        await wake.wait()
        finally:
            if self._admitter is asyncio.current_task():
                self._admitter = None

    async def _read_usage(self, *, first: bool) -> bool:
        """Read ``/v1/usage`` for the fleet if it is this process's turn; False: the line failed."""
        store = self._store
        try:
            if not await store.try_lock_usage_read(self._token, self._read_interval_ms):
                return True  # another process reads it
        except BeatAPIError as exc:
            self._fail_waiting(exc)
            return False
        try:
            self.usage_reads += 1
            usage = await self._client.usage.get()
        except Exception as exc:
            if first or not _keeps_capacity(exc):
                # Nothing to go on (or an answer waiting will not change, such as 401):
                # this process's whole line fails now, not one request after another.
                self._fail_waiting(exc)
                return False
            logger.info("fleet gate: re-reading usage failed, keeping the last figures: %s", exc)
            with contextlib.suppress(BeatAPIError):
                await store.run("DEFER_READ", [store.usage], [self._read_interval_ms])
            return True
        try:
            figures = [usage.concurrency.limit, usage.concurrency.active, self._read_interval_ms, self._settle_ms]
            await store.run("STORE_USAGE", store.gate_keys, figures)
        except BeatAPIError as exc:
            self._fail_waiting(exc)
            return False
        return True

    async def _renew_while_holding(self) -> None:
        period = self._lease_seconds / 3
        try:
            while self._held or self._waiting:
                await anyio.sleep(period)
                with contextlib.suppress(BeatAPIError):  # logged by renew; leases expire if Redis stays away
                    await self.renew()
        finally:
            if self._renewer is asyncio.current_task():
                self._renewer = None

    # -- the rest of Gate -----------------------------------------------------------------

    async def renew(self) -> None:
        if not self._held and not self._waiting:
            return
        store = self._store
        items = [f"l:{lease}" for lease in self._held] + [f"t:{ticket}" for ticket in self._waiting]
        try:
            lost = await store.run("RENEW", store.gate_keys, [self._lease_ms, self._lease_ms, *items])
        except BeatAPIError as exc:
            logger.warning("fleet gate: could not renew leases: %s", exc)
            raise
        if lost:
            names = ", ".join(x.decode() if isinstance(x, bytes) else str(x) for x in lost)
            # Their tasks still count (as orphans) until usage says they stopped, so the fleet
            # stays within the limit; but this process's loop was blocked for too long.
            logger.log(logging.WARNING, "fleet gate: leases %s expired before they could be renewed (was the "
                       "event loop blocked for more than lease_seconds=%g?)", names, self._lease_seconds)  # fmt: skip

    async def refresh(self) -> None:
        store = self._store
        with contextlib.suppress(BeatAPIError):
            await store.run("DEFER_READ", [store.usage], [0])
        await self._read_usage(first=False)

    async def aclose(self) -> None:
        tasks = [t for t in (self._admitter, self._renewer) if t is not None and not t.done()]
        for t in tasks:
            t.cancel()
        for t in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await t
        tickets = list(self._waiting)
        self._fail_waiting(BeatAPIError(_CLOSED, code="client_closed"))
        with anyio.CancelScope(shield=True):
            if tickets:
                await self._leave_all(tickets)
            for lease in list(self._held.values()):
                await lease.release(still_running=lease._task_id is not None)

    async def _leave_all(self, tickets: list[str]) -> None:
        store = self._store
        with contextlib.suppress(BeatAPIError):
            await store.run("LEAVE", [store.line, store.line_exp], tickets)
