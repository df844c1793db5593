"""The Redis credit admission: a fleet shares one balance through one ledger."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from beatapi_async import (
    AsyncBeatAPI,
    CoordinationError,
    EcommerceVideoRequest,
    InsufficientCreditsError,
    PollPolicy,
    Task,
)
from beatapi_async.testing import FakeBeatAPI

redis_asyncio = pytest.importorskip("redis.asyncio", reason="the redis extra is not installed")
from beatapi_async._credits_redis import RedisCreditAdmission  # noqa: E402

PRICE = 150
EC_PATH = "/v1/ecommerce-video/tasks"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    workdir: Path = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 5
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=5)


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Any]:
    r = redis_asyncio.Redis.from_url(redis_url)
    await r.flushdb()
    yield r
    await r.aclose()


def ec(i: int) -> EcommerceVideoRequest:
    return EcommerceVideoRequest(images=["https://cdn.example.com/p.png"], duration=10, prompt=f"ad {i}")


def make_client(fake: FakeBeatAPI, redis: Any, namespace: str = "acct", **options: Any) -> AsyncBeatAPI:
    poll = PollPolicy(interval=0.005, max_interval=0.01, budget_per_minute=60_000, burst=10)
    client = AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=poll)
    client.credit_admission = RedisCreditAdmission(client, redis, namespace=namespace, **options)
    return client


def local(result: object, code: str = "insufficient_credits") -> bool:
    return isinstance(result, InsufficientCreditsError) and result.status is None and result.code == code


async def test_two_clients_share_one_balance(redis: Any) -> None:
    async with FakeBeatAPI(speed=2000, concurrency_limit=4, credit_balance=5 * PRICE,
                           poll_limit_per_minute=None) as fake:  # fmt: skip
        async with make_client(fake, redis) as one, make_client(fake, redis) as two:
            a, b = await asyncio.gather(
                one.run_many([ec(i) for i in range(5)], return_exceptions=True),
                two.run_many([ec(i) for i in range(5, 10)], return_exceptions=True),
            )
        results = [*a, *b]
        statuses = [r.status for r in fake.requests_to("POST", EC_PATH)]
        # (429s: two processes' own gates collide; the fleet's shared gate is another matter)
        assert statuses.count(201) == 5 and 402 not in statuses
        assert sum(isinstance(r, Task) for r in results) == 5
        assert sum(local(r) for r in results) == 5
        assert fake.credit_balance == 0


async def test_refunds_return_to_the_fleets_pool(redis: Any) -> None:
    async with FakeBeatAPI(speed=2000, concurrency_limit=1, credit_balance=2 * PRICE,
                           poll_limit_per_minute=None) as fake:  # fmt: skip
        fake.script("fail", times=1)
        async with make_client(fake, redis) as one:
            results = await one.run_many([ec(i) for i in range(4)], return_exceptions=True)
        assert [r.status for r in fake.requests_to("POST", EC_PATH)] == [201] * 3  # the refund paid the third
        assert sum(local(r) for r in results) == 1


async def test_namespaces_keep_accounts_apart(redis: Any) -> None:
    for namespace in ("a", "b"):  # each account has one task's worth: each runs its own
        fake = FakeBeatAPI(speed=2000, credit_balance=PRICE, poll_limit_per_minute=None)
        async with fake, make_client(fake, redis, namespace) as client:
            assert (await client.run(ec(0))).status == "succeeded"


async def test_unreachable_redis_is_a_coordination_error_before_anything_is_sent() -> None:
    dead = redis_asyncio.Redis(host="127.0.0.1", port=_free_port(), socket_connect_timeout=0.2)
    async with FakeBeatAPI(speed=2000, poll_limit_per_minute=None) as fake:
        async with make_client(fake, dead, timeout=0.3) as client:
            with pytest.raises(CoordinationError):
                await client.run(ec(0))
        assert fake.requests_to("POST", EC_PATH) == []
    await dead.aclose()


_WORKER = """
import asyncio, json, sys
import redis.asyncio as aioredis
from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, InsufficientCreditsError, PollPolicy, Task
from beatapi_async._credits_redis import RedisCreditAdmission

async def main(base_url, key, redis_url, first):
    redis = aioredis.Redis.from_url(redis_url)
    poll = PollPolicy(interval=0.005, max_interval=0.01, budget_per_minute=60_000, burst=10)
    async with AsyncBeatAPI(key, base_url=base_url, poll=poll) as client:
        client.credit_admission = RedisCreditAdmission(client, redis, namespace="procs")
        requests = [EcommerceVideoRequest(images=["https://cdn.example.com/p.png"], duration=10, prompt=f"ad {i}")
                    for i in range(first, first + 6)]
        results = await client.run_many(requests, return_exceptions=True)
    await redis.aclose()
    print(json.dumps({"created": sum(isinstance(r, Task) for r in results),
                      "unsent": sum(isinstance(r, InsufficientCreditsError) and r.status is None for r in results)}))

asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
"""


async def test_two_processes_share_one_balance(redis: Any, redis_url: str) -> None:
    import json
    import sys

    async with FakeBeatAPI(speed=2000, concurrency_limit=12, credit_balance=7 * PRICE,
                           poll_limit_per_minute=None) as fake:  # fmt: skip
        argv = [sys.executable, "-c", _WORKER, fake.base_url, fake.api_key, redis_url]
        procs = [
            await asyncio.create_subprocess_exec(*argv, str(first), stdout=asyncio.subprocess.PIPE)
            for first in (0, 100)
        ]
        outputs = [json.loads((await asyncio.wait_for(p.communicate(), 60))[0]) for p in procs]
        assert all(p.returncode == 0 for p in procs)
        statuses = [r.status for r in fake.requests_to("POST", EC_PATH)]
        assert statuses.count(201) == 7 and 402 not in statuses  # seven fit; none was sent past the balance
        assert sum(o["created"] for o in outputs) == 7
        assert sum(o["unsent"] for o in outputs) == 12 - 7


async def test_large_balances_and_dollar_cents_stay_exact(redis: Any) -> None:
    fake = FakeBeatAPI(speed=2000, credit_balance=Decimal("12345678901.25"), poll_limit_per_minute=None)
    async with fake, make_client(fake, redis, "big") as client:
        admission = client.credit_admission
        await client.run(ec(0))
        fake.credit_balance = Decimal("149.99")  # the rest spent elsewhere: only a read can tell
        await admission._read()  # type: ignore[attr-defined]
        with pytest.raises(InsufficientCreditsError) as info:
            await client.run(ec(1))
        assert info.value.status is None and info.value.details["left"] == Decimal("149.99")
