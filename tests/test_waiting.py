"""wait_for_task and the shared poll scheduler, against a scripted in-memory transport."""

from __future__ import annotations

import asyncio
import gc
import time

import anyio
import pytest

import beatapi_async
from beatapi_async import (
    AsyncBeatAPI,
    AuthenticationError,
    NotFoundError,
    PollPolicy,
    RequestValidationError,
    Task,
    TaskFailedError,
    WaitTimeoutError,
)
from beatapi_async._convert import structure
from beatapi_async.waiting import wait_for_task

from ._memory import MemoryTransport, error, task_body

FAST = PollPolicy(interval=0.005, max_interval=0.01, budget_per_minute=60_000, burst=5)


@pytest.fixture
def transport() -> MemoryTransport:
    return MemoryTransport()


@pytest.fixture
async def client(transport: MemoryTransport):
    async with AsyncBeatAPI("sk_test_wait", base_url="http://127.0.0.1:9", poll=FAST, transport=transport) as c:
        yield c


async def test_waits_until_terminal_and_reports_each_change_once(client, transport):
    transport.script("task_a", "queued", "queued", "processing", "processing", "succeeded")
    seen: list[str] = []
    task = await client.wait_for_task("task_a", on_update=lambda t: seen.append(t.status))
    assert task.status == "succeeded"
    assert task.video_url == "https://media.example.com/task_a.mp4"
    assert seen == ["queued", "processing", "succeeded"]


async def test_async_on_update_is_awaited(client, transport):
    transport.script("task_a", "processing", "succeeded")
    seen: list[str] = []

    async def record(task: Task) -> None:
        await asyncio.sleep(0)
        seen.append(task.status)

    await client.wait_for_task("task_a", on_update=record)
    assert seen == ["processing", "succeeded"]


async def test_module_function_is_the_same_wait(client, transport):
    transport.script("task_a", "succeeded")
    assert beatapi_async.wait_for_task is wait_for_task
    task = await beatapi_async.wait_for_task(client, "task_a")
    assert task.is_terminal


async def test_failed_task_raises_with_the_task(client, transport):
    transport.script("task_f", "processing", "failed")
    with pytest.raises(TaskFailedError) as info:
        await client.wait_for_task("task_f")
    assert info.value.task.error_code == "processing_failed"
    assert "processing_failed" in str(info.value)


async def test_failed_task_returned_when_asked(client, transport):
    transport.script("task_f", "failed")
    task = await client.wait_for_task("task_f", raise_on_failure=False)
    assert task.status == "failed"


async def test_finished_task_object_returns_without_a_request(client, transport):
    done = structure(task_body("task_d", "succeeded"), Task)
    assert await client.wait_for_task(done) is done
    assert transport.requests == []


async def test_until_actionable_stops_at_storyboard_ready(client, transport):
    transport.script("task_m", "queued", "processing", "storyboard_ready", "succeeded")
    task = await client.wait_for_task("task_m", until="actionable")
    assert task.status == "storyboard_ready"
    assert task.is_actionable


async def test_deadline_raises_wait_timeout_with_last_task(client, transport):
    transport.script("task_slow", "processing")
    started = time.monotonic()
    with pytest.raises(WaitTimeoutError) as info:
        await client.wait_for_task("task_slow", timeout=0.05)
    err = info.value
    assert isinstance(err, TimeoutError)
    assert err.task_id == "task_slow"
    assert err.last_task is not None and err.last_task.status == "processing"
    assert 0.04 <= err.elapsed < 1.0
    assert time.monotonic() - started < 1.0
    assert client._poller().watched == 0


async def test_rate_limit_while_polling_slows_down_but_never_ends_the_wait(client, transport):
    limited = error(429, "rate_limit_exceeded", "Too many polling requests.", retry_after_seconds=0)
    transport.script("task_r", "processing", limited, limited, limited, "processing", "succeeded")
    task = await client.wait_for_task("task_r", timeout=5)
    assert task.status == "succeeded"


async def test_transient_errors_while_polling_are_survived(client, transport):
    down = error(503, "processing_unavailable", "Try again.")
    transport.script("task_t", down, down, "processing", down, "succeeded")
    assert (await client.wait_for_task("task_t", timeout=5)).status == "succeeded"


