"""Fixtures of the worker-fleet tests: a real redis-server, an emulator with the account's limits on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from beatapi_async.testing import FakeBeatAPI

from ._redis import RedisServer

pytest.importorskip("redis", reason="the redis extra is not installed: pip install 'beatapi-async[redis]'")


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """One redis-server for the session (each test works in its own namespace: its own key)."""
    with RedisServer() as server:
        yield server


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A redis-server of the test's own, to stop, freeze or restart."""
    with RedisServer() as server:
        yield server


@pytest.fixture
async def fake() -> AsyncIterator[FakeBeatAPI]:
    async with FakeBeatAPI(speed=1000, concurrency_limit=3, credit_balance=10_000_000,
                           poll_limit_per_minute=None) as f:  # fmt: skip
        yield f
