"""The gate's interface and LocalGate: one shared usage read, strict first come first served, leases."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from beatapi_async import (
    AsyncBeatAPI,
    AuthenticationError,
    EcommerceVideoRequest,
    Gate,
    LocalGate,
    PollPolicy,
    RequestValidationError,
    ServiceUnavailableError,
    Task,
    WaitTimeoutError,
)
from beatapi_async._budget import LocalPollBudget, PollBudget
from beatapi_async.testing import FakeBeatAPI

SPEED = 1000.0
POLL = PollPolicy(interval=0.005, max_interval=0.01, budget_per_minute=60_000, burst=10)


async def no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def ec(i: int = 0) -> EcommerceVideoRequest:
    return EcommerceVideoRequest(images=[f"https://cdn.example.com/p{i}.png"], duration=10, prompt=f"ad {i}")


@pytest.fixture
async def fake():
    async with FakeBeatAPI(speed=SPEED, concurrency_limit=1, credit_balance=1_000_000,
                           poll_limit_per_minute=None) as f:  # fmt: skip
        yield f


@pytest.fixture
async def client(fake):
    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=POLL, retry_sleep=no_sleep) as c:
        yield c


def prompts_created(fake: FakeBeatAPI) -> list[str]:
    return [r.json["prompt"] for r in fake.requests_to("POST", "/v1/ecommerce-video/tasks")]


# -- #13 item 1: the first usage read is shared --------------------------------------------------


async def test_a_failing_first_usage_read_is_one_read_for_the_whole_line(fake, client):
    fake.add_fault("GET", "/v1/usage", status=503, code="service_unavailable", times=None)
    requests = [ec(i) for i in range(5)]
    results = await client.run_many(requests, return_exceptions=True)
    assert all(isinstance(r, ServiceUnavailableError) for r in results)
    # one logical read with its own retries, not one per queued request (was 5 x 4 = 20)
    assert len(fake.requests_to("GET", "/v1/usage")) == 1 + client.max_retries
    assert [r.request for r in results] == requests  # each error still names its own request
    assert fake.requests_to("POST", "*") == []
    assert client.gate.waiting == 0 and client.gate.held == 0


async def test_a_wrong_key_is_one_401_not_one_per_request(fake):
    async with AsyncBeatAPI("sk_test_wrong_key_0000", base_url=fake.base_url, poll=POLL, retry_sleep=no_sleep) as c:
        results = await c.run_many([ec(i) for i in range(6)], return_exceptions=True)
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert len(fake.requests_to("GET", "/v1/usage")) == 1


async def test_after_a_failed_first_read_a_later_request_reads_again(fake, client):
    fake.add_fault("GET", "/v1/usage", status=503, code="service_unavailable", times=1 + client.max_retries)
    with pytest.raises(ServiceUnavailableError):
        await client.run(ec(0))
    task = await client.run(ec(1))
    assert task.status == "succeeded"


# -- #13 item 4: strict first come first served -------------------------------------------------


async def test_admission_is_strictly_first_come_first_served(fake, client):
    # Tasks run ~20 re-read intervals each: waits time out and re-read usage many times.
    results = await client.run_many([ec(i) for i in range(10)])
    assert [t.status for t in results] == ["succeeded"] * 10
    assert prompts_created(fake) == [f"ad {i}" for i in range(10)]


async def test_a_refused_create_keeps_its_place_at_the_head_of_the_line(fake, client):
    async def other_process_grabs() -> None:
        while len(prompts_created(fake)) < 3:
            await asyncio.sleep(0.001)
        fake.other_active = 1  # another process takes the only slot
        await asyncio.sleep(0.05)
        fake.other_active = 0

    grabber = asyncio.ensure_future(other_process_grabs())
    results = await client.run_many([ec(i) for i in range(8)])
    await grabber
    assert [t.status for t in results] == ["succeeded"] * 8
    accepted = [t.body["prompt"] for t in sorted(fake.tasks.values(), key=lambda t: t.created_at)]
    assert accepted == [f"ad {i}" for i in range(8)]
    # every create that was refused was retried before any newer request was sent
    sent = prompts_created(fake)
    assert sorted(set(sent), key=sent.index) == [f"ad {i}" for i in range(8)]


async def test_a_cancelled_waiter_leaves_the_line_without_disturbing_its_order(fake, client):
    first = asyncio.ensure_future(client.run(ec(0)))
    while not prompts_created(fake):
        await asyncio.sleep(0.001)
    waiters = [asyncio.ensure_future(client.run(ec(i))) for i in (1, 2, 3)]
    while client.gate.waiting < 3:
        await asyncio.sleep(0.001)
    waiters[1].cancel()
    first.cancel()
    await asyncio.gather(first, waiters[1], return_exceptions=True)
    await asyncio.gather(waiters[0], waiters[2])
    sent = prompts_created(fake)  # ad 1 may be refused while ad 0 still runs, and retried first
    assert sorted(set(sent), key=sent.index) == ["ad 0", "ad 1", "ad 3"]
    assert client.gate.held == 0


# -- the interface a shared gate needs: leases bound to their task ------------------------------


class RecordingLease:
    def __init__(self, log: list[Any]) -> None:
        self.log = log

    async def bind(self, task_id: str) -> None:
        self.log.append(("bind", task_id))

    async def requeue(self, retry_after: float | None) -> None:
        self.log.append(("requeue",))

    async def release(self, *, still_running: bool = False) -> None:
        self.log.append(("release", still_running))


class RecordingGate:
    def __init__(self) -> None:
        self.log: list[Any] = []

    async def acquire(self) -> RecordingLease:
        self.log.append(("acquire",))
        return RecordingLease(self.log)

    async def refresh(self) -> None:
        return None

    async def renew(self) -> None:
        return None

    async def aclose(self) -> None:
        self.log.append(("aclose",))


async def test_a_lease_is_bound_to_its_task_and_released_as_it_stops_running(fake, client):
    gate = RecordingGate()
    assert isinstance(gate, Gate) and isinstance(LocalGate(client), Gate)
    client.gate = gate
    task = await client.run(ec(0))
    assert gate.log == [("acquire",), ("bind", task.id), ("release", False)]


async def test_a_wait_that_ends_early_releases_with_the_task_still_running(fake, client):
    gate = RecordingGate()
    client.gate = gate
    fake.script("hang")
    with pytest.raises(WaitTimeoutError):
        await client.run(ec(0), timeout=0.05)
    assert gate.log[-1] == ("release", True)
    await client.aclose()
    assert gate.log[-1] == ("aclose",)


# -- run_many / as_completed options ------------------------------------------------------------


async def test_run_many_keys_make_a_redelivered_batch_wait_for_the_tasks_it_made(fake, client):
    fake.concurrency_limit = 3
    requests = [ec(i) for i in range(4)]
    created: list[Task] = []
    first = await client.run_many(requests, idempotency_key=lambda i, r: f"job-42-{i}", on_created=created.append)
    assert sorted(t.id for t in created) == sorted(t.id for t in first)
    again = await client.run_many(requests, idempotency_key=lambda i, r: f"job-42-{i}")
    assert [t.id for t in again] == [t.id for t in first]  # same key: the task it already made
    assert len(fake.tasks) == 4
    keys = [r.headers["Idempotency-Key"] for r in fake.requests_to("POST", "/v1/ecommerce-video/tasks")]
    assert set(keys) == {f"job-42-{i}" for i in range(4)}


async def test_as_completed_takes_the_same_options(fake, client):
    seen: list[str] = []
    got = [t async for t in client.as_completed([ec(0), ec(1)], idempotency_key=lambda i, r: f"k{i}",
                                                on_created=lambda t: seen.append(t.id))]  # fmt: skip
    assert sorted(seen) == sorted(t.id for t in got)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"requests": None}, "requests"),
        ({"requests": 5}, "requests"),
        ({"requests": "ad"}, "requests"),
        ({"idempotency_key": "one-key"}, "idempotency_key"),
        ({"idempotency_key": lambda i, r: 7}, "idempotency_key(0, ...)"),
        ({"idempotency_key": lambda i, r: "same"}, "idempotency_key"),
        ({"idempotency_key": lambda i, r: "bad\nkey"}, "idempotency_key"),
        ({"on_created": "print"}, "on_created"),
    ],
)
async def test_bad_batch_arguments_are_refused_before_anything_is_sent(fake, client, kwargs, field):
    kwargs = {"requests": [ec(0), ec(1)], **kwargs}
    with pytest.raises(RequestValidationError) as info:
        await client.run_many(**kwargs)
    assert info.value.field == field
    with pytest.raises(RequestValidationError):
        async for _ in client.as_completed(**kwargs):
            pass
    assert fake.requests == []


# -- the poll budget behind its own interface ---------------------------------------------------


async def test_the_local_poll_budget_paces_and_pauses():
    now = [0.0]
    budget = LocalPollBudget(PollPolicy(budget_per_minute=60, burst=2), clock=lambda: now[0])
    assert isinstance(budget, PollBudget)
    assert [await budget.take(), await budget.take()] == [0.0, 0.0]  # the burst
    assert await budget.take() == pytest.approx(1.0)  # then one a second
    now[0] = 1.0
    assert await budget.take() == 0.0
    await budget.pause(5.0)
    assert await budget.take() == pytest.approx(5.0)
    now[0] = 6.0
    assert await budget.take() == pytest.approx(1.0)  # empty after a pause: no burst
    now[0] = 7.0
    assert await budget.take() == 0.0


async def test_a_poll_429_pauses_the_budget_the_scheduler_was_given(fake):
    class Counting(LocalPollBudget):
        pauses: list[float]

        async def pause(self, seconds: float) -> None:
            self.pauses.append(seconds)
            await super().pause(seconds)

    fake.poll_limit_per_minute = 3
    fake.poll_hint = False
    budget = Counting(POLL)
    budget.pauses = []

    class Coordinated:
        def gate(self, client: AsyncBeatAPI) -> LocalGate:
            return LocalGate(client)

        def poll_budget(self, client: AsyncBeatAPI) -> PollBudget:
            return budget

    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=POLL, coordinator=Coordinated()) as c:
        assert isinstance(c.gate, LocalGate)
        task = await c.run(ec(0))
    assert task.status == "succeeded"
    assert fake.rate_limited_count > 0 and len(budget.pauses) >= fake.rate_limited_count


async def test_a_coordinator_must_be_one():
    with pytest.raises(RequestValidationError, match="coordinator"):
        AsyncBeatAPI("sk_test_x", coordinator=object())  # type: ignore[arg-type]


# -- typing of run_many / as_completed -----------------------------------------------------------

BATCH_TYPES = """
from beatapi_async import AsyncBeatAPI, Task, TaskRequest


