"""Credit admission: no create is sent that the account's balance (or the batch's cap) cannot cover.

BeatAPI charges a task's reservation to the balance when it accepts the create. So
what is left is the balance of the last ``GET /v1/usage`` read minus the reservations
of the creates sent since that read; each reservation is priced from the launch table
(``_pricing``) when it is made and corrected from the created task's own ``usage``
(BeatAPI's amounts win: newer deployments bill in dollars). Nothing is counted twice:
a reservation whose create was answered before a read began is in that read's balance
and leaves the ledger; one in flight during a read is counted until a read settles it,
and a request is only refused after a read that no create straddles.

``run``, ``run_many`` and ``as_completed`` reserve through a ``CreditAdmission`` after
taking a gate slot and before sending the create. ``LocalCreditAdmission`` serves one
process; a fleet shares its reservations through Redis (``beatapi_async.redis``).
"""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from ._exceptions import APIStatusError, InsufficientCreditsError
from ._logging import get_logger

if TYPE_CHECKING:
    from ._client import AsyncBeatAPI
    from ._models import Task, TaskUsage
    from ._pricing import Estimate

logger = get_logger("beatapi_async")
# How long a refusal waits for creates in flight to be answered before deciding without them.
SETTLE_SECONDS = 2.0


class CreditCap:
    """One batch's ``max_credits``: what its creates may reserve in all (refunds do not give it back)."""

    __slots__ = ("limit", "reserved")

    def __init__(self, limit: Decimal | int | float | str) -> None:
        from ._exceptions import RequestValidationError

        try:
            value = Decimal(str(limit))
        except Exception:
            raise RequestValidationError("max_credits", "must be a number") from None
        if isinstance(limit, bool) or not value.is_finite() or value < 0:
            raise RequestValidationError("max_credits", "must be a finite number of credits, 0 or more")
        self.limit = value
        self.reserved = Decimal(0)

    @property
    def left(self) -> Decimal:
        """What the batch may still reserve."""
        return max(Decimal(0), self.limit - self.reserved)


class Reservation:
    """The credits one create was admitted with; corrected from its task's ``usage``."""

    __slots__ = ("amount", "answered_at", "cap", "estimate", "probe", "sent_at", "task_id")

    def __init__(self, amount: Decimal, estimate: Estimate, cap: CreditCap | None, *, probe: bool = False) -> None:
        self.amount = amount
        self.estimate = estimate
        self.cap = cap
        self.probe = probe
        self.task_id: str | None = None
        # The ledger's event count when it was admitted, and when the create's outcome was known.
        self.sent_at = 0
        self.answered_at: int | None = None

    def __repr__(self) -> str:
        return f"Reservation(amount={self.amount}, task_id={self.task_id!r})"


@runtime_checkable
class CreditAdmission(Protocol):
    """Admission by credits. Callers: ``reserve`` -> create -> ``created`` or ``not_created``; ``finished``."""

    async def reserve(self, estimate: Estimate, *, cap: CreditCap | None = None) -> Reservation:
        """Take what a create will reserve from what is left, or raise a local ``InsufficientCreditsError``."""

    async def created(self, reservation: Reservation, task: Task) -> None:
        """BeatAPI accepted the create: correct the reservation from the task's own ``usage``."""

    async def not_created(self, reservation: Reservation, error: BaseException) -> None:
        """The create failed: give the reservation back when provably nothing was charged."""

    async def finished(self, reservation: Reservation, task: Task) -> None:
        """The task ended: a failed task's refund returns to the pool."""


def insufficient(needed: Decimal, left: Decimal, estimate: Estimate, *, cap: bool) -> InsufficientCreditsError:
    """The local error for a create that was not sent (``status`` None)."""
    code = "max_credits" if cap else "insufficient_credits"
    where = "the batch's max_credits leaves" if cap else "the account's balance leaves"
    return InsufficientCreditsError(
        f"this create would reserve {needed} but {where} {left}; it was not sent "
        f"({estimate.workflow} {estimate.reason})",
        status=None,
        code=code,
        details={"needed": needed, "left": left, "estimate": estimate},
    )


