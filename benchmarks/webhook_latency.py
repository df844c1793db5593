"""How soon a finished task is seen: webhooks + ``client.notify`` vs polling alone.

N tasks are created a little apart on the emulator, and each is awaited with
``client.wait_for_task(task.id)`` starting a random 0-10 BeatAPI seconds after its
create (in production render times vary, so where a task's end falls between two
polls is effectively random; here every task takes the same time, so the random start
plays that part; the seed is fixed). The detection delay of a task is the BeatAPI
time from its completion (the emulator's ``completed_at``) to the moment its wait
returns. Two set-ups, each on a fresh emulator speaking the launch contract (no
``poll_after_seconds`` hint: the emulator's hint knows each task's exact end, which
no real hint does):

- **polling alone**: the SDK's default cadence, 5 s rising to 10 s with jitter (scaled);
- **webhooks + notify**: an ``aiohttp_handler(secret, client=client)`` receiver on
  127.0.0.1 is registered with the emulator's webhooks; each signed delivery makes the
  SDK check that task at once (one GET). Polling stays on as the fallback.

Time is scaled (``--speed``, default 20: a 5 s poll interval is 250 ms real). Polling
delays scale with the cadence, so they are reported in BeatAPI seconds (what a user
would see in production). The webhook path is bound by real latency (delivery, one
GET), so its delay is also reported in real milliseconds: on loopback it is the SDK's
own reaction time; in production add the network.

Run: ``python benchmarks/webhook_latency.py`` (``--tasks``, ``--speed``, ``--quick``).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

from _common import emit, median, table
from aiohttp import web

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, PollPolicy, Task, webhooks
from beatapi_async.testing import FakeBeatAPI

RENDER_SECONDS = 40.0  # BeatAPI seconds of an ecommerce render here (5 s queued before it)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def receiver() -> tuple[web.AppRunner, str, dict[str, Any]]:
    """Start an aiohttp app on 127.0.0.1 whose POST /hooks calls the handler set in the returned dict."""
    slot: dict[str, Any] = {}

    async def hooks(request: web.Request) -> web.StreamResponse:
        handler: Callable[[web.Request], Awaitable[web.StreamResponse]] = slot["handler"]
        return await handler(request)

    app = web.Application()
    app.router.add_post("/hooks", hooks)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/hooks", slot


async def run(mode: str, n: int, speed: float, gap: float, seed: int) -> dict[str, Any]:
    poll = PollPolicy(interval=5.0 / speed, max_interval=10.0 / speed, budget_per_minute=100 * speed,
                      webhook_interval=60.0 / speed)  # fmt: skip
    durations = {"queued": 5.0, "ecommerce_video": RENDER_SECONDS}
    offsets = [random.Random(seed + i).uniform(0, 10) / speed for i in range(n)]
    fake = FakeBeatAPI(speed=speed, concurrency_limit=n, credit_balance=10**9, poll_limit_per_minute=120,
                       poll_hint=False, durations=durations)  # fmt: skip
    async with fake, AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=poll) as client:
        runner = None
        if mode == "webhooks + notify":
            runner, url, slot = await receiver()
            hook = await client.webhooks.create(url=url, events=["task.succeeded", "task.failed"])
            assert hook.secret is not None
            slot["handler"] = webhooks.aiohttp_handler(hook.secret, client=client)
        delays: list[float] = []

        async def one(i: int) -> None:
            await asyncio.sleep(i * gap)  # spread the completions out
            task = await client.ecommerce_video.create(
                EcommerceVideoRequest(images=[f"https://cdn.example.com/p{i}.png"], duration=10)
            )
            await asyncio.sleep(offsets[i])
            done: Task = await client.wait_for_task(task.id, timeout=6000 / speed)
            completed = fake.tasks[done.id].completed_at
            assert completed is not None
            delays.append(fake.now() - completed)

        try:
            await asyncio.gather(*(one(i) for i in range(n)))
        finally:
            if runner is not None:
                await runner.cleanup()
        polls = len(fake.requests_to("GET", "/v1/tasks/*"))
        deliveries = sum(1 for d in fake.deliveries if d.ok)
    return {
        "delay_s_median": round(median(delays), 3),
        "delay_s_p90": round(percentile(delays, 0.9), 3),
        "delay_s_max": round(max(delays), 3),
        "delay_real_ms_median": round(median(delays) / speed * 1000, 2),
        "delay_real_ms_p90": round(percentile(delays, 0.9) / speed * 1000, 2),
        "polls_per_task": round(polls / n, 2),
        "deliveries": deliveries,
    }


async def bench(n: int, speed: float, rounds: int) -> dict[str, dict[str, Any]]:
    modes = ["polling alone", "webhooks + notify"]
    gap = 2.0 / speed  # a task created every 2 BeatAPI seconds
    runs: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
    for r in range(rounds):
        for mode in modes if r % 2 == 0 else modes[::-1]:
            t0 = time.perf_counter()
            runs[mode].append(await run(mode, n, speed, gap, seed=1000 * r))
            m = runs[mode][-1]
            print(f"  round {r + 1}/{rounds} {mode}: median delay {m['delay_s_median']:.2f} BeatAPI s "
                  f"({m['delay_real_ms_median']:.1f} ms real), {m['polls_per_task']} polls/task "
                  f"[{time.perf_counter() - t0:.1f}s]", flush=True)  # fmt: skip
    # Pool the rounds: medians of the per-round figures.
    return {m: {k: round(median([x[k] for x in rs]), 3) for k in rs[0]} for m, rs in runs.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (10 tasks, one round)")
    parser.add_argument("--tasks", type=int, help="tasks per run (default 30, quick 10)")
    parser.add_argument("--speed", type=float, default=20.0, help="BeatAPI seconds per real second (default 20)")
    parser.add_argument("--rounds", type=int, help="rounds (default 3, quick 1)")
    args = parser.parse_args()
    n = args.tasks or (10 if args.quick else 30)
    rounds = args.rounds or (1 if args.quick else 3)
    speed = args.speed

    print(f"{n} tasks per run, speed {speed:g}x (a 5 s poll interval = {5000 / speed:.0f} ms real), "
          f"{rounds} round(s)", flush=True)  # fmt: skip
    results = asyncio.run(bench(n, speed, rounds))
    print()
    print(table(
        ["set-up", "delay median (BeatAPI s)", "p90", "max", "median (real ms)", "p90 (real ms)", "polls/task",
         "deliveries"],
        [[mode, r["delay_s_median"], r["delay_s_p90"], r["delay_s_max"], r["delay_real_ms_median"],
          r["delay_real_ms_p90"], r["polls_per_task"], r["deliveries"]] for mode, r in results.items()],
        title=f"Detection delay after completion, {n} tasks x {rounds} round(s), emulator at {speed:g}x",
    ))  # fmt: skip
    hook, plain = results["webhooks + notify"], results["polling alone"]
    speedup = plain["delay_s_median"] / max(hook["delay_s_median"], 1e-9)
    print()
    print(f"webhooks + notify see a finished task {speedup:.0f}x sooner than polling alone (median), "
          f"{hook['delay_real_ms_median']:.1f} ms after completion on loopback")  # fmt: skip
    emit("webhook_latency", {"tasks": n, "speed": speed, "rounds": rounds, "results": results,
                             "median_speedup_vs_polling": round(speedup, 1)}, quick=args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
