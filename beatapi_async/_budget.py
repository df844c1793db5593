"""The poll budget: how many ``GET /v1/tasks/{id}`` the waits of a client (or a fleet) may send.

BeatAPI limits polls per key (120 a minute), so every waiter of a client spends from
one budget, paced evenly: over any span of T seconds at most ``budget_per_minute x T /
60`` polls plus a small ``burst``. A 429 or a transient error while polling pauses the
whole budget (everyone who shares it), with no burst right after.

``PollScheduler`` only asks a ``PollBudget`` for permission and reports pauses to it;
``LocalPollBudget`` is the token bucket of one process, and
``beatapi_async.redis`` has the kind a fleet of processes shares.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from ._config import PollPolicy


@runtime_checkable
class PollBudget(Protocol):
    """Permission to poll, shared by every waiter that uses it."""

    async def take(self) -> float:
        """Spend one poll if allowed now (return 0.0), else return the seconds until asking again may succeed."""

    async def pause(self, seconds: float) -> None:
        """Allow no poll for ``seconds`` (BeatAPI answered 429, or polling failed), and no burst after."""

    async def aclose(self) -> None:
        """Let go of what the budget holds (nothing, for the local kind)."""


class LocalPollBudget:
    """A ``PollBudget`` for one process: a token bucket of ``budget_per_minute`` with ``burst``."""

    def __init__(self, policy: PollPolicy, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._rate = policy.budget_per_minute / 60.0
        self._burst = float(policy.burst)
        self._tokens = self._burst
        self._stamp = clock()
        self._paused_until = -1.0

    def take_now(self) -> float:
        """``take`` without the coroutine: the same answer, synchronously."""
        now = self._clock()
        if self._paused_until > now:
            return self._paused_until - now
        self._tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return 0.0
        return (1.0 - self._tokens) / self._rate

    async def take(self) -> float:
        return self.take_now()

    async def pause(self, seconds: float) -> None:
        now = self._clock()
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
        # Restart the bucket empty when the pause ends: no burst right after a 429.
        self._tokens = 0.0
        self._stamp = max(self._stamp, self._paused_until)

    async def aclose(self) -> None:
        return None
