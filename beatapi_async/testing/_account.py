"""The emulated account: credit balance, the ledger, and the poll rate limit."""

from __future__ import annotations

import collections
import math
from decimal import Decimal
from typing import Literal

from ._records import LedgerEntry

Operation = Literal["create", "edit", "compose", "realtime"]


class Account:
    """A credit balance and the ledger of every charge, settlement and refund.

    A charge takes credits from the balance at once (BeatAPI reserves and
    charges at acceptance); a settlement keeps them; a refund gives them back.
    """

    def __init__(self, balance: Decimal) -> None:
        self.balance = balance
        self.ledger: list[LedgerEntry] = []

    def can_afford(self, amount: Decimal) -> bool:
        """Whether the balance covers ``amount``."""
        return self.balance >= amount

    def charge(self, amount: Decimal, operation: Operation, at: float, **subject: str) -> None:
        """Take ``amount`` from the balance (``subject``: ``task_id=`` or ``session_id=``)."""
        self.balance -= amount
        self._record("charge", amount, operation, at, subject)

    def settle(self, amount: Decimal, operation: Operation, at: float, **subject: str) -> None:
        """Record that charged credits were earned (the balance does not move)."""
        if amount:
            self._record("settle", amount, operation, at, subject)

    def refund(self, amount: Decimal, operation: Operation, at: float, **subject: str) -> None:
        """Give charged credits back."""
        if amount:
            self.balance += amount
            self._record("refund", amount, operation, at, subject)

    def _record(
        self,
        kind: Literal["charge", "settle", "refund"],
        amount: Decimal,
        operation: Operation,
        at: float,
        subject: dict[str, str],
    ) -> None:
        self.ledger.append(
            LedgerEntry(
                kind=kind,
                operation=operation,
                amount=amount,
                time=at,
                task_id=subject.get("task_id"),
                session_id=subject.get("session_id"),
            )
        )


class SlidingWindowLimit:
    """At most ``limit`` admitted hits per ``window`` BeatAPI seconds (None: no limit)."""

    def __init__(self, limit: int | None, window: float = 60.0) -> None:
        self.limit = limit
        self.window = window
        self._hits: collections.deque[float] = collections.deque()

    def hit(self, now: float) -> float | None:
        """Admit a hit at ``now`` and return None, or return BeatAPI seconds until one would be admitted."""
        hits = self._hits
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if self.limit is not None and len(hits) >= self.limit:
            return max(hits[0] + self.window - now, 0.0) if hits else self.window
        hits.append(now)
        return None

    def clear(self) -> None:
        """Forget every hit."""
        self._hits.clear()


def retry_after_real(beatapi_seconds: float, speed: float) -> int:
    """Return a Retry-After value: the BeatAPI wait in whole real seconds, at least 1.

    The header is an integer (contract: RateLimited), so a wait shorter than a
    real second rounds up to 1: a client that honours it never comes back early.
    """
    return max(1, math.ceil(beatapi_seconds / speed))
