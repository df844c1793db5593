"""Each attempt's total deadline: one timer per loop, exact cancellation semantics, real sockets."""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

import pytest

from beatapi_async import APITimeoutError, AsyncBeatAPI, Timeouts, _deadlines
from beatapi_async._deadlines import Deadlines

from ._loopback import API_KEY, LoopbackBeatAPI, ok, task

COUNTS_CANCELS = sys.version_info >= (3, 11)


class Counted(Deadlines):
    """Deadlines that count the timers they arm."""

    __slots__ = ("armed",)

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(loop)
        self.armed = 0

    def _arm(self, when: float) -> None:
        self.armed += 1
        super()._arm(when)


async def test_many_attempts_with_one_timeout_arm_one_timer() -> None:
    d = Counted(asyncio.get_running_loop())
    for _ in range(500):
        attempt = d.start(300)
        assert attempt is not None
        d.end(attempt)
    assert d.armed == 1
    assert not d._pending


async def test_no_total_means_no_deadline() -> None:
    d = Counted(asyncio.get_running_loop())
    assert d.start(None) is None
    assert d.armed == 0


async def stalled_attempt(d: Deadlines, seconds: float, *, after: float = 0.0) -> bool:
    """An attempt that never ends by itself: True when its deadline ended it (any other cancel raises)."""
    await asyncio.sleep(after)
    attempt = d.start(seconds)
    assert attempt is not None
    try:
        await asyncio.sleep(5)
    except asyncio.CancelledError:
        if not attempt.timed_out():
            raise
        return True
    finally:
        d.end(attempt)
    return False


async def test_an_expired_attempt_is_cancelled_and_counts_as_timed_out() -> None:
    d = Deadlines(asyncio.get_running_loop())
    started = time.monotonic()
    assert await asyncio.create_task(stalled_attempt(d, 0.02)) is True
    assert time.monotonic() - started < 2
    assert not d._pending


async def test_a_shorter_deadline_after_longer_ones_rearms_the_timer() -> None:
    d = Counted(asyncio.get_running_loop())
    long_one = d.start(300)
    assert long_one is not None
    assert await asyncio.wait_for(asyncio.create_task(stalled_attempt(d, 0.02)), 2) is True
    assert d.armed >= 2
    assert long_one in d._pending and not long_one.expired  # the long one keeps running
    d.end(long_one)


async def test_the_timer_rearms_for_the_attempts_still_running_when_it_wakes() -> None:
    d = Counted(asyncio.get_running_loop())
    first = d.start(0.01)
    assert first is not None
    d.end(first)  # over before its deadline: the timer still wakes then
    # starts later, with a deadline later than the armed wake: no new timer then
    assert await asyncio.wait_for(asyncio.create_task(stalled_attempt(d, 0.05, after=0.005)), 2) is True
    assert d.armed == 2  # the first wake found the later attempt and armed for it


@pytest.mark.skipif(not COUNTS_CANCELS, reason="tasks count cancellations from Python 3.11")
async def test_someone_elses_cancel_at_the_deadline_still_cancels() -> None:
    d = Deadlines(asyncio.get_running_loop())
    t = asyncio.create_task(stalled_attempt(d, 0.02))
    await asyncio.sleep(0)
    for attempt in list(d._pending):  # the deadline passes and, in the same moment, the caller cancels
        attempt.deadline = 0.0
    d._wake()
    t.cancel()
    with pytest.raises(asyncio.CancelledError):  # not taken for the timeout
        await t


@pytest.mark.skipif(not COUNTS_CANCELS, reason="tasks count cancellations from Python 3.11")
async def test_a_timed_out_attempt_leaves_its_task_uncancelled(server: LoopbackBeatAPI) -> None:
    server.stall("GET", "/v1/usage")
    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0, timeout=0.05) as c:
        with pytest.raises(APITimeoutError, match=r"no answer within the total timeout of 0\.05s"):
            await c.usage.get()
        current = asyncio.current_task()
        assert current is not None and current.cancelling() == 0
        # the task can still wait and be timed out by asyncio itself
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.01):
                await asyncio.sleep(1)


async def test_on_python_310_an_expired_attempt_is_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_deadlines, "_COUNTS_CANCELS", False)
    d = Deadlines(asyncio.get_running_loop())
    assert await asyncio.create_task(stalled_attempt(d, 0.01)) is True


# -- through the client, real sockets ---------------------------------------------------------


async def test_a_cancelled_call_raises_cancelled_not_a_timeout(server: LoopbackBeatAPI) -> None:
    server.stall("GET", "/v1/tasks/task_1")
    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0) as c:
        call = asyncio.create_task(c.tasks.get("task_1"))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert not c._transport._deadlines._pending  # type: ignore[attr-defined, union-attr]


async def test_a_short_call_times_out_while_long_calls_run(server: LoopbackBeatAPI) -> None:
    async def slow() -> Any:
        await asyncio.sleep(0.3)
        return ok(task("task_2"))

    server.script("GET", "/v1/tasks/task_2", slow, slow, slow)
    server.stall("GET", "/v1/usage")
    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0) as c:  # total 300 s
        long_calls = [asyncio.create_task(c.tasks.get("task_2")) for _ in range(3)]
        await asyncio.sleep(0.02)
        started = time.monotonic()
        with pytest.raises(APITimeoutError):
            await c.usage.get(timeout=Timeouts(total=0.05))
        assert time.monotonic() - started < 0.25  # not held until the long calls' deadline
        assert [t.id for t in await asyncio.gather(*long_calls)] == ["task_2"] * 3


async def test_a_stalled_upload_of_the_body_is_bounded_by_the_total(server: LoopbackBeatAPI) -> None:
    # A body that never finishes: the attempt ends at the total, whatever phase it is in.
    async def endless() -> Any:
        while True:
            await asyncio.sleep(0.01)
            yield b"x"

    from beatapi_async import _protocol

    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0) as c:
        request = _protocol.Request(
            method="POST", url=f"{server.url}/v1/files", path="/v1/files", headers=c._headers(True),
            body_factory=endless,
        )  # fmt: skip
        started = time.monotonic()
        with pytest.raises(APITimeoutError, match="total timeout"):
            await c._transport.send(request, timeout=Timeouts(total=0.1))
        assert time.monotonic() - started < 2


async def test_one_client_on_two_loops_keeps_a_deadline_watch_per_loop(server: LoopbackBeatAPI) -> None:
    c = AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0)
    await c.tasks.get("task_1")
    first = c._transport._deadlines  # type: ignore[attr-defined]

    def other_loop() -> Any:
        async def go() -> Any:
            return await c.tasks.get("task_1")

        return asyncio.run(go())

    await asyncio.to_thread(other_loop)
    assert c._transport._deadlines is not first  # type: ignore[attr-defined]
    await c.aclose()
