"""``LocalCreditAdmission``: what is left, corrections from task usage, refunds, the cap, dollars."""

from __future__ import annotations

import asyncio
import logging
from decimal import Decimal
from typing import Any

import pytest

from beatapi_async import (
    APIConnectionError,
    BadRequestError,
    EcommerceVideoRequest,
    InsufficientCreditsError,
    MusicVideoRequest,
    RequestValidationError,
    Task,
    TaskUsage,
)
from beatapi_async import _pricing as P
from beatapi_async._credits import CreditAdmission, CreditCap
from beatapi_async._ledger import LocalCreditAdmission

IMAGES = ["https://cdn.example.com/a.png"]


class Usage:
    def __init__(self, balance: Decimal) -> None:
        self.credit_balance = balance


class Account:
    """A stub client: ``usage.get()`` answers the balance; counts the reads."""

    def __init__(self, balance: int | str) -> None:
        self.balance = Decimal(balance)
        self.reads = 0
        self.usage = self
        self.poll_policy = type("P", (), {"interval": 0.0})()

    async def get(self) -> Usage:
        self.reads += 1
        await asyncio.sleep(0)
        return Usage(self.balance)


def ec(duration: int = 10) -> P.Estimate:
    return P.estimate(EcommerceVideoRequest(images=IMAGES, duration=duration))  # 15/s


def task(task_id: str, charged: Decimal | int | str, *, refunded: int | str = 0, seconds: int | None = None,
         status: str = "queued") -> Task:  # fmt: skip
    usage = TaskUsage(
        credits_reserved=Decimal(charged), credits_charged=Decimal(charged),
        credits_refunded=Decimal(refunded), billable_duration_seconds=seconds,
    )  # fmt: skip
    return Task(id=task_id, status=status, usage=usage)


def admission(account: Account, **kwargs: Any) -> LocalCreditAdmission:
    kwargs.setdefault("settle_timeout", 0.01)
    return LocalCreditAdmission(account, **kwargs)  # type: ignore[arg-type]


async def accept(credits: LocalCreditAdmission, account: Account, reservation: Any, created: Task) -> None:
    """BeatAPI accepts the create: it charges the balance, then the answer arrives."""
    assert created.usage is not None
    account.balance -= created.usage.credits_charged
    await credits.created(reservation, created)


async def test_it_is_a_credit_admission() -> None:
    assert isinstance(admission(Account(10)), CreditAdmission)


async def test_what_is_left_is_the_balance_minus_what_was_sent_since_the_read() -> None:
    account = Account(400)
    credits = admission(account, refresh_interval=3600)
    r1 = await credits.reserve(ec())  # 150
    await credits.created(r1, task("task_1", 150))
    r2 = await credits.reserve(ec())  # 150
    await credits.created(r2, task("task_2", 150))
    account.balance = Decimal(100)  # BeatAPI charged both at acceptance
    assert credits.left == 100 and account.reads == 1
    with pytest.raises(InsufficientCreditsError) as info:
        await credits.reserve(ec())
    assert account.reads == 1  # both were sent after the read: the figure is exact, no read needed
    error = info.value
    assert (error.status, error.code, error.request_id) == (None, "insufficient_credits", None)
    assert "not sent" in str(error) and "150" in str(error) and "insufficient_credits" in str(error)
    assert error.details["needed"] == 150 and error.details["left"] == 100
    assert credits.refused == 1


async def test_a_read_after_the_answers_does_not_count_them_twice() -> None:
    account = Account(400)
    credits = admission(account, refresh_interval=0)
    r1 = await credits.reserve(ec())
    await credits.created(r1, task("task_1", 150))
    account.balance = Decimal(250)  # BeatAPI took it at acceptance
    assert credits.left == 250
    with pytest.raises(InsufficientCreditsError):
        await credits.reserve(ec(20 * 2))  # 600 > 250: read again: 250, r1 is in it, not counted twice
    assert credits.left == 250 and account.reads == 2
    await credits.reserve(ec(16))  # 240 fits


