"""Shared fixtures of the core tests: a loopback BeatAPI, clients, and fast retry waits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from aioresponses import aioresponses

from beatapi_async import AsyncBeatAPI

from ._helpers import MOCK_BASE, MOCK_KEY, Mocked, Sleeps
from ._loopback import API_KEY, LoopbackBeatAPI


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def mocked() -> Iterator[aioresponses]:
    with Mocked() as m:
        yield m


@pytest.fixture
async def client(sleeps: Sleeps) -> AsyncIterator[AsyncBeatAPI]:
    """A client for aioresponses tests (nothing leaves the process)."""
    async with AsyncBeatAPI(MOCK_KEY, base_url=MOCK_BASE, retry_sleep=sleeps) as c:
        yield c


@pytest.fixture
async def server() -> AsyncIterator[LoopbackBeatAPI]:
    srv = LoopbackBeatAPI()
    await srv.start()
    try:
        yield srv
    finally:
        await srv.close()


@pytest.fixture
async def live(server: LoopbackBeatAPI, sleeps: Sleeps) -> AsyncIterator[AsyncBeatAPI]:
    """A client bound to the loopback server over real HTTP."""
    async with AsyncBeatAPI(API_KEY, base_url=server.url, retry_sleep=sleeps) as c:
        yield c
