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
taking a gate slot and before sending the create. ``LocalCreditAdmission`` (``_ledger``)
serves one process; a fleet shares its reservations through Redis.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import anyio

from ._exceptions import InsufficientCreditsError
from ._logging import get_logger

if TYPE_CHECKING:
    from ._client import AsyncBeatAPI
    from ._models import Task, TaskRequest, TaskUsage
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

    __slots__ = ("amount", "answered_at", "cap", "estimate", "key", "probe", "sent_at", "task_id")

    def __init__(self, amount: Decimal, estimate: Estimate, cap: CreditCap | None, *, probe: bool = False) -> None:
        self.amount = amount
        self.estimate = estimate
        self.cap = cap
        self.probe = probe
        self.task_id: str | None = None
        self.key = ""  # how a shared ledger (Redis) names it
        # The ledger's event count when it was admitted, and when the create's outcome was known.
        self.sent_at = 0
        self.answered_at: int | None = None

    def __repr__(self) -> str:
        return f"Reservation(amount={self.amount}, task_id={self.task_id!r})"


@runtime_checkable
class CreditAdmission(Protocol):
    """Admission by credits. Callers: ``reserve`` -> create -> ``created`` or ``not_created``; ``finished``."""

    async def reserve(self, request: TaskRequest | Estimate, *, cap: CreditCap | None = None) -> Reservation:
        """Take what a create of ``request`` will reserve from what is left, or raise a local
        ``InsufficientCreditsError`` (``request``: a request, priced by ``client.estimate``, or an ``Estimate``)."""

    async def created(self, reservation: Reservation, task: Task) -> None:
        """BeatAPI accepted the create: correct the reservation from the task's own ``usage``."""

    async def not_created(self, reservation: Reservation, error: BaseException) -> None:
        """The create failed: give the reservation back when provably nothing was charged."""

    async def finished(self, task: Task) -> None:
        """A task admitted here ended: a failed task's refund returns to the pool (idempotent)."""


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


def may_ask(
    units: UnitLearner, estimate: Estimate, balance: Decimal, left: Decimal, blocked_at: Decimal | None
) -> bool:
    """Whether a create the figures cannot show covered may ask BeatAPI itself (one at a time).

    Two cases cannot be decided locally. A song of unknown length: its estimate is the
    upper bound, and the song may well be short. And, before any answer told the unit, a
    balance in dollars and cents: the launch table's credits never fit it, so refusing
    would refuse everything (a whole balance is read as launch credits, the contract's
    unit). BeatAPI's 402 to such a create stops further tries until a read shows more
    (``blocked_at``): at most one 402 per balance.
    """
    if balance <= 0 or left <= 0 or (blocked_at is not None and balance <= blocked_at):
        return False
    if not estimate.exact:
        return True
    return units.ratio is None and balance != balance.to_integral_value()


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


MaxCredits = Decimal | int | float | str | CreditCap | None
"""``max_credits=``: a number (this call's own cap), a ``CreditCap`` shared by several calls, or None."""


def as_cap(max_credits: MaxCredits) -> CreditCap | None:
    """The cap ``max_credits=`` stands for (checked before anything is sent)."""
    if max_credits is None or isinstance(max_credits, CreditCap):
        return max_credits
    return CreditCap(max_credits)


async def create_within_credits(
    client: AsyncBeatAPI, request: TaskRequest, *, idempotency_key: str | None, cap: CreditCap | None
) -> Task:
    """Reserve what ``request`` costs through ``client.credit_admission``, then create it.

    Raises a local ``InsufficientCreditsError`` (nothing sent) when the balance or ``cap``
    cannot cover it.
    """
    from ._models import MusicVideoRequest
    from .resources._common import create_task

    admission = client.credit_admission
    reservation = await admission.reserve(request, cap=cap)
    try:
        task = await create_task(client, request, idempotency_key=idempotency_key)
    except BaseException as exc:
        with anyio.CancelScope(shield=True):
            await admission.not_created(reservation, exc)
        raise
    seconds = task.usage.billable_duration_seconds if task.usage is not None else None
    if isinstance(request, MusicVideoRequest) and request.duration is None and seconds:
        # What BeatAPI measured for this song prices its next use exactly.
        client._remember_audio(request.audio_url, float(seconds))
    await admission.created(reservation, task)
    return task