async def test_a_refusal_waits_for_creates_in_flight_then_reads_again() -> None:
    account = Account(300)
    credits = admission(account, refresh_interval=0, settle_timeout=5)
    r1 = await credits.reserve(ec())
    r2 = await credits.reserve(ec())  # 0 left

    async def answer() -> None:
        await asyncio.sleep(0.01)
        account.balance = Decimal(300 - 150)  # BeatAPI charged r1 only ...
        await credits.created(r1, task("task_1", 150))
        await credits.not_created(r2, BadRequestError("no", status=400))  # ... and refused r2

    answering = asyncio.ensure_future(answer())
    r3 = await credits.reserve(ec())  # after both answers: 150 left, and nothing counted twice
    await answering
    assert credits.left == 0 and r3.amount == 150


async def test_the_tasks_own_usage_corrects_the_reservation() -> None:
    account = Account(10_000)
    credits = admission(account)
    song = MusicVideoRequest(images=IMAGES, audio_url="https://cdn.example.com/s.mp3")
    estimate = P.estimate(song)  # unknown length: 180 s x 5 = 900, an upper bound
    reservation = await credits.reserve(estimate)
    assert reservation.amount == 900
    await credits.created(reservation, task("task_1", 150, seconds=30))  # 30 s measured: 150
    assert reservation.amount == 150 and credits.left == 10_000 - 150
    assert credits.units.ratio == 1  # the rate agreed with the table


async def create_two(credits: Any) -> None:
    """Reserve and create task_1 and task_2, 150 credits each."""
    for task_id in ("task_1", "task_2"):
        reservation = await credits.reserve(ec())
        await credits.created(reservation, task(task_id, 150))


async def test_a_refund_returns_to_the_pool() -> None:
    account = Account(300)
    credits = admission(account, refresh_interval=3600)
    await create_two(credits)
    account.balance = Decimal(0)
    with pytest.raises(InsufficientCreditsError):
        await credits.reserve(ec())
    account.balance = Decimal(150)  # task_1 failed: BeatAPI refunded it
    await credits.finished(task("task_1", 150, refunded=150, status="failed"))
    assert credits.left == 150  # from the task's own usage: it was not in any read yet
    reads = account.reads
    await credits.reserve(ec())  # the refunded credits pay for it
    assert account.reads == reads


async def test_a_refund_after_a_read_is_seen_by_the_next_read_only() -> None:
    account = Account(300)
    credits = admission(account, refresh_interval=0.05)
    await create_two(credits)
    account.balance = Decimal(0)
    await asyncio.sleep(0.06)
    with pytest.raises(InsufficientCreditsError):
        await credits.reserve(ec())  # the last read is old: read again (0), both are in it
    assert account.reads == 2 and credits.left == 0
    with pytest.raises(InsufficientCreditsError):
        await credits.reserve(ec())  # nothing changed: refused without another read
    assert account.reads == 2
    account.balance = Decimal(150)
    await credits.finished(task("task_1", 150, refunded=150, status="failed"))
    assert credits.left == 0  # the read had its charge; whether it had the refund, only a read says
    await credits.reserve(ec())  # the refund made the view stale: read again, 150 left
    assert account.reads == 3


async def test_a_create_refused_by_beatapi_gives_its_reservation_back() -> None:
    credits = admission(Account(150))
    r1 = await credits.reserve(ec())
    await credits.not_created(r1, BadRequestError("bad", status=400))
    assert credits.left == 150


async def test_a_create_whose_answer_was_lost_stays_counted_until_a_read() -> None:
    account = Account(300)
    credits = admission(account, refresh_interval=0)
    r1 = await credits.reserve(ec())
    await credits.not_created(r1, APIConnectionError("lost"))
    assert credits.left == 150  # it may have been charged
    account.balance = Decimal(300)  # it was not: a read says so
    await credits.reserve(ec(20))  # 300 needs a read: 300 left
    assert credits.left == 0


async def test_the_same_task_answered_twice_is_counted_once() -> None:
    credits = admission(Account(1000))
    r1 = await credits.reserve(ec())
    r2 = await credits.reserve(ec())
    await credits.created(r1, task("task_same", 150))
    await credits.created(r2, task("task_same", 150))
    assert credits.left == 850