async def main(client: AsyncBeatAPI, requests: list[TaskRequest], flag: bool) -> None:
    done: list[Task] = await client.run_many(requests, idempotency_key=lambda i, r: f"k{i}", on_created=print)
    mixed: list[Task | BaseException] = await client.run_many(requests, return_exceptions=True)
    maybe: list[Task | BaseException] = await client.run_many(requests, return_exceptions=flag)
    async for task in client.as_completed(requests):
        print(task.video_url)
    async for item in client.as_completed(requests, return_exceptions=True):
        print(item.video_url if isinstance(item, Task) else item)
    print(done, mixed, maybe)
    wrong: list[Task] = await client.run_many(requests, return_exceptions=True)  # error
    async for other in client.as_completed(requests, return_exceptions=True):
        print(other.video_url)  # error
    await client.run_many(requests, idempotency_key=lambda request: "k")  # error
"""


def test_run_many_and_as_completed_are_typed_by_return_exceptions(tmp_path):
    pytest.importorskip("mypy.api", reason="mypy (the dev extra) is needed to type-check snippets")
    from .test_typing import _mypy

    errors = _mypy(tmp_path, {"batch.py": BATCH_TYPES})["batch.py"]
    lines = BATCH_TYPES.splitlines()  # the leading newline is line 1 of the file
    expected = {n for n, line in enumerate(lines, start=1) if line.endswith("# error")}
    assert errors == expected
