"""Each attempt's total deadline (``Timeouts.total``), watched by one timer per event loop.

aiohttp enforces a total timeout with a loop timer made, pushed on the loop's heap and
cancelled for every request, plus a timer context entered at every step of the answer:
about a quarter of a small GET's own cost. Here an attempt only notes its task and its
deadline in a set; one timer, armed for the earliest deadline it knows, wakes, cancels
the attempts whose deadline has passed and re-arms for the next. With one client's usual
timeout, deadlines come in order and the timer wakes about once per ``total`` seconds.

An attempt whose task was cancelled this way turns the ``CancelledError`` into a timeout
(``expired``); any other cancellation passes through as it is (on Python 3.11+ by the
task's cancel count, as ``asyncio.timeout`` does; on 3.10, where tasks keep no count, a
cancellation that arrives with the deadline counts as the timeout, as in aiohttp).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from typing import Any

from ._exceptions import BeatAPIError
from ._loops import clock_of

_current_task = asyncio.current_task

if sys.version_info >= (3, 11):
    _COUNTS_CANCELS = True
    _cancelling: Callable[[asyncio.Task[Any]], int] = asyncio.Task.cancelling
    _uncancel: Callable[[asyncio.Task[Any]], int] = asyncio.Task.uncancel
else:  # tasks keep no count of cancellations
    _COUNTS_CANCELS = False

    def _cancelling(task: asyncio.Task[Any]) -> int:
        return 0

    _uncancel = _cancelling


class Attempt:
    """One attempt in flight: its task, its deadline (loop time), whether it expired.

    (Made by ``Deadlines.start``, which sets every field: no ``__init__`` call per request.)
    """

    __slots__ = ("cancelling", "deadline", "expired", "task")

    task: asyncio.Task[Any]
    deadline: float
    expired: bool
    cancelling: int  # cancellations already pending when it began: not ours to absorb

    def timed_out(self) -> bool:
        """Whether a ``CancelledError`` that ends the attempt is its deadline (and nothing else)."""
        if not self.expired:
            return False
        if _COUNTS_CANCELS:
            return _uncancel(self.task) <= self.cancelling
        return True


class Deadlines:
    """The total deadlines of the attempts in flight on one event loop."""

    __slots__ = ("_armed", "_clock", "_loop", "_pending", "_wake_at")

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._clock = clock_of(loop)
        self._pending: set[Attempt] = set()
        self._armed: asyncio.TimerHandle | None = None
        self._wake_at = float("inf")

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    def start(self, seconds: float | None) -> Attempt | None:
        """Begin an attempt of the current task that must end within ``seconds`` (None: no limit)."""
        if seconds is None:
            return None
        task = _current_task(self._loop)
        if task is None:
            raise BeatAPIError("BeatAPI calls must run inside an asyncio task", code="no_task")
        attempt = Attempt()
        attempt.task, attempt.deadline, attempt.expired = task, self._clock() + seconds, False
        attempt.cancelling = _cancelling(task)
        self._pending.add(attempt)
        if attempt.deadline < self._wake_at:  # earlier than the timer knows (a shorter timeout)
            self._arm(attempt.deadline)
        return attempt

    def end(self, attempt: Attempt) -> None:
        """The attempt is over (however it ended); the timer forgets it when it next wakes."""
        self._pending.discard(attempt)

    def _arm(self, when: float) -> None:
        if self._armed is not None:
            self._armed.cancel()
        self._armed = self._loop.call_at(when, self._wake)
        self._wake_at = when

    def _wake(self) -> None:
        self._armed, self._wake_at = None, float("inf")
        # The loop runs a timer up to its clock's resolution early: count that as due.
        now = self._loop.time() + getattr(self._loop, "_clock_resolution", 0.0)
        upcoming = float("inf")
        for attempt in list(self._pending):
            if attempt.deadline <= now:
                self._pending.discard(attempt)
                attempt.expired = True
                attempt.task.cancel()
            elif attempt.deadline < upcoming:
                upcoming = attempt.deadline
        if self._pending:
            self._arm(upcoming)