def charged_amount(usage: TaskUsage | None) -> Decimal | None:
    """What BeatAPI charged for a task at acceptance, or None when its answer does not say."""
    if usage is None:
        return None
    amount = usage.credits_charged or usage.credits_reserved
    return amount if amount > 0 else None


class UnitLearner:
    """Scales launch-table estimates to the deployment's own amounts (dollars on newer ones).

    The launch contract is assumed until a created task's ``usage`` shows otherwise;
    then BeatAPI's amounts win and the difference is logged once.
    """

    def __init__(self) -> None:
        self.ratio: Decimal | None = None  # deployment amount per launch credit; None: not seen yet
        self._logged = False

    def amount(self, estimate: Estimate) -> Decimal:
        return estimate.credits if self.ratio is None else estimate.credits * self.ratio

    def learn(self, estimate: Estimate, usage: TaskUsage | None) -> None:
        charged = charged_amount(usage)
        if charged is None or usage is None:
            return
        seconds = usage.billable_duration_seconds
        if estimate.rate and seconds:
            table, actual = estimate.rate, charged / seconds
        elif estimate.exact and estimate.credits:
            table, actual = estimate.credits, charged
        else:
            return  # the length was not known: the amounts differ for that reason alone
        ratio = actual / table
        if ratio != 1 and not self._logged:
            self._logged = True
            logger.warning(
                "credits: BeatAPI charged %s where the launch price table says %s (%s); "
                "admission uses BeatAPI's amounts from now on",
                charged, estimate.credits if estimate.exact else f"{table}/s", estimate.reason,
            )  # fmt: skip
        self.ratio = ratio


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
        # The table amount BeatAPI refused (402) before the unit was known, and the balance then.
        self._short: Decimal | None = None
        self._short_at = Decimal(0)
        self._answered: asyncio.Event | None = None
        self._lock: asyncio.Lock | None = None
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
        if self._short is not None and self._balance > self._short_at:
            self._short = None  # more than when BeatAPI said no: worth asking again
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

    def _answer(self, reservation: Reservation) -> None:
        if reservation.answered_at is None and reservation in self._pending:
            self._in_flight -= 1
        reservation.answered_at = self._tick()
        if self._answered is not None:
            self._answered.set()

    # -- the protocol ------------------------------------------------------------------------

    async def reserve(self, estimate: Estimate, *, cap: CreditCap | None = None) -> Reservation:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # one decision at a time, in arrival order
            amount = self.units.amount(estimate)
            if cap is not None and amount > cap.left:
                await self._settle_in_flight()  # their usage may lower what they hold of the cap
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
        """Before any answer told the unit, one create the table cannot fit may ask BeatAPI itself.

        A deployment that bills in dollars shows a balance the launch table (credits) can
        never fit; refusing locally would refuse everything. One create at a time finds out;
        BeatAPI's 402 (the launch unit, and truly short) stops further tries at that price.
        """
        if self.units.ratio is not None or self._balance is None or self._balance <= 0:
            return False
        if any(r.probe for r in self._pending if r.answered_at is None):
            return False
        return self._short is None or estimate.credits < self._short

    async def created(self, reservation: Reservation, task: Task) -> None:
        self._answer(reservation)
        reservation.probe = False
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
        reservation.probe = False
        if isinstance(error, APIStatusError) and error.status is not None and error.status < 500:
            # BeatAPI answered with a refusal: nothing was created, nothing charged.
            self._forget(reservation)
            if error.status == 402:
                self._doubt = True  # spent elsewhere, or the table was wrong: read before the next
                if self.units.ratio is None:
                    table = reservation.estimate.credits
                    self._short = table if self._short is None else min(self._short, table)
                    self._short_at = self._balance or Decimal(0)
        # Otherwise the create may have reached BeatAPI (a lost answer, a cancel): it stays
        # counted until a read that began after now shows the balance with or without it.

    async def finished(self, reservation: Reservation, task: Task) -> None:
        usage = task.usage
        refunded = usage.credits_refunded if usage is not None else Decimal(0)
        if refunded <= 0:
            return
        if reservation in self._pending:
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