async def test_the_cap_stops_admission_and_is_not_given_back_by_refunds() -> None:
    credits = admission(Account(10_000))
    cap = CreditCap(400)
    r1 = await credits.reserve(ec(), cap=cap)
    await credits.reserve(ec(), cap=cap)
    with pytest.raises(InsufficientCreditsError) as info:
        await credits.reserve(ec(), cap=cap)
    assert (info.value.status, info.value.code) == (None, "max_credits")
    assert cap.reserved == 300 and cap.left == 100
    await credits.created(r1, task("task_1", 150))
    await credits.finished(task("task_1", 150, refunded=150, status="failed"))
    assert cap.reserved == 300  # "never reserves more than max_credits in all"
    # A create BeatAPI refused reserved nothing: it leaves the cap as it found it.
    small = CreditCap(150)
    r3 = await credits.reserve(ec(), cap=small)
    assert small.left == 0
    await credits.not_created(r3, BadRequestError("bad", status=400))
    assert small.left == 150


@pytest.mark.parametrize("bad", [-1, "x", float("nan"), float("inf"), True, None])
def test_a_bad_cap_is_named(bad: Any) -> None:
    with pytest.raises(RequestValidationError, match="max_credits"):
        CreditCap(bad)


async def test_dollar_amounts_win_over_the_table_and_are_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    # A newer deployment: $12.50 in the balance, a 10 s ecommerce task costs $1.50 (the table: 150 credits).
    account = Account("12.50")
    credits = admission(account)
    caplog.set_level(logging.WARNING, logger="beatapi_async")
    probe = await credits.reserve(ec())  # 150 > 12.50: not known to be dollars yet, one create asks
    assert probe.probe
    with pytest.raises(InsufficientCreditsError):
        await credits.reserve(ec())  # one question at a time
    await accept(credits, account, probe, task("task_1", "1.50", seconds=10))
    assert credits.units.ratio == Decimal("0.01")
    for i in range(7):  # 12.50 - 1.50 = 11.00 covers 7 more at $1.50
        r = await credits.reserve(ec())
        assert r.amount == Decimal("1.50")
        await accept(credits, account, r, task(f"task_{i + 2}", "1.50", seconds=10))
    with pytest.raises(InsufficientCreditsError):
        await credits.reserve(ec())
    warnings = [r for r in caplog.records if "launch price table" in r.getMessage()]
    assert len(warnings) == 1


async def test_a_whole_balance_is_launch_credits_even_before_any_answer() -> None:
    credits = admission(Account(100))  # less than one task: refused here, nothing sent to find out
    with pytest.raises(InsufficientCreditsError) as info:
        await credits.reserve(ec())
    assert info.value.status is None


async def test_beatapis_402_to_a_question_stops_further_tries_until_the_balance_grows() -> None:
    account = Account("1.25")  # dollars and cents, unit not known yet: one create may ask
    credits = admission(account, refresh_interval=0)
    probe = await credits.reserve(ec())
    assert probe.probe
    await credits.not_created(probe, InsufficientCreditsError("short", status=402, code="insufficient_credits"))
    with pytest.raises(InsufficientCreditsError) as info:
        await credits.reserve(ec())
    assert info.value.status is None  # not asked again at this balance
    account.balance = Decimal("2.25")  # topped up
    assert (await credits.reserve(ec())).probe  # worth asking again


async def test_no_balance_at_all_sends_nothing() -> None:
    credits = admission(Account(0))
    with pytest.raises(InsufficientCreditsError):
        await credits.reserve(ec())


def test_creates_left_in_flight_by_an_ended_event_loop_do_not_stall_the_next() -> None:
    account = Account(300)
    credits = admission(account, settle_timeout=30, refresh_interval=3600)

    async def first() -> None:
        await credits.reserve(ec())
        await credits.reserve(ec())  # both in flight when the loop ends: never answered

    asyncio.run(first())
    account.balance = Decimal(150)  # BeatAPI had charged one of them

    async def second() -> Any:
        return await asyncio.wait_for(credits.reserve(ec()), 1)

    assert asyncio.run(second()).amount == 150  # the balance was read again: 150 left
