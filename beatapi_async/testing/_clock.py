"""The emulator's scaled clock and its timeline of due events.

BeatAPI time runs ``speed`` times faster than real time: at ``speed=1000`` a
two-minute render takes 0.12 real seconds. Work that falls due later (a task
moving to its next state, a session expiring) goes on one heap and is applied,
in time order, whenever somebody looks (a request, an introspection property,
the delivery loop). No timer per task: ten thousand tasks cost ten thousand
heap entries, not ten thousand sleeping coroutines.
"""

from __future__ import annotations

import heapq
import itertools
import time
from collections.abc import Callable
from typing import Any


class Clock:
    """BeatAPI time (unix seconds) derived from the real monotonic clock, scaled by ``speed``."""

    def __init__(self, speed: float = 1.0) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self._speed = float(speed)
        self._origin = time.time()  # BeatAPI time starts at the real wall clock
        self._real_origin = time.monotonic()

    @property
    def speed(self) -> float:
        """How many BeatAPI seconds pass per real second."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        if value <= 0:
            raise ValueError("speed must be positive")
        # Re-anchor so BeatAPI time stays continuous across the change.
        self._origin = self.now()
        self._real_origin = time.monotonic()
        self._speed = float(value)

    def now(self) -> float:
        """Return the current BeatAPI time in unix seconds."""
        return self._origin + (time.monotonic() - self._real_origin) * self._speed

    def to_real(self, beatapi_seconds: float) -> float:
        """Convert a BeatAPI duration to real seconds."""
        return beatapi_seconds / self._speed


class Timeline:
    """A heap of callbacks due at BeatAPI times, run in time order by ``advance``."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Callable[..., None], tuple[Any, ...]]] = []
        self._seq = itertools.count()
        # Called when a new event becomes the earliest, so a loop sleeping until
        # the previous earliest one can wake up sooner.
        self.on_new_earliest: Callable[[], None] | None = None

    def __len__(self) -> int:
        return len(self._heap)

    def schedule(self, at: float, callback: Callable[..., None], *args: Any) -> None:
        """Run ``callback(at, *args)`` once BeatAPI time reaches ``at``."""
        # The sequence number keeps equal times in scheduling order and spares
        # comparing callbacks.
        heapq.heappush(self._heap, (at, next(self._seq), callback, args))
        if self.on_new_earliest is not None and self._heap[0][0] == at:
            self.on_new_earliest()

    def next_due(self) -> float | None:
        """Return the BeatAPI time of the earliest pending event, if any."""
        return self._heap[0][0] if self._heap else None

    def advance(self, now: float) -> int:
        """Run every event due at or before ``now``, earliest first; return how many ran."""
        ran = 0
        heap = self._heap
        while heap and heap[0][0] <= now:
            at, _, callback, args = heapq.heappop(heap)
            # Callbacks run at their own due time, so a state change that
            # schedules a follow-up (queued -> processing -> done) lands exactly.
            callback(at, *args)
            ran += 1
        return ran

    def clear(self) -> None:
        """Forget every pending event."""
        self._heap.clear()
