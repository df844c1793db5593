"""run, run_many and as_completed through the gate, end to end against the emulator."""

from __future__ import annotations

import asyncio
import math
import time

import pytest

from beatapi_async import (
    AsyncBeatAPI,
    EcommerceVideoRequest,
    MusicVideoRequest,
    PollPolicy,
    RequestValidationError,
    TaskFailedError,
    WaitTimeoutError,
)
from beatapi_async.testing import FakeBeatAPI

SPEED = 1000.0
# A task: 5 s queued + 90 s ecommerce render, in BeatAPI seconds.
TASK_SECONDS = (5 + 90) / SPEED
BUDGET = 6000  # polls per minute the client may spend (100 per second)


def ec(i: int = 0, **fields) -> EcommerceVideoRequest:
    return EcommerceVideoRequest(images=[f"https://cdn.example.com/p{i}.png"], duration=10, prompt=f"ad {i}", **fields)


@pytest.fixture
async def fake():
    async with FakeBeatAPI(speed=SPEED, concurrency_limit=5, credit_balance=1_000_000,
                           poll_limit_per_minute=None) as f:
        yield f


@pytest.fixture
async def client(fake):
    poll = PollPolicy(interval=0.01, max_interval=0.02, budget_per_minute=BUDGET, burst=5)
    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=poll) as c:
        yield c


async def test_fifty_tasks_within_the_limit_in_input_order(fake, client):
    requests = [ec(i) for i in range(50)]
    started = time.monotonic()
    results = await client.run_many(requests)
    makespan = time.monotonic() - started
    assert [r.status for r in results] == ["succeeded"] * 50
    created = [r.json for r in fake.requests_to("POST", "/v1/ecommerce-video/tasks")]
    by_id = {t.id: t for t in results}
    assert len(by_id) == 50
    # results are in input order: each result's task was created from its request
    for i, task in enumerate(results):
        assert fake.tasks[task.id].body["prompt"] == f"ad {i}"
    assert len(created) == 50
    assert fake.peak_running <= 5
    assert fake.concurrency_rejections == 0
    assert fake.max_polls_in_window(1.0) <= BUDGET / 60 + 5
    ideal = math.ceil(50 / 5) * TASK_SECONDS
    assert makespan < 3 * ideal + 1.0  # loose: the figure itself is measured in benchmarks/


async def test_slots_held_by_other_processes_are_respected(fake, client):
    fake.other_active = 3
    results = await client.run_many([ec(i) for i in range(8)])
    assert all(r.status == "succeeded" for r in results)
    assert fake.peak_running <= 2
    assert fake.concurrency_rejections == 0


async def test_a_slot_taken_by_someone_else_puts_the_request_back_in_line(fake, client):
    async def grab_later() -> None:
        await asyncio.sleep(TASK_SECONDS * 1.5)
        fake.other_active = 3  # another process starts three tasks mid-run
        await asyncio.sleep(TASK_SECONDS * 3)
        fake.other_active = 0

    grabber = asyncio.ensure_future(grab_later())
    results = await client.run_many([ec(i) for i in range(20)])
    await grabber
    assert [r.status for r in results] == ["succeeded"] * 20
    assert len(fake.tasks) == 20  # nothing created twice, nothing lost
    assert fake.concurrency_rejections <= 5  # refused creates went back in line, no burst


async def test_failures_in_place_with_return_exceptions(fake, client):
    fake.script("fail", error_code="processing_failed", match=lambda body: body.get("prompt") in ("ad 1", "ad 3"))
    results = await client.run_many([ec(i) for i in range(5)], return_exceptions=True)
    assert [type(r).__name__ for r in results] == ["Task", "TaskFailedError", "Task", "TaskFailedError", "Task"]
    assert results[1].task.error_code == "processing_failed"
    assert results[1].request.prompt == "ad 1"


async def test_first_failure_raises_and_cancels_the_rest(fake, client):
    fake.script("fail", match=lambda body: body.get("prompt") == "ad 0")
    fake.script("hang", match=lambda body: body.get("prompt") != "ad 0")
    with pytest.raises(TaskFailedError):
        await client.run_many([ec(i) for i in range(12)])
    await asyncio.sleep(0.05)
    assert client.gate.held == 0
    assert client._poller().watched == 0
    created = len(fake.tasks)
    await asyncio.sleep(0.05)
    assert len(fake.tasks) == created  # nothing created after the failure


async def test_as_completed_yields_in_completion_order():
    # The music video renders 500 BeatAPI seconds (0.5 s real) longer than the ecommerce one:
    # far more than a loaded machine's jitter (the default 30 s gap, 30 ms real, was not).
    durations = {"music_video": 590.0, "ecommerce_video": 90.0}
    async with FakeBeatAPI(speed=SPEED, concurrency_limit=5, poll_limit_per_minute=None, durations=durations) as fake:
        poll = PollPolicy(interval=0.01, max_interval=0.02, budget_per_minute=BUDGET, burst=5)
        async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=poll) as client:
            fast = ec(0)
            slow = MusicVideoRequest(images=["https://cdn.example.com/s.png"], audio_url="https://cdn.example.com/a.mp3")
            order = [t.workflow async for t in client.as_completed([slow, fast])]
    assert order == ["ecommerce-video", "music-video"]


