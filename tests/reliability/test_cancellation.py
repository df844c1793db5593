"""Per-call timeouts, and cancelling any public coroutine mid-request.

A cancelled call must leave the client usable (the next call succeeds) and leave
nothing behind: no SDK task still running (poller, polls, ``run_one``), no gate slot
held, no task still watched, no file or session open (warnings are errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from beatapi_async import APITimeoutError, AsyncBeatAPI, LocalGate, Timeouts
from beatapi_async.testing import FakeBeatAPI

from ._support import PNG, QUICK, Sleeps, ec, make_client, until

STALL = 0.2  # a request the test cancels long before it would be answered
LONG = 1.0  # a stall no attempt of a timed-out call waits out


@pytest.fixture
async def fake() -> AsyncIterator[FakeBeatAPI]:
    async with FakeBeatAPI(speed=1000, durations=QUICK, poll_limit_per_minute=None, concurrency_limit=2) as f:
        yield f


@pytest.fixture
async def client(fake: FakeBeatAPI) -> AsyncIterator[AsyncBeatAPI]:
    async with make_client(fake, Sleeps()) as c:
        yield c


def sdk_tasks() -> list[asyncio.Task[Any]]:
    """Pending asyncio tasks running the SDK's code (the emulator's own are not the SDK's)."""
    found = []
    for task in asyncio.all_tasks():
        code = getattr(task.get_coro(), "cr_code", None)
        where = code.co_filename if code is not None else ""
        if not task.done() and task is not asyncio.current_task() and "beatapi_async" in where \
                and os_sep_testing not in where:  # fmt: skip
            found.append(task)
    return found


os_sep_testing = str(Path("beatapi_async", "testing"))


async def assert_nothing_left(client: AsyncBeatAPI) -> None:
    await until(lambda: not sdk_tasks(), timeout=2)
    gate = client.gate
    assert isinstance(gate, LocalGate) and gate.held == 0
    assert client._poller().watched == 0
    gc.collect()  # an unclosed file or session would warn now, and warnings are errors


async def cancel_mid_request(
    fake: FakeBeatAPI, method: str, glob: str, call: Callable[[], Awaitable[Any]]
) -> None:
    """Start ``call``, let its request reach the stalled server, then cancel it."""
    seen = len(fake.requests_to(method, glob))
    fake.add_fault(method, glob, stall=STALL)
    running = asyncio.create_task(call())
    await until(lambda: len(fake.requests_to(method, glob)) > seen)
    await asyncio.sleep(0.01)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running


# -- per-call timeouts ------------------------------------------------------------------------


async def test_a_per_call_read_timeout_is_honoured(fake: FakeBeatAPI, client: AsyncBeatAPI) -> None:
    assert client.timeout.read == 5  # the client's default is far longer than the stall
    fake.add_fault("GET", "/v1/usage", stall=LONG, times=None)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await client.usage.get(timeout=Timeouts(read=0.05))
    # 1 + max_retries attempts of 0.05 s each (retry waits cost nothing here), not 5 s.
    assert time.monotonic() - started < LONG
    fake.clear_faults()
    assert (await client.usage.get()).concurrency.limit == 2


async def test_a_per_call_total_timeout_is_honoured_on_a_billable_call(fake: FakeBeatAPI, client: AsyncBeatAPI) -> None:
    fake.add_fault("POST", "/v1/ecommerce-video/tasks", stall=STALL, times=None)
    started = time.monotonic()
    with pytest.raises(APITimeoutError):
        await client.ecommerce_video.create(ec(), timeout=0.03)
    assert time.monotonic() - started < LONG
    keys = {r.headers["Idempotency-Key"] for r in fake.requests_to("POST", "/v1/ecommerce-video/tasks")}
    assert len(keys) == 1
    fake.clear_faults()
    await until(lambda: len(fake.tasks) == 1, timeout=STALL * 3)  # the stalled attempts, one key: one task
    assert len(fake.tasks) == 1


async def test_no_per_call_limit_means_none(fake: FakeBeatAPI) -> None:
    async with make_client(fake, Sleeps(), timeout=Timeouts(read=0.05)) as tight:
        fake.add_fault("GET", "/v1/usage", stall=0.15)
        assert (await tight.usage.get(timeout=None)).concurrency.limit == 2


