"""N tasks at concurrency limit L on the emulator: ``run_many`` vs the naive way.

The naive way is what users write today with any task API: ``asyncio.gather`` of one
coroutine per task, each creating its task (on a 429 ``user_concurrency_exceeded``,
sleep and try again) and then polling it in its own ``while`` loop with
``asyncio.sleep(interval)``. It uses the same client (``max_retries=0``, so every
429 is seen and counted rather than retried behind its back).

Both run against a fresh ``FakeBeatAPI`` at high ``speed`` with BeatAPI's launch
limits (concurrency L, 120 polls per minute per key). Every time figure is BeatAPI
time scaled by ``speed``: the poll cadence is 5 s rising to 10 s (the SDK's defaults,
and the emulator's ``poll_after_seconds`` hint), the budget 100 polls per BeatAPI
minute. Reported:

- makespan / ideal, where ideal = ceil(N / L) x task duration (queued + render,
  from ``fake.durations``): the price of orchestration;
- peak running tasks (must stay <= L), rejected creates (429s served),
- polls per BeatAPI minute (the busiest 60-second window, and the mean) vs the
  budget (100) and the key's limit (120), and poll 429s.

Run: ``python benchmarks/many_tasks.py`` (``--tasks``, ``--limit``, ``--speed``,
``--rounds``, ``--quick``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import time
from collections import defaultdict
from typing import Any

from _common import emit, max_in_window, median, table

from beatapi_async import (
    AiohttpTransport,
    AsyncBeatAPI,
    ConcurrencyLimitError,
    EcommerceVideoRequest,
    PollPolicy,
    RateLimitError,
    Request,
    Response,
    Task,
    Timeouts,
)
from beatapi_async.testing import FakeBeatAPI

BUDGET = 100  # polls per BeatAPI minute (PollPolicy's default)
KEY_LIMIT = 120  # BeatAPI's limit on GET /v1/tasks/{id} per minute per key
INTERVAL, MAX_INTERVAL = 5.0, 10.0  # BeatAPI seconds


class CountingTransport:
    """The aiohttp transport behind the public ``transport=`` seam, noting when each poll is sent.

    The emulator counts polls as they arrive; requests sent evenly can arrive bunched
    (its loop shares the CPU), so the client's own count is the fair check of its pacing.
    """

    def __init__(self) -> None:
        self.inner = AiohttpTransport()
        self.poll_times: list[float] = []

    async def send(self, request: Request, *, timeout: Timeouts) -> Response:
        if request.method == "GET" and request.path.startswith("/v1/tasks/"):
            self.poll_times.append(time.monotonic())
        return await self.inner.send(request, timeout=timeout)

    async def aclose(self) -> None:
        await self.inner.aclose()


def requests(n: int) -> list[EcommerceVideoRequest]:
    return [
        EcommerceVideoRequest(images=[f"https://cdn.example.com/product-{i}.png"], duration=15, prompt=f"ad {i}")
        for i in range(n)
    ]


def emulator(limit: int, speed: float) -> FakeBeatAPI:
    return FakeBeatAPI(speed=speed, concurrency_limit=limit, credit_balance=10**9, poll_limit_per_minute=KEY_LIMIT)


async def run_sdk(n: int, limit: int, speed: float) -> dict[str, Any]:
    async with emulator(limit, speed) as fake:
        poll = PollPolicy(
            interval=INTERVAL / speed, max_interval=MAX_INTERVAL / speed, budget_per_minute=BUDGET * speed
        )
        counter = CountingTransport()
        async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=poll, transport=counter) as client:
            t0 = time.perf_counter()
            results = await client.run_many(requests(n), return_exceptions=True)
            makespan = time.perf_counter() - t0
        return measure(fake, counter, results, makespan, speed)


async def run_naive(n: int, limit: int, speed: float) -> dict[str, Any]:
    interval = INTERVAL / speed

    async def one(client: AsyncBeatAPI, request: EcommerceVideoRequest) -> Task:
        while True:
            try:
                task = await client.ecommerce_video.create(request)
                break
            except ConcurrencyLimitError:
                await asyncio.sleep(interval)  # the limit is full: try again later
        while not task.is_terminal:
            await asyncio.sleep(interval)
            with contextlib.suppress(RateLimitError):  # polled too fast: try again at the next interval
                task = await client.tasks.get(task.id)
        return task

    async with emulator(limit, speed) as fake:
        counter = CountingTransport()
        async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, max_retries=0, transport=counter) as client:
            t0 = time.perf_counter()
            results = await asyncio.gather(*(one(client, r) for r in requests(n)), return_exceptions=True)
            makespan = time.perf_counter() - t0
        return measure(fake, counter, list(results), makespan, speed)


def measure(
    fake: FakeBeatAPI, counter: CountingTransport, results: list[Any], makespan: float, speed: float
) -> dict[str, Any]:
    n = len(results)
    limit = fake.concurrency_limit
    d = fake.durations
    task_seconds = (d.queued + d.ecommerce_video) / speed
    ideal = math.ceil(n / limit) * task_seconds
    polls = len(fake.requests_to("GET", "/v1/tasks/*"))
    minutes = makespan * speed / 60  # BeatAPI minutes the run lasted
    # Slot handoff: the k-th create after the first L waited for the k-th completion (peak <= L).
    tasks = list(fake.tasks.values())
    created = sorted(t.created_at for t in tasks)
    done = sorted(t.completed_at for t in tasks if t.completed_at is not None)
    gaps = [created[i + limit] - done[i] for i in range(min(len(created) - limit, len(done)))]
    return {
        "makespan_s": round(makespan, 3),
        "ideal_s": round(ideal, 3),
        "makespan_ratio": round(makespan / ideal, 3),
        "succeeded": sum(1 for r in results if isinstance(r, Task) and r.status == "succeeded"),
        "peak_running": fake.peak_running,
        "rejected_creates": fake.concurrency_rejections,
        "polls": polls,
        "polls_per_min_sent": max_in_window(counter.poll_times, 60 / speed),
        "polls_per_min_peak": fake.max_polls_in_window(60 / speed),
        "polls_per_min_mean": round(polls / minutes, 1),
        "poll_429s": fake.rate_limited_count,
        "handoff_s_mean": round(sum(gaps) / len(gaps), 2) if gaps else None,
        "usage_reads": len(fake.requests_to("GET", "/v1/usage")),
        "requests": len(fake.requests),
    }


async def bench(n: int, limit: int, speed: float, rounds: int) -> dict[str, dict[str, Any]]:
    runs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    ways = [("beatapi-async run_many", run_sdk), ("naive gather + poll loops", run_naive)]
    for r in range(rounds):
        for name, fn in ways if r % 2 == 0 else ways[::-1]:
            runs[name].append(await fn(n, limit, speed))
            m = runs[name][-1]
            print(f"  round {r + 1}/{rounds} {name}: makespan {m['makespan_s']:.2f}s "
                  f"({m['makespan_ratio']:.2f}x ideal), peak {m['peak_running']}, rejected {m['rejected_creates']}, "
                  f"polls/min peak {m['polls_per_min_peak']}", flush=True)  # fmt: skip
    out = {}
    for name, ms in runs.items():
        # The round with the median makespan stands for the way (its figures belong together);
        # the worst peak / rejections / poll rate over all rounds are reported too.
        mid = sorted(ms, key=lambda m: m["makespan_s"])[len(ms) // 2]
        out[name] = {
            **mid,
            "makespan_ratio_median": round(median([m["makespan_ratio"] for m in ms]), 3),
            "worst_peak_running": max(m["peak_running"] for m in ms),
            "worst_rejected_creates": max(m["rejected_creates"] for m in ms),
            "worst_polls_per_min_sent": max(m["polls_per_min_sent"] for m in ms),
            "worst_polls_per_min_peak": max(m["polls_per_min_peak"] for m in ms),
            "worst_poll_429s": max(m["poll_429s"] for m in ms),
        }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (20 tasks, one round, speed 200)")
    parser.add_argument("--tasks", type=int, help="N tasks (default 50, quick 20)")
    parser.add_argument("--limit", type=int, default=5, help="the account's concurrency limit L (default 5)")
    parser.add_argument("--speed", type=float, help="BeatAPI seconds per real second (default 100, quick 200)")
    parser.add_argument("--rounds", type=int, help="rounds, alternating who goes first (default 3, quick 1)")
    args = parser.parse_args()
    n = args.tasks or (20 if args.quick else 50)
    speed = args.speed or (200.0 if args.quick else 100.0)
    rounds = args.rounds or (1 if args.quick else 3)
    limit = args.limit

    print(f"{n} tasks, limit {limit}, emulator speed {speed:g}x, {rounds} round(s)", flush=True)
    results = asyncio.run(bench(n, limit, speed, rounds))
    sdk = results["beatapi-async run_many"]
    print()
    print(table(
        ["way", "makespan/ideal", "succeeded", "peak running", "rejected creates", "polls/min sent",
         "polls/min arrived", "polls/min mean", "poll 429s", "slot handoff s", "HTTP requests"],
        [[name, f"{m['makespan_ratio']:.2f}x", f"{m['succeeded']}/{n}", f"{m['worst_peak_running']} (limit {limit})",
          m["worst_rejected_creates"], m["worst_polls_per_min_sent"], m["worst_polls_per_min_peak"],
          m["polls_per_min_mean"], m["worst_poll_429s"],
          m["handoff_s_mean"], f"{m['requests']} ({m['usage_reads']} usage)"]
         for name, m in results.items()],
        title=f"{n} tasks at limit {limit}: ideal {sdk['ideal_s']:.2f}s real = ceil({n}/{limit}) x task; "
              f"polls per BeatAPI minute vs budget {BUDGET} (key limit {KEY_LIMIT}); slot handoff in BeatAPI s",
    ))  # fmt: skip
    targets = {
        "makespan_le_1.3x_ideal": sdk["makespan_ratio_median"] <= 1.3,
        "zero_rejected_creates": sdk["worst_rejected_creates"] == 0,
        "polls_within_budget": sdk["worst_polls_per_min_sent"] <= BUDGET + PollPolicy().burst
        and sdk["worst_poll_429s"] == 0,
        "peak_within_limit": sdk["worst_peak_running"] <= limit,
    }
    print()
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    name = "many_tasks" if (n, limit) == (50, 5) or args.quick else f"many_tasks_{n}x{limit}"
    emit(name, {"tasks": n, "limit": limit, "speed": speed, "rounds": rounds, "budget_per_min": BUDGET,
                "key_limit_per_min": KEY_LIMIT, "results": results, "targets": targets}, quick=args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
