"""Waiting for tasks: ``wait_for_task`` and the one poll scheduler each client shares.

All waiters of a client share one ``PollScheduler``: one background loop that polls
``GET /v1/tasks/{id}`` for every watched task, spending from one ``PollBudget``
(``_budget.py``: a token bucket of ``PollPolicy.budget_per_minute`` and ``burst``
in this process, or one a fleet shares through Redis), so ten thousand waiters never mean
ten thousand polls per interval (BeatAPI allows 120 per minute per key). Each task
is polled at its own cadence (the server's ``poll_after_seconds`` hint, else
``interval`` rising to ``max_interval`` with jitter); when the budget cannot serve
every cadence, the task due longest goes first, so all slow down fairly. A 429 or
a transient error pauses the whole budget (Retry-After honoured) and never ends a
wait; only the deadline or a non-retryable error does. When nobody waits, nothing
polls.
"""

from __future__ import annotations

import asyncio
import heapq
import inspect
import itertools
import math
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Literal, cast

import anyio
from tenacity import RetryCallState, wait_exponential, wait_random

from . import _rules as R
from ._budget import LocalPollBudget, PollBudget
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    BeatAPIError,
    InvalidResponseError,
    RequestValidationError,
    TaskFailedError,
    WaitTimeoutError,
)
from ._logging import get_logger
from ._models import Task
from ._options import NO_RETRIES
from ._retry import backoff, clamp_poll_hint, clamp_retry_after
from ._validate import path_id

if TYPE_CHECKING:
    from ._client import AsyncBeatAPI

Until = Literal["terminal", "actionable"]
OnUpdate = Callable[[Task], Any]
logger = get_logger("beatapi_async")

#: Statuses at which ``until="terminal"`` / ``until="actionable"`` stop.
STOP_AT: dict[str, frozenset[str]] = {
    "terminal": R.TERMINAL_STATUSES,
    "actionable": R.TERMINAL_STATUSES | R.ACTIONABLE_STATUSES,
}
MAX_IN_FLIGHT = 16  # polls on the wire at once (the budget, not this, sets the rate)


def _signature(task: Task) -> tuple[Any, ...]:
    """What ``on_update`` cares about: status, stage, each shot's status and media, output."""
    shots: tuple[Any, ...] = ()
    if task.storyboard is not None:
        shots = tuple((s.id, s.status, s.media.url if s.media else None) for s in task.storyboard.shots)
    return (task.status, task.stage, shots, task.video_url, task.error_code)


class _Attempt:
    """The one field of tenacity's ``RetryCallState`` its wait strategies read."""

    __slots__ = ("attempt_number",)

    def __init__(self, n: int) -> None:
        self.attempt_number = n


class _Waiter:
    __slots__ = ("error", "event", "latest")

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.latest: Task | None = None
        self.error: BaseException | None = None


class _Watch:
    """One watched task and the waiters on it."""

    __slots__ = ("due", "in_flight", "last", "polls", "task_id", "urgent", "waiters")

    def __init__(self, task_id: str, last: Task | None) -> None:
        self.task_id = task_id
        self.waiters: set[_Waiter] = set()
        self.due = 0.0
        self.polls = 0
        self.last = last
        self.in_flight: asyncio.Task[None] | None = None
        self.urgent = False