# -- cancelling mid-request ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "glob", "call"),
    [
        ("GET", "/v1/usage", lambda c, p: c.usage.get()),
        ("POST", "/v1/ecommerce-video/tasks", lambda c, p: c.ecommerce_video.create(ec())),
        ("POST", "/v1/files", lambda c, p: c.files.upload(p)),
        ("POST", "/v1/files", lambda c, p: c.files.upload(PNG, filename="p.png")),
        ("POST", "/v1/realtime/sessions",
         lambda c, p: c.realtime.create_session(max_duration_seconds=15, allowed_origins=["https://a.example.com"])),
        ("GET", "/v1/webhooks", lambda c, p: c.webhooks.list()),
    ],
    ids=["usage.get", "ecommerce_video.create", "files.upload-path", "files.upload-bytes", "realtime.create_session",
         "webhooks.list"],
)  # fmt: skip
async def test_cancelling_a_call_mid_request_leaves_the_client_usable(
    fake: FakeBeatAPI, client: AsyncBeatAPI, tmp_path: Path, method: str, glob: str, call: Any
) -> None:
    path = tmp_path / "p.png"
    path.write_bytes(PNG)
    await cancel_mid_request(fake, method, glob, lambda: call(client, path))
    await call(client, path)  # the next call goes through
    await assert_nothing_left(client)


async def test_a_cancel_scope_deadline_mid_request_leaves_the_client_usable(
    fake: FakeBeatAPI, client: AsyncBeatAPI
) -> None:
    fake.add_fault("GET", "/v1/usage", stall=STALL)
    with anyio.move_on_after(0.05) as scope:
        await client.usage.get()
    assert scope.cancelled_caught
    assert (await client.usage.get()).concurrency.limit == 2
    await assert_nothing_left(client)


async def test_cancelling_a_wait_stops_its_polling(fake: FakeBeatAPI, client: AsyncBeatAPI) -> None:
    fake.script("hang")
    task = await client.ecommerce_video.create(ec())
    waiting = asyncio.create_task(client.wait_for_task(task))
    await until(lambda: len(fake.requests_to("GET", "/v1/tasks/*")) >= 3)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await assert_nothing_left(client)
    polls = len(fake.requests_to("GET", "/v1/tasks/*"))
    await asyncio.sleep(0.05)
    assert len(fake.requests_to("GET", "/v1/tasks/*")) == polls  # nobody polls any more
    fake.set_outcome(task.id, "succeed")
    assert (await client.wait_for_task(task.id)).status == "succeeded"
    await assert_nothing_left(client)


async def test_cancelling_a_wait_during_a_stalled_poll(fake: FakeBeatAPI, client: AsyncBeatAPI) -> None:
    fake.script("hang")
    task = await client.ecommerce_video.create(ec())
    await cancel_mid_request(fake, "GET", "/v1/tasks/*", lambda: client.wait_for_task(task))
    await assert_nothing_left(client)
    fake.set_outcome(task.id, "succeed")
    assert (await client.wait_for_task(task)).status == "succeeded"


async def test_cancelling_run_many_gives_every_slot_back(fake: FakeBeatAPI, client: AsyncBeatAPI) -> None:
    fake.script("hang")
    running = asyncio.create_task(client.run_many([ec(i) for i in range(6)], return_exceptions=True))
    await until(lambda: fake.running_count == 2 and client._poller().watched == 2)
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await assert_nothing_left(client)
    for task_id in list(fake.tasks):
        fake.set_outcome(task_id, "succeed")
    fake.script("succeed")
    assert [t.status for t in await client.run_many([ec(i) for i in range(3)])] == ["succeeded"] * 3
    await assert_nothing_left(client)


async def test_cancelling_run_many_while_creates_are_on_the_wire(fake: FakeBeatAPI, client: AsyncBeatAPI) -> None:
    await cancel_mid_request(
        fake, "POST", "/v1/ecommerce-video/tasks", lambda: client.run_many([ec(i) for i in range(4)])
    )
    await assert_nothing_left(client)
    assert (await client.run(ec(9))).status == "succeeded"


async def test_leaving_as_completed_early_cancels_the_rest(fake: FakeBeatAPI, client: AsyncBeatAPI) -> None:
    fake.concurrency_limit = 4  # all run at once: which one is admitted first does not matter
    fake.script("hang", match=lambda body: body["prompt"] != "ad 0")
    async with contextlib.aclosing(client.as_completed([ec(i) for i in range(4)])) as results:
        async for first in results:
            assert first.status == "succeeded"
            break
    await assert_nothing_left(client)
    fake.script("succeed")
    assert (await client.run(ec(5))).status == "succeeded"
