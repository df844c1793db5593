"""``LocalCreditAdmission``: the credit ledger of one process (the rule is in ``_credits``).

What is left is the balance of the last ``GET /v1/usage`` read minus the reservations of
the creates sent since that read. A reservation is dropped once a read that began after
its create's answer has it; one whose create was in flight during a read is counted until
a read settles it; a refusal is decided only on exact figures (every answer in, no
straddled read). Refunds return from the task's own usage, or through the next read.
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import TYPE_CHECKING

import anyio

from ._credits import SETTLE_SECONDS, CreditCap, Reservation, UnitLearner, charged_amount, insufficient, may_ask
from ._exceptions import APIStatusError

if TYPE_CHECKING:
    from ._client import AsyncBeatAPI
    from ._models import Task, TaskRequest
    from ._pricing import Estimate


class LocalCreditAdmission:
    """A ``CreditAdmission`` for one process: the last ``/v1/usage`` balance minus what was sent since."""

    def __init__(
        self, client: AsyncBeatAPI, *, refresh_interval: float | None = None, settle_timeout: float = SETTLE_SECONDS
    ) -> None:
        self._client = client
        self._settle_timeout = settle_timeout
        # A refusal re-reads the balance when the last read is older than this (a top-up, others' refunds).
        self._refresh_interval = refresh_interval if refresh_interval is not None else max(
            client.poll_policy.interval, 0.01
        )
        self._balance: Decimal | None = None
        self._read_at = -float("inf")
        self._read_started = 0  # event count when the last read began
        self._events = 0
        # Sent (or in flight) and not yet in a read's balance; their amounts' sum; the unanswered.
        self._pending: dict[Reservation, None] = {}
        self._pending_total = Decimal(0)
        self._in_flight = 0
        self._by_task: dict[str, Reservation] = {}
        self._stale = False  # something since the last read made the balance higher (a refund)
        self._doubt = False  # BeatAPI refused a create for credits: our view was too high
        # BeatAPI refused a create we could not price for sure (402): no more tries until a read
        # shows a balance above this one.
        self._blocked_at: Decimal | None = None
        self._answered: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.units = UnitLearner()
        self.refused = 0

    # -- what is left -------------------------------------------------------------------

    @property
    def balance(self) -> Decimal | None:
        """The balance of the last ``/v1/usage`` read (None before the first)."""
        return self._balance

    @property
    def left(self) -> Decimal | None:
        """The last balance minus the reservations of creates sent since (None before the first read)."""
        if self._balance is None:
            return None
        return self._balance - self._pending_total

    def _tick(self) -> int:
        self._events += 1
        return self._events

    def _straddled(self) -> bool:
        """Whether some reservation may or may not be in the last read (its create was in flight during it)."""
        return any(r.sent_at < self._read_started for r in self._pending)

    async def _read(self) -> None:
        started = self._tick()
        usage = await self._client.usage.get()
        self._balance = usage.credit_balance
        if self._blocked_at is not None and self._balance > self._blocked_at:
            self._blocked_at = None  # more than when BeatAPI said no: worth asking again
        self._read_started = started
        self._read_at = time.monotonic()
        self._stale = self._doubt = False
        # Answered before the read began: BeatAPI had charged it, the balance shows it.
        for r in [r for r in self._pending if r.answered_at is not None and r.answered_at < started]:
            self._drop(r)

    async def _settle_in_flight(self) -> None:
        """Wait (a bounded time) until every create in flight has its answer.

        Their own ``usage`` corrects their amounts, and the next read straddles none of
        them: a refusal is decided on exact figures. A create that hangs past the bound
        stays counted at its estimate (never less than it may cost).
        """
        with anyio.move_on_after(self._settle_timeout):
            while self._in_flight:
                if self._answered is None:
                    self._answered = asyncio.Event()
                self._answered.clear()
                await self._answered.wait()

    def _bind_loop(self) -> None:
        """Primitives for the running loop (one client on successive ``asyncio.run``)."""
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        if self._loop is not None:
            # Creates in flight on the old loop will never be answered here: they stay
            # counted until the next read, which is made before the next decision.
            for r in self._pending:
                if r.answered_at is None:
                    r.answered_at = self._tick()
            self._in_flight = 0
            self._doubt = True
        self._loop, self._lock, self._answered = loop, asyncio.Lock(), None

    def _answer(self, reservation: Reservation) -> None:
        if reservation.answered_at is None and reservation in self._pending:
            self._in_flight -= 1
        reservation.answered_at = self._tick()
        if self._answered is not None:
            self._answered.set()

    # -- the protocol ------------------------------------------------------------------------

    async def reserve(self, request: TaskRequest | Estimate, *, cap: CreditCap | None = None) -> Reservation:
        from ._pricing import Estimate

        def price() -> Estimate:
            # Priced again after waiting: an answer may have told a song's length or the unit.
            return request if isinstance(request, Estimate) else self._client.estimate(request)

        self._bind_loop()
        assert self._lock is not None
        async with self._lock:  # one decision at a time, in arrival order
            estimate = price()
            amount = self.units.amount(estimate)
            if cap is not None and amount > cap.left:
                await self._settle_in_flight()  # their usage may lower what they hold of the cap
                estimate = price()
                amount = self.units.amount(estimate)
                if amount > cap.left:
                    self.refused += 1
                    raise insufficient(amount, cap.left, estimate, cap=True)
            if self._doubt:
                await self._settle_in_flight()
            if self._balance is None or self._doubt:
                await self._read()
            probe = False
            left = self.left
            assert left is not None
            if amount > left:
                # Refuse only on exact figures: every answer in, and a read that none straddles.
                await self._settle_in_flight()
                if self._stale or self._straddled() or time.monotonic() - self._read_at >= self._refresh_interval:
                    await self._read()
                estimate = price()
                amount = self.units.amount(estimate)
                left = self.left
                assert left is not None
                if amount > left:
                    probe = self._may_probe(estimate)
                    if not probe:
                        self.refused += 1
                        raise insufficient(amount, max(left, Decimal(0)), estimate, cap=False)
            reservation = Reservation(amount, estimate, cap, probe=probe)
            reservation.sent_at = self._tick()
            self._pending[reservation] = None
            self._pending_total += amount
            self._in_flight += 1
            if cap is not None:
                cap.reserved += amount
            return reservation

    def _may_probe(self, estimate: Estimate) -> bool:
        if self._balance is None or self.left is None:
            return False
        if any(r.probe for r in self._pending if r.answered_at is None):
            return False  # one question at a time
        return may_ask(self.units, estimate, self._balance, self.left, self._blocked_at)

    async def created(self, reservation: Reservation, task: Task) -> None:
        self._answer(reservation)
        self.units.learn(reservation.estimate, task.usage)
        twin = self._by_task.get(task.id)
        if twin is not None and twin is not reservation:
            actual = Decimal(0)  # the same task answered twice (one Idempotency-Key): counted once
        else:
            actual = charged_amount(task.usage) or reservation.amount
            if reservation in self._pending:
                self._by_task[task.id] = reservation
        self._correct(reservation, actual)
        reservation.task_id = task.id

    async def not_created(self, reservation: Reservation, error: BaseException) -> None:
        self._answer(reservation)
        if isinstance(error, APIStatusError) and error.status is not None and error.status < 500:
            # BeatAPI answered with a refusal: nothing was created, nothing charged.
            self._forget(reservation)
            if error.status == 402:
                self._doubt = True  # spent elsewhere, or the table was wrong: read before the next
                if reservation.probe:
                    self._blocked_at = self._balance or Decimal(0)
        # Otherwise the create may have reached BeatAPI (a lost answer, a cancel): it stays
        # counted until a read that began after now shows the balance with or without it.

    async def finished(self, task: Task) -> None:
        usage = task.usage
        refunded = usage.credits_refunded if usage is not None else Decimal(0)
        if refunded <= 0:
            return
        reservation = self._by_task.get(task.id)
        if reservation is not None:
            # Not in any read yet: what it holds of the balance is the charge minus the refund.
            charged = charged_amount(usage) or reservation.amount
            self._correct(reservation, max(Decimal(0), min(reservation.amount, charged - refunded)), cap=False)
        else:
            self._stale = True  # the refund shows in the next read

    def _correct(self, reservation: Reservation, actual: Decimal, *, cap: bool = True) -> None:
        if cap and reservation.cap is not None:
            reservation.cap.reserved += actual - reservation.amount
        if reservation in self._pending:
            self._pending_total += actual - reservation.amount
        reservation.amount = actual

    def _forget(self, reservation: Reservation) -> None:
        """Nothing was charged: off the cap and off the ledger."""
        self._correct(reservation, Decimal(0))
        self._drop(reservation)

    def _drop(self, reservation: Reservation) -> None:
        """Off the ledger (its charge is in the balance now, or there was none)."""
        if self._pending.pop(reservation, False) is None:
            self._pending_total -= reservation.amount
            if reservation.answered_at is None:
                self._in_flight -= 1
            if reservation.task_id is not None and self._by_task.get(reservation.task_id) is reservation:
                del self._by_task[reservation.task_id]
