"""Batches against the emulator with a small balance: no create is sent that the balance cannot cover."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from beatapi_async import (
    AsyncBeatAPI,
    EcommerceVideoRequest,
    InsufficientCreditsError,
    MusicVideoRequest,
    PollPolicy,
    RequestValidationError,
    Task,
    TaskFailedError,
)
from beatapi_async._credits import CreditCap
from beatapi_async.testing import FakeBeatAPI

EC_PATH = "/v1/ecommerce-video/tasks"
PRICE = 150  # a 10 s Ecommerce Video


def ec(i: int) -> EcommerceVideoRequest:
    return EcommerceVideoRequest(images=["https://cdn.example.com/p.png"], duration=10, prompt=f"ad {i}")


def make_fake(balance: int, concurrency: int = 2) -> FakeBeatAPI:
    return FakeBeatAPI(speed=2000, concurrency_limit=concurrency, credit_balance=balance, poll_limit_per_minute=None)


def make_client(fake: FakeBeatAPI) -> AsyncBeatAPI:
    poll = PollPolicy(interval=0.005, max_interval=0.01, budget_per_minute=60_000, burst=10)
    return AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=poll)


def answers(fake: FakeBeatAPI, path: str = EC_PATH) -> list[int | None]:
    return [r.status for r in fake.requests_to("POST", path)]


def local(result: object, code: str = "insufficient_credits") -> bool:
    return isinstance(result, InsufficientCreditsError) and result.status is None and result.code == code


@pytest.mark.parametrize("concurrency", [1, 3])
async def test_a_batch_larger_than_the_balance_creates_what_it_covers_and_sends_no_402(concurrency: int) -> None:
    async with make_fake(balance=5 * PRICE, concurrency=concurrency) as fake, make_client(fake) as client:
        results = await client.run_many([ec(i) for i in range(8)], return_exceptions=True)
        assert answers(fake) == [201] * 5  # exactly what the balance covers; no 402 was drawn
        assert sorted(r.status for r in results if isinstance(r, Task)) == ["succeeded"] * 5
        refused = [r for r in results if local(r)]
        assert len(refused) == 3  # ended locally, each naming its request
        assert {r.request.prompt for r in refused} <= {f"ad {i}" for i in range(8)}  # type: ignore[attr-defined]
        assert fake.credit_balance == 0


async def test_max_credits_stops_admission_at_the_cap() -> None:
    async with make_fake(balance=100 * PRICE) as fake, make_client(fake) as client:
        results = await client.run_many([ec(i) for i in range(6)], return_exceptions=True, max_credits=2 * PRICE + 10)
        assert answers(fake) == [201, 201]
        assert sum(isinstance(r, Task) for r in results) == 2
        assert sum(local(r, "max_credits") for r in results) == 4
        assert fake.credit_balance == 98 * PRICE


async def test_as_completed_takes_max_credits_and_the_rest_goes_on() -> None:
    async with make_fake(balance=100 * PRICE) as fake, make_client(fake) as client:
        seen = [r async for r in client.as_completed([ec(i) for i in range(4)], max_credits=PRICE,
                                                       return_exceptions=True)]  # fmt: skip
        assert sum(isinstance(r, Task) for r in seen) == 1
        assert sum(local(r, "max_credits") for r in seen) == 3
        assert answers(fake) == [201]


async def test_run_with_max_credits_below_the_price_sends_nothing() -> None:
    async with make_fake(balance=100 * PRICE) as fake, make_client(fake) as client:
        with pytest.raises(InsufficientCreditsError) as info:
            await client.run(ec(0), max_credits=PRICE - 1)
        assert (info.value.status, info.value.code) == (None, "max_credits")
        assert answers(fake) == []
        # a cap shared by several calls
        cap = CreditCap(PRICE)
        await client.run(ec(1), max_credits=cap)
        with pytest.raises(InsufficientCreditsError):
            await client.run(ec(2), max_credits=cap)
        assert answers(fake) == [201]


@pytest.mark.parametrize("bad", [-1, "lots", float("nan"), True])
async def test_a_bad_max_credits_is_refused_before_anything_is_sent(bad: object) -> None:
    async with make_fake(balance=100 * PRICE) as fake, make_client(fake) as client:
        with pytest.raises(RequestValidationError, match="max_credits"):
            await client.run_many([ec(0)], max_credits=bad)  # type: ignore[arg-type]
        assert fake.requests == []


async def test_refunds_of_failed_tasks_return_to_the_pool() -> None:
    async with make_fake(balance=2 * PRICE, concurrency=1) as fake, make_client(fake) as client:
        fake.script("fail", times=1)  # the first task fails: BeatAPI refunds it
        results = await client.run_many([ec(i) for i in range(4)], return_exceptions=True)
        assert sum(isinstance(r, TaskFailedError) for r in results) == 1
        assert sum(isinstance(r, Task) and r.status == "succeeded" for r in results) == 2  # paid by the refund
        assert sum(local(r) for r in results) == 1
        assert answers(fake) == [201, 201, 201]
        assert fake.credit_balance == 0


async def test_an_upper_bound_estimate_is_corrected_from_the_tasks_usage() -> None:
    # The emulator bills an audio it did not store by its default length (15 s): 75 credits, while the
    # estimate is 180 s x 5 = 900. Three fit in 1000 once each reservation is corrected.
    async with make_fake(balance=1000) as fake, make_client(fake) as client:
        requests = [
            MusicVideoRequest(images=["https://cdn.example.com/c.png"], audio_url="https://cdn.example.com/s.mp3")
            for _ in range(3)
        ]
        results = await client.run_many(requests, return_exceptions=True)
        assert [r.status for r in results] == ["succeeded"] * 3  # type: ignore[union-attr]
        assert answers(fake, "/v1/music-video/tasks") == [201] * 3
        assert fake.credit_balance == Decimal(1000 - 3 * 75)


async def test_a_balance_spent_elsewhere_costs_one_402_not_one_per_request() -> None:
    async with make_fake(balance=10 * PRICE, concurrency=1) as fake, make_client(fake) as client:
        await client.run(ec(0))  # admission read the balance: ten tasks' worth
        fake.credit_balance = 2 * PRICE  # another process spends all but two
        results = await client.run_many([ec(i) for i in range(1, 7)], return_exceptions=True)
        assert answers(fake) == [201, 201, 201, 402]
        assert sum(isinstance(r, Task) for r in results) == 2
        assert sum(isinstance(r, InsufficientCreditsError) and r.status == 402 for r in results) == 1
        assert sum(local(r) for r in results) == 3  # BeatAPI's 402 made it read the balance again


async def test_songs_of_unknown_length_use_the_last_credits_with_at_most_one_402() -> None:
    # Each song is new (no length known: the estimate is the 180 s bound, 900); the emulator bills 75.
    async with make_fake(balance=1000) as fake, make_client(fake) as client:
        requests = [
            MusicVideoRequest(images=["https://cdn.example.com/c.png"], audio_url=f"https://cdn.example.com/{i}.mp3")
            for i in range(16)
        ]
        results = await client.run_many(requests, return_exceptions=True)
        statuses = answers(fake, "/v1/music-video/tasks")
        assert statuses.count(201) == 13 and statuses.count(402) <= 1  # 13 x 75 = 975 of 1000
        assert sum(isinstance(r, Task) for r in results) == 13
        assert sum(local(r) for r in results) == 16 - 13 - statuses.count(402)
        # the same song again is priced by what BeatAPI measured for it: exact
        again = client.estimate(requests[0])
        assert again.exact and again.seconds_from == "measured" and again.credits == 75


async def test_a_client_from_with_options_shares_the_ledger() -> None:
    async with make_fake(balance=2 * PRICE) as fake, make_client(fake) as client:
        derived = client.with_options(max_retries=0)
        assert derived.credit_admission is client.credit_admission
        await client.run(ec(0))
        await derived.run(ec(1))
        with pytest.raises(InsufficientCreditsError) as info:
            await derived.run(ec(2))
        assert info.value.status is None and answers(fake) == [201, 201]


def test_one_client_on_successive_event_loops_keeps_one_ledger() -> None:
    from .cli.conftest import ThreadedEmulator

    emulator = ThreadedEmulator(speed=2000, credit_balance=3 * PRICE, poll_limit_per_minute=None)
    try:
        client = make_client(emulator.fake)

        async def batch(first: int) -> list[object]:
            return await client.run_many([ec(first), ec(first + 1)], return_exceptions=True)

        before = asyncio.run(batch(0))
        after = asyncio.run(batch(2))
        asyncio.run(client.aclose())
        assert all(isinstance(r, Task) for r in before)
        assert sum(isinstance(r, Task) for r in after) == 1 and sum(local(r) for r in after) == 1
        assert emulator.call(lambda f: [r.status for r in f.requests_to("POST", EC_PATH)]) == [201, 201, 201]
    finally:
        emulator.close()


async def test_a_balance_below_one_task_sends_nothing() -> None:
    async with make_fake(balance=PRICE - 1) as fake, make_client(fake) as client:
        with pytest.raises(InsufficientCreditsError) as info:
            await client.run(ec(0))
        assert (info.value.status, info.value.code) == (None, "insufficient_credits")
        assert answers(fake) == []