async def test_as_completed_with_return_exceptions(fake, client):
    fake.script("fail", match=lambda body: body.get("prompt") == "ad 0")
    got = [r async for r in client.as_completed([ec(0), ec(1)], return_exceptions=True)]
    assert sorted(type(r).__name__ for r in got) == ["Task", "TaskFailedError"]


async def test_breaking_out_of_as_completed_cancels_the_rest(fake, client):
    fake.script("hang", match=lambda body: body.get("prompt") != "ad 0")
    stream = client.as_completed([ec(i) for i in range(4)])
    async for task in stream:
        assert task.status == "succeeded"
        break
    await stream.aclose()
    assert client.gate.held == 0
    assert client._poller().watched == 0


async def test_deadline_per_task_with_return_exceptions(fake, client):
    fake.script("hang")
    results = await client.run_many([ec(0), ec(1)], timeout=0.1, return_exceptions=True)
    assert all(isinstance(r, WaitTimeoutError) for r in results)
    assert all(r.last_task is not None and r.last_task.status == "processing" for r in results)


async def test_cancelling_run_many_creates_nothing_more_and_leaves_nothing_running(fake, client):
    fake.script("hang")
    job = asyncio.ensure_future(client.run_many([ec(i) for i in range(30)]))
    while len(fake.tasks) < 5:
        await asyncio.sleep(0.005)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    created = len(fake.tasks)
    await asyncio.sleep(0.1)
    assert len(fake.tasks) == created == 5
    assert client.gate.held == 0
    assert client._poller().watched == 0


async def test_poll_rate_limit_storm_is_survived(fake):
    fake.poll_limit_per_minute = 5  # per 60 BeatAPI seconds = 0.06 s here
    fake.poll_hint = False
    greedy = PollPolicy(interval=0.001, max_interval=0.002, budget_per_minute=600_000, burst=50)
    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=greedy) as c:
        results = await c.run_many([ec(i) for i in range(10)])
    assert [r.status for r in results] == ["succeeded"] * 10
    assert fake.rate_limited_count > 0


async def test_manual_flow_releases_the_slot_at_storyboard_ready(fake, client):
    fake.concurrency_limit = 1
    manual = MusicVideoRequest(images=["https://cdn.example.com/m.png"], audio_url="https://cdn.example.com/a.mp3",
                               compose_mode="manual")
    board = await client.run(manual, until="actionable")
    assert board.status == "requires_action"
    assert client.gate.held == 0
    # the slot is free again: another task runs while the storyboard waits for us
    other = await client.run(ec(1))
    assert other.status == "succeeded"
    shots = [s.id for s in board.storyboard.shots]
    edited = await client.music_video.edit_shot(board.id, shots[0], prompt="brighter")
    board = await client.wait_for_task(edited, until="actionable")
    composed = await client.music_video.compose(board.id, shots)
    final = await client.wait_for_task(composed)
    assert final.status == "succeeded" and final.video_url


async def test_bad_requests_are_refused_before_anything_is_sent(fake, client):
    with pytest.raises(RequestValidationError, match=r"requests\[1\]"):
        await client.run_many([ec(0), {"images": []}])  # type: ignore[list-item]
    with pytest.raises(RequestValidationError):
        await client.run_many(ec(0))  # type: ignore[arg-type]
    assert fake.requests == []
    assert await client.run_many([]) == []


class OpenGate:
    """A replacement gate of the first interface (acquire/release/rejected on the gate) still works."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def acquire(self) -> None:
        self.calls.append("acquire")

    async def release(self) -> None:
        self.calls.append("release")

    async def refresh(self) -> None:
        self.calls.append("refresh")

    async def rejected(self, retry_after: float | None) -> None:
        self.calls.append("rejected")
        await asyncio.sleep(0.01)


async def test_run_uses_a_replacement_gate_fresh_keys_after_a_refusal_and_reports_creation(fake, client):
    fake.concurrency_limit = 1
    fake.other_active = 1  # full: creates are refused until the other process finishes
    gate = OpenGate()
    client.gate = gate
    asked: list[str] = []

    def next_key() -> str:
        asked.append(f"key-{len(asked)}")
        return asked[-1]

    async def free_later() -> None:
        await asyncio.sleep(0.05)
        fake.other_active = 0

    freer = asyncio.ensure_future(free_later())
    created: list[str] = []
    task = await client.run(ec(7), idempotency_key=next_key, on_created=lambda t: created.append(t.id))
    await freer
    assert created == [task.id] and task.status == "succeeded"
    sent = [r.headers["Idempotency-Key"] for r in fake.requests_to("POST", "/v1/ecommerce-video/tasks")]
    assert sent == asked and len(sent) >= 2  # one key per attempt, each asked for just before sending
    assert fake.concurrency_rejections == len(sent) - 1
    assert gate.calls.count("rejected") == len(sent) - 1
    assert gate.calls.count("acquire") == gate.calls.count("release") == len(sent)


async def test_errors_from_run_many_name_their_request_even_before_creation(fake, client):
    fake.credit_balance = 0
    results = await client.run_many([ec(0)], return_exceptions=True)
    assert type(results[0]).__name__ == "InsufficientCreditsError"
    assert results[0].request.prompt == "ad 0"
    assert client.gate.held == 0