async def test_retry_after_pauses_the_whole_poller(client, transport):
    limited = error(429, "rate_limit_exceeded", "Too many.", retry_after_seconds=0.2)
    transport.script("task_r", limited, "succeeded")
    started = time.monotonic()
    await client.wait_for_task("task_r", timeout=5)
    assert time.monotonic() - started >= 0.19
    gaps = [b - a for (a, _), (b, _) in zip(transport.polls, transport.polls[1:], strict=False)]
    assert gaps and gaps[0] >= 0.19


async def test_not_found_ends_the_wait(client, transport):
    with pytest.raises(NotFoundError):
        await client.wait_for_task("task_missing")


async def test_missing_key_ends_the_wait_naming_the_variable(transport, monkeypatch):
    monkeypatch.delenv("BEATAPI_API_KEY", raising=False)
    async with AsyncBeatAPI(base_url="http://127.0.0.1:9", poll=FAST, transport=transport) as c:
        with pytest.raises(AuthenticationError, match="BEATAPI_API_KEY"):
            await c.wait_for_task("task_a")


async def test_bad_arguments_are_refused_before_polling(client, transport):
    with pytest.raises(RequestValidationError, match="task_id"):
        await client.wait_for_task("")
    with pytest.raises(RequestValidationError, match="until"):
        await client.wait_for_task("task_a", until="done")  # type: ignore[arg-type]
    with pytest.raises(RequestValidationError, match="timeout"):
        await client.wait_for_task("task_a", timeout=-1)
    assert transport.requests == []


async def test_cancelling_a_waiter_stops_its_polling_at_once(client, transport):
    transport.script("task_c", "processing")
    waiter = asyncio.ensure_future(client.wait_for_task("task_c"))
    while len(transport.polls) < 3:
        await asyncio.sleep(0.001)
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    polls = len(transport.polls)
    await asyncio.sleep(0.05)
    assert len(transport.polls) == polls
    assert client._poller().watched == 0
    await asyncio.sleep(0)
    assert client._scheduler is not None and client._scheduler._loop_task is None


async def test_anyio_cancel_scope_around_a_wait(client, transport):
    transport.script("task_c", "processing")
    with anyio.move_on_after(0.03):
        await client.wait_for_task("task_c", timeout=None)
    assert client._poller().watched == 0


async def test_many_waiters_on_one_task_share_its_polls(client, transport):
    transport.script("task_s", "processing", "processing", "succeeded")
    results = await asyncio.gather(*(client.wait_for_task("task_s") for _ in range(50)))
    assert {t.status for t in results} == {"succeeded"}
    assert len(transport.polls) <= 4