class PollScheduler:
    """The one poller of a client (see the module docstring)."""

    def __init__(
        self, client: AsyncBeatAPI, *, budget: PollBudget | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        policy = client.poll_policy
        self._client = client
        self._clock = clock
        self._budget = budget if budget is not None else LocalPollBudget(policy, clock=clock)
        self._policy = policy
        self._cadence = wait_exponential(
            multiplier=policy.interval, exp_base=1.5, min=policy.interval, max=policy.max_interval
        ) + wait_random(0, policy.jitter * policy.interval)
        self._watches: dict[str, _Watch] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._wake: asyncio.Event | None = None
        self._loop_task: asyncio.Task[None] | None = None
        self._polls: set[asyncio.Task[None]] = set()
        self._strikes = 0
        self._webhooks_seen = False
        self.polls_sent = 0

    # -- waiters ----------------------------------------------------------------------

    def watch(self, task_id: str, last: Task | None) -> _Waiter:
        """Register a waiter on ``task_id``; polled at once if nothing is known of it yet."""
        waiter = _Waiter()
        w = self._watches.get(task_id)
        if w is None:
            w = self._watches[task_id] = _Watch(task_id, last)
            self._schedule(w, 0.0 if last is None else self._next_delay(w, last))
            self._poke()  # the loop may be sleeping until a later poll
        elif w.last is not None:
            waiter.latest = w.last
        w.waiters.add(waiter)
        self._ensure_running()
        return waiter

    def unwatch(self, task_id: str, waiter: _Waiter) -> None:
        """Drop a waiter; a task nobody waits on any more stops being polled at once."""
        w = self._watches.get(task_id)
        if w is None:
            return
        w.waiters.discard(waiter)
        if not w.waiters:
            del self._watches[task_id]
            if w.in_flight is not None:
                w.in_flight.cancel()
            self._poke()

    def notify(self, task_id: str) -> None:
        """A webhook says ``task_id`` changed: check it now (one GET, the source of truth)."""
        self._webhooks_seen = True
        w = self._watches.get(task_id)
        if w is None:
            return
        w.urgent = True
        if w.in_flight is None:
            self._schedule_first(w)
        self._poke()

    @property
    def watched(self) -> int:
        """How many tasks are being polled."""
        return len(self._watches)

    async def aclose(self) -> None:
        """Stop polling; pending waiters see their wait end with an error."""
        for w in list(self._watches.values()):
            self._fail(w, APIConnectionError("The client was closed while waiting.", sent=False))
        tasks = [t for t in (self._loop_task, *self._polls) if t is not None]
        for t in tasks:
            t.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = None
        await self._budget.aclose()

    # -- the loop ---------------------------------------------------------------------

    def _poke(self) -> None:
        if self._wake is not None:
            self._wake.set()

    def _ensure_running(self) -> None:
        if self._loop_task is None or self._loop_task.done():
            self._wake = asyncio.Event()
            self._loop_task = asyncio.get_running_loop().create_task(self._run(), name="beatapi-async-poller")

    def _schedule_first(self, w: _Watch) -> None:
        # Ahead of every overdue poll: a webhook said this task changed.
        w.due = -math.inf
        heapq.heappush(self._heap, (w.due, next(self._seq), w.task_id))

    def _schedule(self, w: _Watch, delay: float) -> None:
        w.due = self._clock() + delay
        heapq.heappush(self._heap, (w.due, next(self._seq), w.task_id))

    def _next_due(self) -> _Watch | None:
        heap = self._heap
        while heap:
            due, _, task_id = heap[0]
            w = self._watches.get(task_id)
            if w is None or w.due != due or w.in_flight is not None:
                heapq.heappop(heap)  # stale entry
                continue
            return w
        return None

    async def _sleep(self, delay: float) -> None:
        assert self._wake is not None
        if delay <= 0:
            return
        self._wake.clear()
        with anyio.move_on_after(delay):
            await self._wake.wait()

    async def _run(self) -> None:
        try:
            while self._watches:
                now = self._clock()
                w = self._next_due()
                if w is None or len(self._polls) >= MAX_IN_FLIGHT:
                    await self._sleep(1.0 if w is None else 0.05)
                    continue
                if w.due > now and not w.urgent:
                    await self._sleep(w.due - now)
                    continue
                try:
                    wait = await self._budget.take()
                except BeatAPIError as exc:  # a shared budget out of reach: no poll without its permission
                    for each in list(self._watches.values()):
                        self._fail(each, exc)
                    return
                if wait > 0:
                    await self._sleep(wait)
                    continue
                # A shared budget answers over the network: what is most due may have changed meanwhile.
                w = self._next_due()
                if w is None:
                    continue
                heapq.heappop(self._heap)
                w.urgent = False
                poll = asyncio.get_running_loop().create_task(self._poll(w))
                w.in_flight = poll
                self._polls.add(poll)
                poll.add_done_callback(self._polls.discard)
        except Exception as exc:  # a bug here must end the waits, never leave them hanging
            for w in list(self._watches.values()):
                self._fail(w, exc)
            raise
        finally:
            if self._loop_task is asyncio.current_task():
                self._loop_task = None

    async def _poll(self, w: _Watch) -> None:
        self.polls_sent += 1
        w.polls += 1
        try:
            data = await self._client._request(
                "GET", f"/v1/tasks/{path_id('task_id', w.task_id)}", options=NO_RETRIES
            )
            task = self._client._load(data, Task)
        except asyncio.CancelledError:
            raise
        except (APIConnectionError, InvalidResponseError) as exc:
            await self._slow_down(w, exc, None)
            return
        except APIStatusError as exc:
            transient = exc.status == 429 or (exc.status is not None and exc.status >= 500)
            if exc.retryable is True or (exc.retryable is None and transient):
                await self._slow_down(w, exc, exc.retry_after)
            else:
                self._fail(w, exc)
            return
        except Exception as exc:  # never leave a waiter hanging on an unexpected error
            self._fail(w, exc)
            return
        finally:
            w.in_flight = None
        self._strikes = 0
        w.last = task
        for waiter in w.waiters:
            waiter.latest = task
            waiter.event.set()
        if w.task_id in self._watches:
            if w.urgent:  # a webhook arrived while this poll was on the wire: look again now
                self._schedule_first(w)
            else:
                self._schedule(w, self._next_delay(w, task))
            self._poke()

    def _next_delay(self, w: _Watch, task: Task) -> float:
        hint = task.poll_after_seconds
        if hint is not None and hint > 0 and not task.is_terminal:
            delay = clamp_poll_hint(hint, self._policy)  # a hint of 1e9 must not end polling
        else:
            delay = self._cadence(cast(RetryCallState, _Attempt(max(1, w.polls))))
        if self._webhooks_seen:
            delay = max(delay, self._policy.webhook_interval)
        return delay

    async def _slow_down(self, w: _Watch, exc: BaseException, retry_after: float | None) -> None:
        self._strikes += 1
        asked = clamp_retry_after(retry_after, self._client.max_retry_wait)  # a Retry-After of 1e9 stalls no one
        pause = max(asked, backoff(self._strikes) * self._policy.interval)
        logger.info("polling paused %.2fs after %s", pause, exc)
        if w.task_id in self._watches:
            self._schedule(w, pause)
        try:
            await self._budget.pause(pause)  # everyone sharing the budget pauses, not only this task
        except BeatAPIError as error:  # a shared budget out of reach: this task's wait cannot go on
            self._fail(w, error)
        self._poke()

    def _fail(self, w: _Watch, exc: BaseException) -> None:
        for waiter in w.waiters:
            waiter.error = exc
            waiter.event.set()
        self._watches.pop(w.task_id, None)


def _task_id_of(task_or_id: Task | str) -> tuple[str, Task | None]:
    if isinstance(task_or_id, Task):
        return task_or_id.id, task_or_id
    if isinstance(task_or_id, str):
        path_id("task_id", task_or_id)
        return task_or_id, None
    raise RequestValidationError("task", "must be a Task or a task id string")


async def _call(callback: OnUpdate | None, task: Task) -> None:
    if callback is None:
        return
    result = callback(task)
    if inspect.isawaitable(result):
        await result


async def wait_for_task(
    client: AsyncBeatAPI,
    task_or_id: Task | str,
    *,
    timeout: float | None = 900,
    until: Until = "terminal",
    on_update: OnUpdate | None = None,
    raise_on_failure: bool = True,
) -> Task:
    """Wait until a task finishes (``until="terminal"``) or needs action (``"actionable"``).

    ``timeout`` is one wall-clock deadline for the whole wait (None: none). The task
    keeps running at BeatAPI when the wait ends (there is no cancel endpoint).

    Raises:
        TaskFailedError: the task failed (unless ``raise_on_failure=False``).
        WaitTimeoutError: the deadline passed; carries the last task seen.
        APIStatusError: a non-retryable error (e.g. 401, 404) while polling.
    """
    if until not in STOP_AT:
        raise RequestValidationError("until", "must be 'terminal' or 'actionable'")
    # ``not timeout >= 0`` also refuses NaN, which anyio would reject with a raw ValueError.
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout >= 0):
        raise RequestValidationError("timeout", "must be a number of seconds >= 0 or None")
    if on_update is not None and not callable(on_update):
        raise RequestValidationError("on_update", "must be a callable taking the Task, or None")
    stop_at = STOP_AT[until]
    task_id, last = _task_id_of(task_or_id)

    def finish(task: Task) -> Task:
        if task.status == "failed" and raise_on_failure:
            raise TaskFailedError(task)
        return task

    if last is not None and last.status in stop_at:
        return finish(last)

    started = time.monotonic()
    scheduler = client._poller()
    waiter = scheduler.watch(task_id, last)
    seen = _signature(last) if last is not None else None
    try:
        with anyio.move_on_after(math.inf if timeout is None else timeout) as scope:
            while True:
                await waiter.event.wait()
                waiter.event.clear()
                if waiter.error is not None:
                    raise waiter.error
                task = waiter.latest
                if task is None:
                    continue
                last = task
                sig = _signature(task)
                if sig != seen:
                    seen = sig
                    await _call(on_update, task)
                if task.status in stop_at:
                    return finish(task)
        if scope.cancelled_caught:
            raise WaitTimeoutError(task_id, last_task=last, elapsed=time.monotonic() - started)
        raise AssertionError("unreachable")  # pragma: no cover
    finally:
        scheduler.unwatch(task_id, waiter)
