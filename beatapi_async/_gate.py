"""The concurrency gate: at most the account's limit of our tasks running at once.

``run``, ``run_many`` and ``as_completed`` admit every create through a ``Gate``.
The in-process ``LocalGate`` sizes itself from ``GET /v1/usage`` (the account's
``concurrency.limit`` minus the ``active`` tasks that others hold), hands out slots
first come first served, and shrinks when BeatAPI answers 429
``user_concurrency_exceeded`` (another process took a slot), re-reading usage while
requests wait. Another implementation (say, one shared by many worker processes on
Redis) only has to provide the four coroutines of ``Gate``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from ._exceptions import APIConnectionError, APIStatusError, InvalidResponseError
from ._logging import get_logger

if TYPE_CHECKING:
    from ._client import AsyncBeatAPI

logger = get_logger("beatapi_async")

@runtime_checkable
class Gate(Protocol):
    """Admission to run a task. Callers: ``acquire`` -> create -> ``release`` when it stops running."""

    async def acquire(self) -> None:
        """Wait for a free slot and take it."""

    async def release(self) -> None:
        """Give a slot back (the task left the running states, or its create failed)."""

    async def refresh(self) -> None:
        """Re-read the account's limit and the slots others hold."""

    async def rejected(self, retry_after: float | None) -> None:
        """BeatAPI refused a create with 429 ``user_concurrency_exceeded``; its slot was released."""


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
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._lock: asyncio.Lock | None = None
        self._last_refresh = -math.inf
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

    def _free(self) -> bool:
        return self._capacity is not None and self._held < self._capacity

    async def acquire(self) -> None:
        if self._capacity is None:
            await self.refresh()
        loop = asyncio.get_running_loop()
        while True:
            if self._free() and not self._waiters:
                self._held += 1
                return
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            try:
                with anyio.move_on_after(self._refresh_interval):
                    await fut
            except BaseException:
                if fut.done() and not fut.cancelled():
                    # Woken for a free slot, then cancelled: pass the slot on, or the next
                    # waiter would sit out a whole refresh interval beside it.
                    self._wake()
                raise
            finally:
                if not fut.done():
                    fut.cancel()
                with contextlib.suppress(ValueError):
                    self._waiters.remove(fut)
            if self._free():
                self._held += 1
                self._wake()  # more may be free (capacity grew): pass the word on
                return
            if time.monotonic() - self._last_refresh >= self._refresh_interval:
                await self._refresh_while_waiting()

    async def _refresh_while_waiting(self) -> None:
        try:
            await self.refresh()
        except (APIConnectionError, InvalidResponseError, APIStatusError) as exc:
            # A request waiting in line must not fail because a re-read of usage did:
            # the last known capacity holds, and slots we free still wake waiters.
            # Only an answer that will not change by waiting (401, 403, ...) ends the wait.
            if isinstance(exc, APIStatusError) and exc.status is not None and exc.status < 500 and exc.status != 429:
                raise
            logger.info("concurrency gate: re-reading usage failed, keeping the last capacity: %s", exc)
            self._last_refresh = time.monotonic()

    def _wake(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    async def release(self) -> None:
        self._held = max(0, self._held - 1)
        if self._free():
            self._wake()

    async def refresh(self) -> None:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            now = time.monotonic()
            if now - self._last_refresh < self._refresh_interval / 2 and self._capacity is not None:
                return  # another waiter just did
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
        if self._free():
            self._wake()

    async def rejected(self, retry_after: float | None) -> None:
        self.rejections += 1
        # Someone else took the slot: we can hold no more than now until usage says otherwise.
        limit = self._limit if self._limit is not None else self._held
        self._others = max(self._others or 0, limit - self._held)
        self._capacity = max(0, limit - self._others)
        self._lower_since = None
        # Re-read usage at the next wait (or once BeatAPI's Retry-After has passed).
        delay = 0.0 if retry_after is None else retry_after
        self._last_refresh = time.monotonic() + delay - self._refresh_interval
