"""``RedisPollBudget``: one paced poll budget for every waiter of every process of a fleet."""

from __future__ import annotations

from .._config import PollPolicy
from ._store import Store


class RedisPollBudget:
    """A ``PollBudget`` in Redis: one token bucket (``budget_per_minute``, ``burst``) for the fleet.

    ``PollPolicy.budget_per_minute`` is the fleet's: all processes together stay under it,
    paced evenly. A pause (a 429 while polling) holds every process of the fleet.
    """

    def __init__(self, store: Store, policy: PollPolicy) -> None:
        self._store = store
        self._per_ms = policy.budget_per_minute / 60_000.0
        self._burst = policy.burst

    async def take(self) -> float:
        wait_ms = await self._store.run("TAKE", [self._store.poll], [repr(self._per_ms), self._burst])
        return int(wait_ms) / 1000.0

    async def pause(self, seconds: float) -> None:
        ms = max(0, round(seconds * 1000))
        await self._store.run("PAUSE", [self._store.poll], [repr(self._per_ms), self._burst, ms])

    async def aclose(self) -> None:
        return None
