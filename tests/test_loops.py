"""One client used from successive event loops (``asyncio.run`` twice): plain, non-async tests."""

from __future__ import annotations

import asyncio
import gc
import threading
import warnings
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest

from beatapi_async import AsyncBeatAPI, BeatAPIError, EcommerceVideoRequest, PollPolicy
from beatapi_async.testing import FakeBeatAPI

FAST = PollPolicy(interval=0.01, max_interval=0.02, budget_per_minute=60_000)


class ThreadedFake:
    """The emulator on its own loop and thread, so it outlives the loops under test."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.fake: FakeBeatAPI = self.run(FakeBeatAPI(speed=2000, concurrency_limit=2).start())

    def run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def close(self) -> None:
        self.run(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()


@pytest.fixture
def fake() -> Iterator[ThreadedFake]:
    threaded = ThreadedFake()
    try:
        yield threaded
    finally:
        threaded.close()


async def everything(client: AsyncBeatAPI) -> str:
    """The session, the poller and the gate, all on the running loop."""
    await client.workflows.list()
    request = EcommerceVideoRequest(images=["https://example.com/a.png"], duration=15)
    created = await client.ecommerce_video.create(request)
    await client.wait_for_task(created, timeout=10)
    done = await client.run_many([request, request])
    return done[0].status


def test_one_client_works_on_successive_loops_without_warnings(fake: ThreadedFake) -> None:
    gc.collect()  # what earlier tests left behind is theirs
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        client = AsyncBeatAPI(fake.fake.api_key, base_url=fake.fake.base_url, poll=FAST)
        assert asyncio.run(everything(client)) == "succeeded"
        assert asyncio.run(everything(client)) == "succeeded"  # a new loop: no "Event loop is closed"
        assert asyncio.run(everything(client)) == "succeeded"
        asyncio.run(client.aclose())  # from yet another loop
        del client
        gc.collect()
    assert [str(w.message) for w in seen if issubclass(w.category, ResourceWarning)] == []


def test_aclose_on_the_loop_in_use_closes_the_session(fake: ThreadedFake) -> None:
    client = AsyncBeatAPI(fake.fake.api_key, base_url=fake.fake.base_url, poll=FAST)

    async def use_and_close() -> None:
        await client.usage.get()
        await client.aclose()

    asyncio.run(client.usage.get())
    asyncio.run(use_and_close())
    with pytest.raises(BeatAPIError, match="client_closed"):
        asyncio.run(client.usage.get())


def test_a_callers_session_from_another_loop_is_a_typed_error(fake: ThreadedFake) -> None:
    loop = asyncio.new_event_loop()
    try:
        session = loop.run_until_complete(_make_session())
        client = AsyncBeatAPI(fake.fake.api_key, base_url=fake.fake.base_url, session=session)
        assert loop.run_until_complete(client.usage.get()).credit_balance is not None
        with pytest.raises(BeatAPIError, match="another event loop") as caught:
            asyncio.run(client.usage.get())
        assert "sk_" not in str(caught.value)
        asyncio.run(client.aclose())  # never closes the caller's session
        assert not session.closed
        loop.run_until_complete(session.close())
    finally:
        loop.close()


async def _make_session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession()


def test_a_with_options_client_on_successive_loops(fake: ThreadedFake) -> None:
    root = AsyncBeatAPI(fake.fake.api_key, base_url=fake.fake.base_url, poll=FAST)
    derived = root.with_options(max_retries=1)
    assert asyncio.run(everything(derived)) == "succeeded"
    assert asyncio.run(everything(derived)) == "succeeded"
    assert asyncio.run(everything(root)) == "succeeded"
    asyncio.run(derived.aclose())
    asyncio.run(root.aclose())


# -- runs_on: which loop the caller is on, without a system call --------------------------


async def test_runs_on_knows_the_running_loop() -> None:
    import threading

    from beatapi_async._loops import runs_on

    here = asyncio.get_running_loop()
    assert runs_on(here)
    assert not runs_on(None)
    idle = asyncio.new_event_loop()
    try:
        assert not runs_on(idle)  # made, not running
    finally:
        idle.close()
    assert not runs_on(idle)  # closed

    elsewhere = asyncio.new_event_loop()
    started = threading.Event()
    elsewhere.call_soon(started.set)
    thread = threading.Thread(target=elsewhere.run_forever)
    thread.start()
    try:
        assert started.wait(5)
        assert elsewhere.is_running() and not runs_on(elsewhere)  # running, but in another thread
        seen = asyncio.run_coroutine_threadsafe(_runs_on_itself(), elsewhere).result(5)
        assert seen  # and from its own thread it is the running loop
    finally:
        elsewhere.call_soon_threadsafe(elsewhere.stop)
        thread.join(5)
        elsewhere.close()


async def _runs_on_itself() -> bool:
    from beatapi_async._loops import runs_on

    return runs_on(asyncio.get_running_loop())


async def test_runs_on_asks_other_loops_the_usual_way() -> None:
    from beatapi_async._loops import runs_on

    class Other(asyncio.AbstractEventLoop):  # not asyncio's BaseEventLoop (like uvloop's)
        pass

    assert not runs_on(Other())


def test_runs_on_after_asyncio_run_ends() -> None:
    from beatapi_async._loops import runs_on

    async def grab() -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    old = asyncio.run(grab())

    async def check() -> bool:
        return runs_on(old)

    assert asyncio.run(check()) is False


# -- the loop's clock --------------------------------------------------------------------------


def test_asyncio_loops_clock_is_time_monotonic() -> None:
    import time

    from beatapi_async._loops import clock_of

    loop = asyncio.new_event_loop()
    try:
        assert clock_of(loop) is time.monotonic
    finally:
        loop.close()


def test_a_loop_with_its_own_clock_keeps_it() -> None:
    from beatapi_async._loops import clock_of

    class Shifted(asyncio.SelectorEventLoop):
        def time(self) -> float:
            return super().time() + 1000.0

    loop = Shifted()
    try:
        clock = clock_of(loop)
        assert clock() >= 1000.0 and getattr(clock, "__self__", None) is loop
    finally:
        loop.close()
