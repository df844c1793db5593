"""pytest fixtures for testing code that uses beatapi-async (registered as a ``pytest11`` plugin).

This module sits outside the ``beatapi_async`` package on purpose: pytest
imports every installed plugin at each start-up, and importing anything inside
the package runs ``beatapi_async/__init__`` (aiohttp and the SDK). Here only
pytest (and pytest-asyncio, already loaded) are imported; the fixtures import
the SDK and the emulator when a test first uses them.
``beatapi_async.testing.pytest_plugin`` is the same plugin under the SDK's name.

``fake_beatapi`` is a running ``FakeBeatAPI`` at ``speed=1000``;
``beatapi_client`` is an ``AsyncBeatAPI`` bound to it that polls every few
milliseconds. Options for the emulator come from the ``beatapi_fake`` marker::

    @pytest.mark.asyncio
    @pytest.mark.beatapi_fake(concurrency_limit=5, credit_balance=500)
    async def test_render(beatapi_client, fake_beatapi):
        task = await beatapi_client.run(EcommerceVideoRequest(images=[...], duration=15))
        assert fake_beatapi.peak_running <= 5

The fixtures are async: with pytest-asyncio installed (the ``testing`` extra
brings it) they are ``pytest_asyncio`` fixtures, working in strict and auto
mode alike; without it they are plain async fixtures, which anyio's pytest
plugin runs for ``@pytest.mark.anyio`` tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

import pytest

if TYPE_CHECKING:
    from beatapi_async import AsyncBeatAPI
    from beatapi_async.testing import FakeBeatAPI

FIXTURE_SPEED = 1000.0
_F = TypeVar("_F", bound=Callable[..., Any])


def _async_fixture(func: _F) -> _F:
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - exercised only without pytest-asyncio
        return cast(_F, pytest.fixture(func))
    return cast(_F, pytest_asyncio.fixture(func))


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``beatapi_fake`` marker."""
    config.addinivalue_line(
        "markers", "beatapi_fake(**options): FakeBeatAPI options for the fake_beatapi fixture (speed=1000 by default)"
    )


@_async_fixture
async def fake_beatapi(request: pytest.FixtureRequest) -> AsyncIterator[FakeBeatAPI]:
    """A running FakeBeatAPI (speed 1000 unless the ``beatapi_fake`` marker says otherwise)."""
    from beatapi_async.testing import FakeBeatAPI

    options: dict[str, Any] = {"speed": FIXTURE_SPEED}
    marker = request.node.get_closest_marker("beatapi_fake")
    if marker is not None:
        options.update(marker.kwargs)
    async with FakeBeatAPI(**options) as fake:
        yield fake


@_async_fixture
async def beatapi_client(fake_beatapi: FakeBeatAPI) -> AsyncIterator[AsyncBeatAPI]:
    """An AsyncBeatAPI bound to ``fake_beatapi`` with millisecond polling."""
    from beatapi_async import AsyncBeatAPI, PollPolicy

    poll = PollPolicy(interval=0.01, max_interval=0.05, budget_per_minute=60_000)
    async with AsyncBeatAPI(api_key=fake_beatapi.api_key, base_url=fake_beatapi.base_url, poll=poll) as client:
        yield client
