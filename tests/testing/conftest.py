"""Fixtures for the emulator's tests.

``fake_beatapi`` comes from the package's own pytest plugin (speed 1000; options
through ``@pytest.mark.beatapi_fake(...)``), so these tests exercise it too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from beatapi_async.testing import FakeBeatAPI

from ._support import Api, Contract, load_contract


@pytest.fixture(scope="session")
def contract() -> Contract | None:
    """The launch contract (strict), or None when ../shared/beatapi/openapi.yaml is absent."""
    return load_contract()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
async def api(fake_beatapi: FakeBeatAPI, http: aiohttp.ClientSession, contract: Contract | None) -> Api:
    return Api(fake_beatapi, http, contract)
