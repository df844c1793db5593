"""The fleet's credit ledger (``RedisCreditAdmission``): workers of one account share one balance."""

from __future__ import annotations

import asyncio
import json
import sys
from decimal import Decimal
from typing import Any

import pytest
import redis.asyncio as aioredis

from beatapi_async import (
    AsyncBeatAPI,
    CoordinationError,
    EcommerceVideoRequest,
    InsufficientCreditsError,
    PollPolicy,
    Task,
)
from beatapi_async.redis import RedisCoordinator, RedisCreditAdmission
from beatapi_async.testing import FakeBeatAPI

from ._redis import free_port

PRICE = 150  # a 10 s Ecommerce Video
EC_PATH = "/v1/ecommerce-video/tasks"
POLL = PollPolicy(interval=0.005, max_interval=0.01, budget_per_minute=60_000, burst=10)


def ec(i: int) -> EcommerceVideoRequest:
    return EcommerceVideoRequest(images=["https://cdn.example.com/p.png"], duration=10, prompt=f"ad {i}")


def make_fake(balance: int | Decimal, concurrency: int = 4) -> FakeBeatAPI:
    return FakeBeatAPI(speed=2000, concurrency_limit=concurrency, credit_balance=balance, poll_limit_per_minute=None)


def local(result: object) -> bool:
    return isinstance(result, InsufficientCreditsError) and result.status is None


def statuses(fake: FakeBeatAPI) -> list[int | None]:
    return [r.status for r in fake.requests_to("POST", EC_PATH)]


async def test_a_coordinator_gives_the_client_the_fleets_ledger(redis_server: Any) -> None:
    coordinator = RedisCoordinator(redis_server.url)
    async with make_fake(PRICE) as fake, AsyncBeatAPI(fake.api_key, base_url=fake.base_url,
                                                      coordinator=coordinator) as client:  # fmt: skip
        assert isinstance(client.credit_admission, RedisCreditAdmission)
        assert client.with_options(max_retries=0).credit_admission is client.credit_admission
    await coordinator.aclose()


async def test_two_clients_share_one_balance(redis_server: Any) -> None:
    coordinators = [RedisCoordinator(redis_server.url, wait_interval=0.005) for _ in range(2)]
    async with make_fake(5 * PRICE) as fake:
        clients = [AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=POLL, coordinator=c) for c in coordinators]
        try:
            a, b = await asyncio.gather(
                clients[0].run_many([ec(i) for i in range(5)], return_exceptions=True),
                clients[1].run_many([ec(i) for i in range(5, 10)], return_exceptions=True),
            )
        finally:
            for client in clients:
                await client.aclose()
            for c in coordinators:
                await c.aclose()
        results = [*a, *b]
        assert statuses(fake) == [201] * 5  # what the balance covers, no 402 (and no 429: one gate)
        assert sum(isinstance(r, Task) for r in results) == 5 and sum(local(r) for r in results) == 5
        assert fake.credit_balance == 0


async def test_refunds_return_to_the_fleets_pool(redis_server: Any) -> None:
    coordinator = RedisCoordinator(redis_server.url, wait_interval=0.005)
    async with make_fake(2 * PRICE, concurrency=1) as fake:
        fake.script("fail", times=1)
        async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=POLL, coordinator=coordinator) as client:
            results = await client.run_many([ec(i) for i in range(4)], return_exceptions=True)
        assert statuses(fake) == [201] * 3  # the failed task's refund paid for the third
        assert sum(local(r) for r in results) == 1
    await coordinator.aclose()


async def test_dollar_cents_and_large_balances_stay_exact(redis_server: Any) -> None:
    coordinator = RedisCoordinator(redis_server.url, namespace="credits-exact")
    async with make_fake(Decimal("12345678901.25"), concurrency=1) as fake:  # one create at a time
        async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=POLL, coordinator=coordinator) as client:
            await client.run(ec(0))
            fake.credit_balance = Decimal("149.99")  # spent elsewhere: BeatAPI's 402 tells, then a read
            first = await client.run_many([ec(1), ec(2)], return_exceptions=True)
        assert statuses(fake) == [201, 402]  # one 402, then the ledger read the balance again
        left = [r.details["left"] for r in first if local(r)]  # type: ignore[union-attr]
        assert left and left[-1] == Decimal("149.99")
    await coordinator.aclose()


async def test_unreachable_redis_is_a_coordination_error_before_anything_is_sent() -> None:
    dead = aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.2)
    coordinator = RedisCoordinator(dead, timeout=0.3)
    async with make_fake(10 * PRICE) as fake:
        async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=POLL) as client:
            client.credit_admission = coordinator.credit_admission(client)  # only the ledger is the fleet's
            with pytest.raises(CoordinationError):
                await client.run(ec(0))
        assert fake.requests_to("POST", EC_PATH) == []
    await dead.aclose()


_WORKER = """
import asyncio, json, sys
from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, InsufficientCreditsError, PollPolicy, Task
from beatapi_async.redis import RedisCoordinator

async def main(base_url, key, redis_url, first):
    coordinator = RedisCoordinator(redis_url, wait_interval=0.005)
    poll = PollPolicy(interval=0.005, max_interval=0.01, budget_per_minute=60_000, burst=10)
    async with AsyncBeatAPI(key, base_url=base_url, poll=poll, coordinator=coordinator) as client:
        requests = [EcommerceVideoRequest(images=["https://cdn.example.com/p.png"], duration=10, prompt=f"ad {i}")
                    for i in range(first, first + 6)]
        results = await client.run_many(requests, return_exceptions=True)
    await coordinator.aclose()
    print(json.dumps({"created": sum(isinstance(r, Task) for r in results),
                      "unsent": sum(isinstance(r, InsufficientCreditsError) and r.status is None for r in results)}))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_two_processes_share_one_balance(redis_server: Any) -> None:
    async with make_fake(7 * PRICE, concurrency=12) as fake:
        argv = [sys.executable, "-c", _WORKER, fake.base_url, fake.api_key, redis_server.url]
        procs = [
            await asyncio.create_subprocess_exec(*argv, str(first), stdout=asyncio.subprocess.PIPE)
            for first in (0, 100)
        ]
        outputs = [json.loads((await asyncio.wait_for(p.communicate(), 60))[0]) for p in procs]
        assert all(p.returncode == 0 for p in procs)
        assert statuses(fake) == [201] * 7  # seven fit; nothing was sent past the balance
        assert sum(o["created"] for o in outputs) == 7
        assert sum(o["unsent"] for o in outputs) == 12 - 7


async def test_workers_needing_the_balance_at_once_share_one_read(redis_server: Any) -> None:
    coordinator = RedisCoordinator(redis_server.url)
    async with make_fake(10 * PRICE) as fake:
        clients = [AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=POLL) for _ in range(4)]
        try:
            ledgers = [coordinator.credit_admission(c) for c in clients]  # the ledger only: no gate reads
            reservations = await asyncio.gather(*(ledger.reserve(ec(i)) for i, ledger in enumerate(ledgers)))
            assert len(fake.requests_to("GET", "/v1/usage")) == 1
            assert len({r.key for r in reservations}) == 4
        finally:
            for c in clients:
                await c.aclose()
    await coordinator.aclose()
