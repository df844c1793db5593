"""10,000 concurrent ``wait_for_task`` waits vs the naive per-task poll loop.

A tiny aiohttp server in a separate process answers ``GET /v1/tasks/{id}`` for any id
with a task that is still ``processing`` (the launch contract's shape, no poll hint),
so no wait ever ends. Time is scaled 60x: one BeatAPI minute is one real second, the
cadence is 5 s rising to 10 s BeatAPI (83-167 ms real) and the budget 100 polls per
BeatAPI minute (100 per real second).

- **beatapi-async**: 10,000 ``asyncio`` tasks, each ``await client.wait_for_task(id,
  timeout=None)``, all sharing the client's one poll scheduler.
- **naive**: 10,000 ``asyncio`` tasks, each ``while True: await client.tasks.get(id);
  await asyncio.sleep(5 s)`` (the same client, so only the orchestration differs).

Each way runs in fresh child processes (so one run's freed memory cannot hide the
next one's growth): one measures RSS, then polls and CPU over a window; another
measures memory with ``tracemalloc`` (which slows Python, so it times nothing).
Reported: memory per waiter (tracemalloc and RSS delta / waiters, the user's asyncio
task included), polls per BeatAPI minute vs the budget (busiest 1 s window and mean,
counted by the server), client CPU time per poll (with, for reference, what one raw
aiohttp GET costs when paced at the same rate), and what is left after cancelling.

Run: ``python benchmarks/waiters.py`` (``--waiters``, ``--seconds``, ``--quick``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
import time
import tracemalloc
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from _common import ServerProcess, cpu_seconds, emit, max_in_window, rss_bytes, serve_in_child, table

SPEED = 60.0  # BeatAPI seconds per real second
BUDGET = 100  # polls per BeatAPI minute
INTERVAL, MAX_INTERVAL = 5.0, 10.0  # BeatAPI seconds
API_KEY = "sk_test_waiters_benchmark_key"


# -- the server (child process) -----------------------------------------------------------------


def serve(conn: Connection) -> None:
    """Answer every task id with a task that is still processing; count polls with their times."""
    from aiohttp import web

    times: list[float] = []
    body_tail = (
        b'","object":"task","workflow":"ecommerce-video","status":"processing","stage":"processing",'
        b'"created_at":1795643979,"updated_at":1795643984,"completed_at":null,"output":null,'
        b'"usage":{"credits_reserved":225,"credits_charged":225,"billable_duration_seconds":15,'
        b'"credits_settled":0,"credits_refunded":0},"request_id":"req_waiters","error_code":null,'
        b'"error_message":null}}'
    )

    async def task(request: web.Request) -> web.Response:
        times.append(time.monotonic())
        body = b'{"data":{"id":"' + request.match_info["id"].encode() + body_tail
        return web.Response(body=body, content_type="application/json")

    async def stats(request: web.Request) -> web.Response:
        since = float(request.query.get("since", "0"))
        until = float(request.query.get("until", "inf"))
        window = float(request.query.get("window", "1"))
        ts = [t for t in times if since <= t < until]
        return web.json_response({"polls": len(ts), "max_in_window": max_in_window(ts, window)})

    serve_in_child(conn, [("/v1/tasks/{id}", task), ("/_stats", stats)], backlog=4096)


# -- one measurement (child process) ------------------------------------------------------------


async def paced_floor(base_url: str, seconds: float) -> dict[str, Any]:
    """Raw aiohttp GETs paced at the budget's rate: what one poll costs at that pace with no SDK at all.

    Requests spread out in time cost more CPU each than back-to-back ones (cold caches,
    idle wake-ups); this is the reference for the scheduler's CPU per poll.
    """
    import aiohttp

    rate = BUDGET * SPEED / 60  # polls per real second
    async with aiohttp.ClientSession() as session:
        url = f"{base_url}/v1/tasks/task_floor"
        for _ in range(50):
            async with session.get(url) as r:
                json.loads(await r.read())
        n, t0, cpu0 = 0, time.perf_counter(), cpu_seconds()
        while time.perf_counter() - t0 < seconds:
            async with session.get(url) as r:
                json.loads(await r.read())
            n += 1
            await asyncio.sleep(max(0.0, t0 + n / rate - time.perf_counter()))
        cpu, wall = cpu_seconds() - cpu0, time.perf_counter() - t0
    return {"way": "floor", "polls": n, "seconds": round(wall, 2), "cpu_busy": round(cpu / wall, 2),
            "cpu_us_per_poll": round(cpu / n * 1e6, 1)}  # fmt: skip


async def child(way: str, mode: str, base_url: str, waiters: int, seconds: float) -> dict[str, Any]:
    import aiohttp

    from beatapi_async import AsyncBeatAPI, PollPolicy

    if way == "floor":
        return await paced_floor(base_url, seconds)

    poll = PollPolicy(interval=INTERVAL / SPEED, max_interval=MAX_INTERVAL / SPEED, budget_per_minute=BUDGET * SPEED)
    client = AsyncBeatAPI(API_KEY, base_url=base_url, poll=poll, max_retries=0)
    interval = INTERVAL / SPEED

    async def naive(task_id: str) -> None:
        while True:
            await client.tasks.get(task_id)
            await asyncio.sleep(interval)

    def start(i: int) -> asyncio.Task[Any]:
        task_id = f"task_{i:06d}"
        if way == "sdk":
            return asyncio.create_task(client.wait_for_task(task_id, timeout=None))
        return asyncio.create_task(naive(task_id))

    # Warm up: session and connections, converter hooks, the scheduler; then a quiet baseline.
    warm = [start(waiters + i) for i in range(20)]
    await asyncio.sleep(0.5)
    for t in warm:
        t.cancel()
    await asyncio.gather(*warm, return_exceptions=True)
    await asyncio.sleep(0.2)
    gc.collect()
    base_tasks = len(asyncio.all_tasks())
    if mode == "tracemalloc":
        tracemalloc.start(1)
    base_traced = tracemalloc.get_traced_memory()[0] if mode == "tracemalloc" else 0
    snapshot0 = tracemalloc.take_snapshot() if mode == "tracemalloc" else None
    base_rss = rss_bytes()

    t0 = time.perf_counter()
    tasks = [start(i) for i in range(waiters)]
    await asyncio.sleep(0)  # every coroutine runs to its first wait
    started_in = time.perf_counter() - t0
    await asyncio.sleep(2.0)  # steady state: everyone parked (naive: queued on the connection pool)
    gc.collect()
    out: dict[str, Any] = {"way": way, "mode": mode, "waiters": waiters, "start_seconds": round(started_in, 3)}
    if mode == "tracemalloc":
        traced = tracemalloc.get_traced_memory()[0] - base_traced
        snapshot = tracemalloc.take_snapshot()
        tracemalloc.stop()
        assert snapshot0 is not None
        top = snapshot.compare_to(snapshot0, "filename")[:6]
        out["bytes_per_waiter"] = round(traced / waiters)
        out["top_sites"] = [
            {"file": _short(s.traceback[0].filename), "bytes_per_waiter": round(s.size_diff / waiters)} for s in top
        ]
    else:
        out["rss_bytes_per_waiter"] = round((rss_bytes() - base_rss) / waiters)
        # The poll window: what the server saw, and the CPU it cost us.
        since, cpu0 = time.monotonic(), cpu_seconds()
        await asyncio.sleep(seconds)
        until, cpu = time.monotonic(), cpu_seconds() - cpu0
        async with aiohttp.ClientSession() as s:
            q = {"since": since, "until": until, "window": 60 / SPEED}
            async with s.get(f"{base_url}/_stats", params=q) as r:
                stats = await r.json()
        minutes = (until - since) * SPEED / 60
        out.update({
            "seconds": round(until - since, 2),
            "polls": stats["polls"],
            "polls_per_min_mean": round(stats["polls"] / minutes, 1),
            "polls_per_min_peak": stats["max_in_window"],
            "cpu_seconds": round(cpu, 3),
            "cpu_busy": round(cpu / (until - since), 2),
            "cpu_us_per_poll": round(cpu / max(1, stats["polls"]) * 1e6, 1),
        })  # fmt: skip
    # Cancel every waiter: nothing may be left running (no poller, no poll in flight).
    t0 = time.perf_counter()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await asyncio.sleep(0.1)
    out["cancel_seconds"] = round(time.perf_counter() - t0, 3)
    out["tasks_left_after_cancel"] = len(asyncio.all_tasks()) - base_tasks
    await client.aclose()
    return out


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/lib/python3", "/work/main/"):
        if marker in filename:
            return filename.split(marker, 1)[1].removeprefix(".11/").removeprefix(".10/").removeprefix(".12/")
    return filename


def run_child(way: str, mode: str, base_url: str, waiters: int, seconds: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", way, mode, base_url, str(waiters), str(seconds)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {way}/{mode} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


# -- main -----------------------------------------------------------------------------------------


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        way, mode, base_url, waiters, seconds = sys.argv[2:7]
        print(json.dumps(asyncio.run(child(way, mode, base_url, int(waiters), float(seconds)))))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (4 s poll window)")
    parser.add_argument("--waiters", type=int, default=10_000, help="concurrent waits (default 10,000)")
    parser.add_argument("--seconds", type=float, help="poll window in real seconds (default 15, quick 4)")
    args = parser.parse_args()
    seconds = args.seconds or (4.0 if args.quick else 15.0)
    n = args.waiters

    results: dict[str, dict[str, Any]] = {}
    with ServerProcess(serve) as server:
        print(f"{n:,} waiters against {server.base_url} (separate process); time scaled {SPEED:g}x; "
              f"poll window {seconds:g}s real", flush=True)  # fmt: skip
        for way in ("sdk", "naive"):
            merged: dict[str, Any] = {}
            for mode in ("rss", "tracemalloc"):
                r = run_child(way, mode, server.base_url, n, seconds)
                print(f"  {way}/{mode}: " + ", ".join(f"{k}={v}" for k, v in r.items() if k != "top_sites"),
                      flush=True)  # fmt: skip
                merged.update({k: v for k, v in r.items() if k not in ("mode", "start_seconds")})
                merged[f"start_seconds_{mode}"] = r["start_seconds"]
            results["beatapi-async" if way == "sdk" else "naive per-task loops"] = merged
        floor = run_child("floor", "cpu", server.base_url, 0, seconds)
        print(f"  raw aiohttp paced at {BUDGET * SPEED / 60:g}/s: {floor['cpu_us_per_poll']} µs CPU per GET")

    print()
    print(table(
        ["way", "KiB/waiter (tracemalloc)", "KiB/waiter (RSS)", "polls/min peak", "polls/min mean", "client CPU",
         "CPU µs/poll", "left after cancel"],
        [[name, r["bytes_per_waiter"] / 1024, r["rss_bytes_per_waiter"] / 1024, r["polls_per_min_peak"],
          r["polls_per_min_mean"], f"{r['cpu_busy']:.0%}", r["cpu_us_per_poll"], r["tasks_left_after_cancel"]]
         for name, r in results.items()],
        title=f"{n:,} concurrent waits, {seconds:g}s real = {seconds * SPEED / 60:g} BeatAPI minutes; "
              f"polls per BeatAPI minute vs budget {BUDGET} (key limit 120)",
    ))  # fmt: skip
    print(
        f"reference: raw aiohttp, one GET every {60 / (BUDGET * SPEED) * 1000:g} ms (the budget's pace, no SDK): "
        f"{floor['cpu_us_per_poll']:.0f} µs CPU per GET; back-to-back GETs cost less each (hot caches)"
    )
    for name, r in results.items():
        print(f"\n{name}: where a waiter's memory is (tracemalloc, by file)")
        print(table(["file", "bytes/waiter"], [[s["file"], s["bytes_per_waiter"]] for s in r["top_sites"]]))
    sdk = results["beatapi-async"]
    burst = 3  # PollPolicy's default burst
    targets = {
        "memory_le_10KiB_per_waiter": sdk["bytes_per_waiter"] <= 10 * 1024 and sdk["rss_bytes_per_waiter"] <= 10 * 1024,
        "memory_le_5KiB_per_waiter (aim)": sdk["bytes_per_waiter"] <= 5 * 1024,
        "polls_within_budget": sdk["polls_per_min_peak"] <= BUDGET + burst,
        "nothing_left_after_cancel": sdk["tasks_left_after_cancel"] == 0,
    }
    print()
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    emit("waiters", {"waiters": n, "speed": SPEED, "seconds": seconds, "budget_per_min": BUDGET,
                     "results": results, "paced_floor": floor, "targets": targets}, quick=args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
