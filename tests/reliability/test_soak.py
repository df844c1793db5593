"""A soak: 300 tasks through ``run_many`` while every route misbehaves now and then.

About one request in ten (on each route) meets a fault: 5xx, an HTML 502, a dropped
connection, a stall past the read timeout, a malformed or wrong-shaped 200, a 429,
or an answer lost after the server acted. Poll rate limits bite in storms, and some
tasks are scripted to fail. Every request must end with its task or a typed
``BeatAPIError``; no request may create two tasks; no more than the limit run at
once; nothing may leak (asyncio tasks, gate slots, watches, sessions).
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from typing import Any

from beatapi_async import BeatAPIError, LocalGate, PollPolicy, Task, TaskFailedError, Timeouts
from beatapi_async.testing import FakeBeatAPI

from ._support import Sleeps, ec, make_client, settle_tasks

SEED = 20240917
N = 300
LIMIT = 3
FAULT_RATE = 0.10
READ = 0.1
# One BeatAPI second of queueing and two of rendering: a few real milliseconds per task.
DURATIONS = {"queued": 1, "ecommerce_video": 2, "music_video": 2}
ROUTES = [
    ("GET", "/v1/usage"),
    ("POST", "/v1/ecommerce-video/tasks"),
    ("GET", "/v1/tasks/*"),
]
KINDS: list[dict[str, Any]] = [
    {"status": 503},
    {"status": 502, "body": "<html><body>502 Bad Gateway</body></html>"},
    {"status": 500},
    {"status": 503, "retryable": False},
    {"status": 429, "code": "rate_limit_exceeded"},
    {"reset": True},
    {"stall": 0.2},
    {"body": '{"data": {"id": '},
    {"body": '{"data": {"id": 7}}'},
    # The server acted; only its answer was lost or spoiled.
    {"status": 503, "after": True},
    {"status": 500, "after": True},
    {"reset": True, "after": True},
    {"stall": 0.2, "after": True},
    {"body": "<html>oops</html>", "after": True},
]


async def _inject(fake: FakeBeatAPI, rng: random.Random, stop: asyncio.Event) -> collections.Counter[str]:
    """For each new request on a route, arm a fault for that route's next request with FAULT_RATE."""
    armed: collections.Counter[str] = collections.Counter()
    seen = 0
    storms = 0
    started = time.monotonic()
    while not stop.is_set():
        requests = fake.requests
        for record in requests[seen:]:
            for method, glob in ROUTES:
                if record.method == method and _matches(record.path, glob) and rng.random() < FAULT_RATE:
                    kind = rng.choice(KINDS)
                    fake.add_fault(method, glob, times=1, **kind)
                    armed[f"{method} {glob} {sorted(kind.items())}"] += 1
        seen = len(requests)
        # Two short poll storms: the key's poll limit drops to almost nothing for a moment.
        if storms < 2 and time.monotonic() - started > 0.3 + storms * 0.8:
            storms += 1
            fake.poll_limit_per_minute = 1
            await asyncio.sleep(0.02)
            fake.poll_limit_per_minute = None
        await asyncio.sleep(0.002)
    return armed


def _matches(path: str, glob: str) -> bool:
    return path == glob or (glob.endswith("*") and path.startswith(glob[:-1]))


async def test_three_hundred_tasks_through_faults() -> None:
    rng = random.Random(SEED)
    options = {"speed": 1000, "durations": DURATIONS, "concurrency_limit": LIMIT, "credit_balance": 10**8,
               "poll_limit_per_minute": None}  # fmt: skip
    baseline = set(asyncio.all_tasks())
    async with FakeBeatAPI(**options) as fake:
        fake.script("fail", error_code="processing_failed", match=lambda body: body["prompt"].endswith("7"))
        poll = PollPolicy(interval=0.005, max_interval=0.02, budget_per_minute=60_000, burst=10)
        client = make_client(fake, Sleeps(), poll=poll, timeout=Timeouts(connect=2, read=READ))
        stop = asyncio.Event()
        injector = asyncio.create_task(_inject(fake, rng, stop))
        started = time.monotonic()
        async with client:
            results = await client.run_many([ec(i) for i in range(N)], return_exceptions=True)
            assert isinstance(client.gate, LocalGate) and client.gate.held == 0
            assert client._poller().watched == 0
        elapsed = time.monotonic() - started
        stop.set()
        armed = await injector
        fake.clear_faults()

        assert len(results) == N
        outcomes: collections.Counter[str] = collections.Counter()
        for i, result in enumerate(results):
            assert isinstance(result, (Task, BeatAPIError)), f"request {i} ended with {result!r}"
            if isinstance(result, Task):
                assert result.status == "succeeded"
                assert fake.tasks[result.id].body["prompt"] == f"ad {i}"  # its own task, in input order
                assert not str(i).endswith("7")
            elif str(i).endswith("7") and isinstance(result, TaskFailedError):
                assert result.task.error_code == "processing_failed"
            outcomes[type(result).__name__] += 1

        # No request created two tasks: one task per prompt, and per Idempotency-Key.
        per_prompt = collections.Counter(t.body["prompt"] for t in fake.tasks.values())
        assert max(per_prompt.values()) == 1, per_prompt.most_common(3)
        creates = fake.requests_to("POST", "/v1/ecommerce-video/tasks")
        keys = [r.headers.get("Idempotency-Key") for r in creates]
        assert None not in keys
        by_key = {t.request_id: t.id for t in fake.tasks.values()}
        made_by: collections.defaultdict[str, set[str]] = collections.defaultdict(set)
        for r in creates:
            if r.request_id in by_key:
                made_by[r.headers["Idempotency-Key"]].add(by_key[r.request_id])
        assert all(len(ids) == 1 for ids in made_by.values())

        assert fake.peak_running <= LIMIT
        assert outcomes["Task"] >= N * 0.7, outcomes  # faults cost some requests, not most
        faulted = sum(armed.values())
        assert faulted >= 0.05 * len(fake.requests), (faulted, len(fake.requests))  # the faults really were there
        assert fake.rate_limited_count > 0  # and so were the storms
        print(f"soak: {elapsed:.2f}s, {len(fake.requests)} requests, {faulted} faults, outcomes {dict(outcomes)}")
    # Nothing left running: no poller, no poll, no connection handler (an unclosed session
    # would show as an unraisable ResourceWarning, an error under filterwarnings=error).
    assert not await settle_tasks(baseline)

