"""Worker processes against one emulator and one real Redis: the account's limits hold for the fleet.

Every assertion is read from the emulator's records: peak running tasks, 429s served,
creates seen, polls per window.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from beatapi_async.testing import FakeBeatAPI

from ._redis import RedisServer

ROOT = Path(__file__).resolve().parents[2]
SPEED = 500.0  # a task: (5 + 90) BeatAPI seconds = 0.19 s
POLL_LIMIT = 60  # polls per 60 BeatAPI seconds (0.12 s here): 500 a second
# Each process's PollPolicy: the fleet's budget, 400 polls a second (below the key's 500).
# Four processes polling on their own would send up to four times that.
BUDGET_PER_MINUTE = 24_000.0
BURST = 3
POLL = {"interval": 0.001, "max_interval": 0.002, "budget_per_minute": BUDGET_PER_MINUTE, "burst": BURST}


class Worker:
    """A worker subprocess and what it printed."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.created: list[str] = []
        self.results: list[dict[str, Any]] | None = None
        self._reader = asyncio.ensure_future(self._read())

    async def _read(self) -> None:
        assert self.proc.stdout is not None
        async for raw in self.proc.stdout:
            line = json.loads(raw)
            if "created" in line:
                self.created.append(line["created"])
            if "results" in line:
                self.results = line["results"]

    async def finish(self, timeout: float = 60) -> list[dict[str, Any]]:
        await asyncio.wait_for(self.proc.wait(), timeout)
        await self._reader
        assert self.proc.returncode == 0, f"worker exited with {self.proc.returncode}"
        assert self.results is not None
        return self.results

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)


async def start(fake: FakeBeatAPI, redis: RedisServer | None, tag: str, tasks: int, **extra: Any) -> Worker:
    cfg = {"base_url": fake.base_url, "api_key": fake.api_key, "redis": redis.url if redis else None,
           "tag": tag, "tasks": tasks, "poll": POLL, **extra}  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.fleet._worker", json.dumps(cfg), cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    return Worker(proc)


def emulator(limit: int) -> FakeBeatAPI:
    return FakeBeatAPI(speed=SPEED, concurrency_limit=limit, credit_balance=10_000_000,
                       poll_limit_per_minute=POLL_LIMIT, poll_hint=False)  # fmt: skip


def assert_polls_within_the_fleet_budget(fake: FakeBeatAPI) -> None:
    for window in (0.25, 1.0):
        allowed = BUDGET_PER_MINUTE / 60 * window + BURST
        # Sent paced by Redis time; the emulator stamps them as it handles them (a little bunched).
        assert fake.max_polls_in_window(window) <= allowed * 1.1, window
    assert fake.max_polls_in_window(60 / SPEED) <= POLL_LIMIT


async def test_a_fleet_of_processes_stays_within_the_accounts_limits(redis_server):
    async with emulator(limit=3) as fake:
        workers = [await start(fake, redis_server, f"w{n}", 5) for n in range(4)]
        results = [await w.finish() for w in workers]
    assert all(r["status"] == "succeeded" for batch in results for r in batch)
    assert fake.peak_running <= 3
    assert fake.concurrency_rejections == 0
    assert fake.rate_limited_count == 0
    assert len(fake.requests_to("POST", "/v1/ecommerce-video/tasks")) == len(fake.tasks) == 20  # each once
    assert_polls_within_the_fleet_budget(fake)


async def test_a_killed_workers_tasks_count_until_beatapi_says_they_stopped(redis_server):
    async with emulator(limit=3) as fake:
        fake.script("hang", match=lambda body: body["prompt"].startswith("doomed "))
        doomed = await start(fake, redis_server, "doomed", 2, lease_seconds=0.3)
        while len(fake.tasks) < 2:
            await asyncio.sleep(0.01)
        doomed.kill()
        await doomed.proc.wait()
        orphans = list(fake.tasks)
        workers = [await start(fake, redis_server, f"w{n}", 3, lease_seconds=0.3) for n in range(2)]
        await asyncio.sleep(0.6)  # the killed worker's leases (0.3 s) expired; its tasks still run
        assert fake.running_count <= 3 and fake.concurrency_rejections == 0
        for task_id in orphans:
            fake.set_outcome(task_id, "succeed")  # BeatAPI finishes them: usage frees their slots
        results = [await w.finish() for w in workers]
    assert all(r["status"] == "succeeded" for batch in results for r in batch)
    assert fake.peak_running <= 3
    assert fake.concurrency_rejections == 0
    assert fake.rate_limited_count == 0


async def test_a_redelivered_job_waits_for_the_tasks_it_already_created(redis_server):
    async with emulator(limit=5) as fake:
        fake.script("hang", match=lambda body: body["prompt"].startswith("job "))
        first = await start(fake, redis_server, "job", 3, keys="job-77", lease_seconds=0.3)
        while len(fake.tasks) < 3:
            await asyncio.sleep(0.01)
        first.kill()  # the worker crashed; the queue delivers the job again
        await first.proc.wait()
        made = sorted(fake.tasks)
        again = await start(fake, redis_server, "job", 3, keys="job-77", lease_seconds=0.3)
        while len(again.created) < 3:
            await asyncio.sleep(0.01)
        for task_id in made:
            fake.set_outcome(task_id, "succeed")
        results = await again.finish()
    assert sorted(r["id"] for r in results) == made  # the same tasks, waited for
    assert len(fake.tasks) == 3  # each created once
    assert fake.peak_running <= 5 and fake.concurrency_rejections == 0


async def test_workers_with_redis_down_send_nothing_billable(own_redis):
    own_redis.stop()
    async with emulator(limit=3) as fake:
        started = time.monotonic()
        workers = [await start(fake, own_redis, f"w{n}", 3, timeout=0.5) for n in range(2)]
        results = [await w.finish() for w in workers]
        elapsed = time.monotonic() - started
    assert all(r == {"error": "CoordinationError", "code": "coordination_error"} for b in results for r in b)
    assert fake.requests_to("POST", "*") == []
    assert elapsed < 20  # bounded (process start-up included), never a hang
