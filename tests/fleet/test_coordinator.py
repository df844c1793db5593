"""RedisCoordinator in one process: several clients, each with its own coordinator, as a fleet would be."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from beatapi_async import (
    AsyncBeatAPI,
    AuthenticationError,
    BeatAPIError,
    CoordinationError,
    EcommerceVideoRequest,
    PollPolicy,
    RequestValidationError,
    ServiceUnavailableError,
)
from beatapi_async.redis import RedisCoordinator, RedisGate, RedisPollBudget, namespace_for
from beatapi_async.testing import FakeBeatAPI

POLL = PollPolicy(interval=0.01, max_interval=0.02, budget_per_minute=30_000, burst=5)


async def no_sleep(_: float) -> None:
    await asyncio.sleep(0)


def ec(i: int, tag: str = "") -> EcommerceVideoRequest:
    return EcommerceVideoRequest(images=[f"https://cdn.example.com/p{i}.png"], duration=10, prompt=f"{tag}ad {i}")


def client_for(fake: FakeBeatAPI, coordinator: RedisCoordinator, **kw) -> AsyncBeatAPI:
    options = {"poll": POLL, "retry_sleep": no_sleep, **kw}
    return AsyncBeatAPI(fake.api_key, base_url=fake.base_url, coordinator=coordinator, **options)


async def test_clients_of_one_fleet_share_the_limit_and_the_line(fake, redis_server):
    coordinators = [RedisCoordinator(redis_server.url, wait_interval=0.005) for _ in range(3)]
    clients = [client_for(fake, c) for c in coordinators]
    started = time.monotonic()
    try:
        results = await asyncio.gather(*(c.run_many([ec(i, f"w{n} ") for i in range(6)])
                                         for n, c in enumerate(clients)))  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        for c in clients:
            await c.aclose()
        for co in coordinators:
            await co.aclose()
    assert all(t.status == "succeeded" for batch in results for t in batch)
    assert len(fake.tasks) == 18
    assert fake.peak_running <= 3
    assert fake.concurrency_rejections == 0
    assert all(isinstance(c.gate, RedisGate) and c.gate.held == 0 for c in clients)
    # usage is read about once per interval (POLL.interval) for the fleet, not once per process
    assert len(fake.requests_to("GET", "/v1/usage")) <= elapsed / POLL.interval + 3


async def test_the_key_never_reaches_redis_and_accounts_do_not_share(fake, redis_server):
    coordinator = RedisCoordinator(redis_server.url)
    async with client_for(fake, coordinator) as client:
        await client.run(ec(0))
        ns = coordinator.namespace(client)
    async with AsyncBeatAPI("sk_test_another_account", base_url=fake.base_url, coordinator=coordinator) as other:
        assert coordinator.namespace(other) != ns
    assert ns == namespace_for(fake.api_key) and fake.api_key not in ns
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        keys = [k.decode() for k in await raw.keys("beatapi-async:*")]  # (other tests' keys are there too)
        assert any(f"{{{ns}}}" in k for k in keys)
        for k in keys:
            assert fake.api_key not in k
            kind = (await raw.type(k)).decode()
            dump = {"hash": raw.hgetall, "zset": lambda key: raw.zrange(key, 0, -1, withscores=True),
                    "string": raw.get}[kind](k)  # fmt: skip
            assert fake.api_key.encode() not in repr(await dump).encode()
    finally:
        await raw.aclose()
        await coordinator.aclose()


async def test_redis_unreachable_is_a_coordination_error_before_anything_is_sent(fake, own_redis):
    own_redis.stop()
    coordinator = RedisCoordinator(own_redis.url, timeout=0.5)
    async with client_for(fake, coordinator) as client:
        started = time.monotonic()
        results = await client.run_many([ec(i) for i in range(4)], return_exceptions=True)
        elapsed = time.monotonic() - started
    await coordinator.aclose()
    assert all(isinstance(r, CoordinationError) for r in results)
    assert results[0].code == "coordination_error" and results[0].request_id is None
    assert isinstance(results[0], BeatAPIError)
    assert elapsed < 3  # bounded: within the coordinator's timeout, not a hang
    assert fake.requests_to("POST", "*") == []


async def test_redis_too_slow_then_back_recovers_without_leaked_slots(fake, own_redis):
    coordinator = RedisCoordinator(own_redis.url, timeout=0.3, wait_interval=0.005)
    async with client_for(fake, coordinator) as client:
        own_redis.pause()
        try:
            started = time.monotonic()
            with pytest.raises(CoordinationError, match=r"within 0\.3s"):
                await client.run(ec(0))
            assert time.monotonic() - started < 2
        finally:
            own_redis.resume()
        assert fake.requests_to("POST", "*") == []
        results = await client.run_many([ec(i) for i in range(7)])
        assert [t.status for t in results] == ["succeeded"] * 7
        assert fake.peak_running <= 3 and fake.concurrency_rejections == 0
        assert client.gate.held == 0
    await coordinator.aclose()


async def test_a_failing_first_usage_read_fails_the_line_at_once(fake, redis_server):
    fake.add_fault("GET", "/v1/usage", status=503, code="service_unavailable", times=None)
    coordinator = RedisCoordinator(redis_server.url, namespace="first-read-fails")
    async with client_for(fake, coordinator) as client:
        results = await client.run_many([ec(i) for i in range(5)], return_exceptions=True)
    await coordinator.aclose()
    assert all(isinstance(r, ServiceUnavailableError) for r in results)
    assert len(fake.requests_to("GET", "/v1/usage")) == 4  # one read (and its retries), not five


async def test_a_wrong_key_is_one_401(fake, redis_server):
    coordinator = RedisCoordinator(redis_server.url)
    async with AsyncBeatAPI("sk_test_wrong_000", base_url=fake.base_url, coordinator=coordinator, poll=POLL) as c:
        results = await c.run_many([ec(i) for i in range(5)], return_exceptions=True)
    await coordinator.aclose()
    assert all(isinstance(r, AuthenticationError) for r in results)
    assert len(fake.requests_to("GET", "/v1/usage")) == 1


async def test_a_poll_429_pauses_every_process_of_the_fleet(fake, redis_server):
    one, two = RedisCoordinator(redis_server.url), RedisCoordinator(redis_server.url)
    async with client_for(fake, one) as a, client_for(fake, two) as b:
        budget_a, budget_b = one.poll_budget(a), two.poll_budget(b)
        assert isinstance(budget_a, RedisPollBudget)
        assert await budget_b.take() == 0.0
        await budget_a.pause(5.0)
        wait = await budget_b.take()
        assert 4.0 < wait <= 5.0  # the other process waits out the same pause
    await one.aclose()
    await two.aclose()


async def test_the_fleet_poll_budget_is_paced(fake, redis_server):
    coordinator = RedisCoordinator(redis_server.url, namespace="paced")
    async with client_for(fake, coordinator, poll=PollPolicy(budget_per_minute=60, burst=2)) as client:
        budget = coordinator.poll_budget(client)
        assert [await budget.take(), await budget.take()] == [0.0, 0.0]  # the burst
        assert 0.9 <= await budget.take() <= 1.0  # then one a second, for the fleet
    await coordinator.aclose()


async def test_an_expired_lease_still_counts_its_task_until_usage_says_it_stopped(fake, redis_server):
    fake.concurrency_limit = 2
    fake.script("hang", match=lambda body: body.get("prompt", "").startswith("dead "))
    dead = RedisCoordinator(redis_server.url, lease_seconds=0.2)
    live = RedisCoordinator(redis_server.url, lease_seconds=0.2, wait_interval=0.005)
    doomed = client_for(fake, dead)
    # A worker creates a task, then its process "dies": nothing renews or releases its lease.
    gate = doomed.gate
    lease = await gate.acquire()
    task = await doomed.ecommerce_video.create(ec(0, "dead "))
    await lease.bind(task.id)
    for t in (gate._admitter, gate._renewer):  # the process is gone: its timers with it
        if t is not None:
            t.cancel()
    await asyncio.sleep(0.3)  # past lease_seconds
    async with client_for(fake, live) as client:
        job = asyncio.ensure_future(client.run_many([ec(i) for i in range(1, 5)]))
        await asyncio.sleep(0.3)
        assert fake.peak_running <= 2 and fake.concurrency_rejections == 0  # the orphan kept its slot
        fake.set_outcome(task.id, "succeed")  # BeatAPI finishes it: usage frees the slot
        results = await job
    assert [t.status for t in results] == ["succeeded"] * 4
    assert fake.peak_running <= 2 and fake.concurrency_rejections == 0
    await doomed.aclose()
    await dead.aclose()
    await live.aclose()


def test_bad_arguments_are_refused():
    with pytest.raises(RequestValidationError, match="lease_seconds"):
        RedisCoordinator("redis://127.0.0.1:1/0", lease_seconds=0)
    with pytest.raises(RequestValidationError, match="timeout"):
        RedisCoordinator("redis://127.0.0.1:1/0", timeout=float("nan"))
    with pytest.raises(RequestValidationError, match="url_or_client"):
        RedisCoordinator("http://127.0.0.1:6379")
    with pytest.raises(RequestValidationError, match="url_or_client"):
        RedisCoordinator(6379)  # type: ignore[arg-type]
    assert "hunter2" not in repr(RedisCoordinator("redis://:hunter2@127.0.0.1:1/0"))


async def test_redis_restarted_empty_the_fleet_goes_on(fake, own_redis):
    coordinator = RedisCoordinator(own_redis.url, timeout=0.5, wait_interval=0.005)
    async with client_for(fake, coordinator) as client:
        assert (await client.run(ec(0))).status == "succeeded"
        own_redis.stop()
        with pytest.raises(CoordinationError):
            await client.run(ec(1))
        own_redis.restart()
        results = await client.run_many([ec(i) for i in range(2, 8)])
        assert [t.status for t in results] == ["succeeded"] * 6
        assert client.gate.held == 0
    await coordinator.aclose()
    assert fake.peak_running <= 3 and fake.concurrency_rejections == 0
    assert len(fake.tasks) == 7


async def test_an_expired_lease_with_no_task_yet_counts_as_a_placeholder(fake, redis_server, caplog):
    """Its create may have gone out: the slot stays counted; a late bind or a release replaces it."""
    coordinator = RedisCoordinator(redis_server.url, namespace="placeholder", lease_seconds=0.2)
    raw = aioredis.Redis.from_url(redis_server.url)
    try:
        async with client_for(fake, coordinator) as client:
            gate = client.gate
            store = gate._store
            first, second = await gate.acquire(), await gate.acquire()
            for t in (gate._admitter, gate._renewer):  # nothing renews: as if the loop were blocked
                if t is not None:
                    t.cancel()
            await asyncio.sleep(0.3)
            with caplog.at_level("WARNING", logger="beatapi_async"):
                await gate.renew()  # (runs the expiry)
            placeholders = {m.decode() for m in await raw.zrange(store.orphans, 0, -1)}
            assert placeholders == {f"lease:{first.id}", f"lease:{second.id}"}  # both slots still counted
            await first.bind("task_late")  # the answer arrives after all: the task replaces its placeholder
            await second.release()  # nothing was created: the holder says so, the placeholder goes
            assert {m.decode() for m in await raw.zrange(store.orphans, 0, -1)} == {"task_late"}
    finally:
        await raw.aclose()
        await coordinator.aclose()


async def test_a_lease_that_expired_before_its_create_frees_its_slot_after_usage_settles(fake, redis_server):
    """No create went out: the placeholder goes once a usage read shows nothing of it runs."""
    fake.concurrency_limit = 1
    dead = RedisCoordinator(redis_server.url, namespace="nocreate", lease_seconds=0.2)
    live = RedisCoordinator(redis_server.url, namespace="nocreate", lease_seconds=0.2, wait_interval=0.005)
    doomed = client_for(fake, dead)
    gate = doomed.gate
    await gate.acquire()  # admitted, then the process died before sending anything
    for t in (gate._admitter, gate._renewer):
        if t is not None:
            t.cancel()
    await asyncio.sleep(0.3)
    async with client_for(fake, live) as client:
        results = await asyncio.wait_for(client.run_many([ec(i) for i in range(1, 3)]), 10)
    assert [t.status for t in results] == ["succeeded"] * 2
    assert fake.concurrency_rejections == 0
    await doomed.aclose()
    await dead.aclose()
    await live.aclose()


async def test_a_blocked_event_loop_loses_its_leases_loudly_and_its_task_still_counts(fake, redis_server, caplog):
    coordinator = RedisCoordinator(redis_server.url, lease_seconds=0.2)
    async with client_for(fake, coordinator) as client:
        fake.script("hang")
        lease = await client.gate.acquire()
        task = await client.ecommerce_video.create(ec(0))
        await lease.bind(task.id)
        time.sleep(0.35)  # noqa: ASYNC251  # the loop is blocked on purpose, past lease_seconds
        with caplog.at_level("WARNING", logger="beatapi_async"):
            await client.gate.renew()
        assert "expired before they could be renewed" in caplog.text
        raw = aioredis.Redis.from_url(redis_server.url)
        try:
            store = client.gate._store
            assert await raw.zscore(store.orphans, task.id) is not None  # still counted
        finally:
            await raw.aclose()
        await lease.release()
    await coordinator.aclose()


def test_one_client_and_coordinator_on_successive_event_loops(redis_server):
    from ..cli.conftest import ThreadedEmulator

    emu = ThreadedEmulator(speed=1000.0, concurrency_limit=2, poll_limit_per_minute=None)
    coordinator = RedisCoordinator(redis_server.url)
    client = AsyncBeatAPI(emu.api_key, base_url=emu.base_url, coordinator=coordinator, poll=POLL)

    async def job(i: int) -> str:
        try:
            return (await client.run(ec(i))).status
        finally:
            await coordinator.aclose()  # its connections belong to this loop; it reconnects on the next

    try:
        assert [asyncio.run(job(1)), asyncio.run(job(2))] == ["succeeded", "succeeded"]
        asyncio.run(client.aclose())
    finally:
        emu.close()


async def test_redis_lost_mid_wait_ends_the_wait_with_a_coordination_error(fake, own_redis):
    fake.script("hang")
    coordinator = RedisCoordinator(own_redis.url, timeout=0.3)
    async with client_for(fake, coordinator) as client:
        job = asyncio.ensure_future(client.run(ec(0)))
        while not fake.tasks:
            await asyncio.sleep(0.005)
        own_redis.stop()  # the poll budget is out of reach: no poll without its permission
        with pytest.raises(CoordinationError):
            await asyncio.wait_for(job, 5)
    await coordinator.aclose()