async def test_server_hint_sets_the_cadence(transport):
    # A hint is followed within [interval / 10, max_interval * 6] (here up to 0.06 s).
    policy = PollPolicy(interval=0.001, max_interval=0.01, budget_per_minute=60_000, burst=5)
    transport.hint = 0.05
    transport.script("task_h", "processing", "processing", "processing", "succeeded")
    async with AsyncBeatAPI("sk_test_h", base_url="http://127.0.0.1:9", poll=policy, transport=transport) as c:
        await c.wait_for_task("task_h")
    gaps = [b - a for (a, _), (b, _) in zip(transport.polls, transport.polls[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.045


async def test_polls_stay_within_the_budget_however_many_wait(transport):
    # 100 polls/minute scaled down: 600 per minute = 10 per second, burst 3.
    policy = PollPolicy(interval=0.001, max_interval=0.002, budget_per_minute=600, burst=3)
    for i in range(300):
        transport.script(f"task_{i}", "processing")
    async with AsyncBeatAPI("sk_test_b", base_url="http://127.0.0.1:9", poll=policy, transport=transport) as c:
        with anyio.move_on_after(1.0):
            await asyncio.gather(*(c.wait_for_task(f"task_{i}", timeout=None) for i in range(300)))
    assert 8 <= len(transport.polls) <= 10 * 1.0 + 3 + 1
    assert transport.max_in_window(0.5) <= 10 * 0.5 + 3 + 1


async def test_polls_are_shared_fairly_when_the_budget_is_short(transport):
    policy = PollPolicy(interval=0.001, max_interval=0.002, budget_per_minute=6000, burst=2)
    for i in range(20):
        transport.script(f"task_{i}", "processing")
    async with AsyncBeatAPI("sk_test_f", base_url="http://127.0.0.1:9", poll=policy, transport=transport) as c:
        with anyio.move_on_after(0.6):
            await asyncio.gather(*(c.wait_for_task(f"task_{i}", timeout=None) for i in range(20)))
    counts = [sum(1 for _, tid in transport.polls if tid == f"task_{i}") for i in range(20)]
    assert min(counts) >= 1 and max(counts) - min(counts) <= 2


async def test_notify_checks_the_task_at_once(transport):
    slow = PollPolicy(interval=30, max_interval=30, budget_per_minute=600, burst=3)
    transport.script("task_n", "processing", "succeeded")
    async with AsyncBeatAPI("sk_test_n", base_url="http://127.0.0.1:9", poll=slow, transport=transport) as c:
        waiter = asyncio.ensure_future(c.wait_for_task("task_n"))
        while not transport.polls:
            await asyncio.sleep(0.001)
        event = structure({"id": "evt_1", "event": "task.succeeded", "data": task_body("task_n", "succeeded")},
                          beatapi_async.WebhookEvent)
        started = time.monotonic()
        await c.notify(event)
        task = await asyncio.wait_for(waiter, 2)
        assert task.status == "succeeded"
        assert time.monotonic() - started < 0.5
        assert len(transport.polls) == 2


async def test_notify_for_an_unwatched_task_is_harmless(client, transport):
    event = structure({"id": "evt_1", "event": "task.failed", "data": {"id": "task_x"}}, beatapi_async.WebhookEvent)
    await client.notify(event)
    assert transport.requests == []


async def test_closing_the_client_ends_waits_and_leaks_no_task(transport):
    transport.script("task_z", "processing")
    c = AsyncBeatAPI("sk_test_z", base_url="http://127.0.0.1:9", poll=FAST, transport=transport)
    waiter = asyncio.ensure_future(c.wait_for_task("task_z"))
    while not transport.polls:
        await asyncio.sleep(0.001)
    await c.aclose()
    with pytest.raises(beatapi_async.APIConnectionError):
        await waiter
    gc.collect()
    names = {t.get_name() for t in asyncio.all_tasks()}
    assert "beatapi-async-poller" not in names


async def test_ten_thousand_waiters_share_one_poller_within_the_budget(transport):
    policy = PollPolicy(interval=0.001, max_interval=0.002, budget_per_minute=1200, burst=3)  # 20 per second
    for i in range(10_000):
        transport.script(f"task_{i}", "processing")
    async with AsyncBeatAPI("sk_test_10k", base_url="http://127.0.0.1:9", poll=policy, transport=transport) as c:
        with anyio.move_on_after(0.5):
            await asyncio.gather(*(c.wait_for_task(f"task_{i}", timeout=None) for i in range(10_000)))
        assert c._poller().watched == 0
    assert len(transport.polls) <= 20 * 0.5 + 3 + 1


async def test_notify_during_a_poll_on_the_wire_looks_again_at_once(transport):
    slow = PollPolicy(interval=30, max_interval=30, budget_per_minute=6000, burst=3)
    transport.latency = 0.05
    transport.script("task_w", "processing", "succeeded")
    async with AsyncBeatAPI("sk_test_w", base_url="http://127.0.0.1:9", poll=slow, transport=transport) as c:
        waiter = asyncio.ensure_future(c.wait_for_task("task_w"))
        while not transport.requests:
            await asyncio.sleep(0.001)
        event = structure({"id": "evt_2", "event": "task.succeeded", "data": task_body("task_w", "succeeded")},
                          beatapi_async.WebhookEvent)
        await c.notify(event)  # the first poll is still on the wire and will say "processing"
        task = await asyncio.wait_for(waiter, 2)
    assert task.status == "succeeded"
    assert len(transport.polls) == 2


async def test_a_new_waiter_is_polled_at_once_while_the_poller_sleeps(transport):
    slow = PollPolicy(interval=30, max_interval=30, budget_per_minute=6000, burst=3)
    transport.script("task_1", "processing")
    transport.script("task_2", "succeeded")
    async with AsyncBeatAPI("sk_test_p", base_url="http://127.0.0.1:9", poll=slow, transport=transport) as c:
        first = asyncio.ensure_future(c.wait_for_task("task_1"))
        while not transport.polls:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.01)  # the poller now sleeps ~30 s until task_1 is due again
        started = time.monotonic()
        second = await asyncio.wait_for(c.wait_for_task("task_2"), 2)
        assert second.status == "succeeded" and time.monotonic() - started < 1
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
