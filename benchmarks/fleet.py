"""A fleet of P worker processes x N tasks on one account, with and without the Redis coordinator.

Each worker is its own process running ``client.run_many`` over N requests, as an arq or
custom worker would: either with its own gate and poll budget ("per process", what the
SDK does without a coordinator) or through one ``RedisCoordinator`` ("coordinator"). All
of them talk to one ``FakeBeatAPI`` with BeatAPI's launch limits (concurrency L, 120 polls
per minute per key, the 5 s poll hint) and to a real redis-server started here (from
PATH, no persistence). Times are BeatAPI time scaled by ``--speed``; the SDK's defaults
are scaled with it (poll cadence 5-10 s, budget 100 polls per minute).

Reported per configuration and mode, from the emulator's records:

- makespan / ideal, ideal = ceil(P x N / L) x one task's duration (queued + render);
- rejected creates (429 ``user_concurrency_exceeded``) and poll 429s;
- peak polls in any BeatAPI minute vs the budget (100) and the key's limit (120);
- ``/v1/usage`` reads, and the peak of running tasks (must stay <= L).

Run: ``python benchmarks/fleet.py`` (``--speed``, ``--quick`` for a short smoke run,
``--plot`` to draw ``results/fleet.png`` from the saved figures; needs matplotlib).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import RESULTS, emit, table

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, PollPolicy, Task
from beatapi_async.testing import FakeBeatAPI

BUDGET = 100  # polls per BeatAPI minute (PollPolicy's default): the fleet's, with a coordinator
KEY_LIMIT = 120  # BeatAPI's limit on GET /v1/tasks/{id} per minute per key
CONFIGS = [(8, 10, 5), (4, 10, 20)]  # (processes, tasks each, concurrency limit)
QUICK_CONFIGS = [(3, 3, 2)]


# -- a worker process -----------------------------------------------------------------------


async def worker(cfg: dict[str, Any]) -> None:
    from beatapi_async.redis import RedisCoordinator

    speed = cfg["speed"]
    poll = PollPolicy(interval=5.0 / speed, max_interval=10.0 / speed, budget_per_minute=BUDGET * speed)
    coordinator = RedisCoordinator(cfg["redis"]) if cfg["redis"] else None
    tag = cfg["tag"]
    requests = [
        EcommerceVideoRequest(images=[f"https://cdn.example.com/{tag}-{i}.png"], duration=15, prompt=f"{tag} {i}")
        for i in range(cfg["tasks"])
    ]
    async with AsyncBeatAPI(cfg["api_key"], base_url=cfg["base_url"], poll=poll, coordinator=coordinator) as client:
        print("ready", flush=True)
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)  # all start together
        results = await client.run_many(requests, return_exceptions=True)
    if coordinator is not None:
        await coordinator.aclose()
    print(json.dumps({"ok": sum(isinstance(r, Task) and r.status == "succeeded" for r in results)}), flush=True)


# -- the driver -------------------------------------------------------------------------------


class Redis:
    """A throwaway redis-server on a free loopback port, stopped by its PID."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise SystemExit("redis-server not found: apt-get install -y redis-server (or brew install redis)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.dir = tempfile.mkdtemp(prefix="beatapi-bench-redis-")
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir]
        self.proc = subprocess.Popen([binary, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.02)
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)


async def run_fleet(processes: int, tasks: int, limit: int, *, speed: float, redis: str | None) -> dict[str, Any]:
    async with FakeBeatAPI(speed=speed, concurrency_limit=limit, credit_balance=100_000_000,
                           poll_limit_per_minute=KEY_LIMIT) as fake:  # fmt: skip
        procs = []
        for n in range(processes):
            cfg = {"base_url": fake.base_url, "api_key": fake.api_key, "redis": redis, "tag": f"w{n}",
                   "tasks": tasks, "speed": speed}  # fmt: skip
            procs.append(await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--worker", json.dumps(cfg),
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            ))  # fmt: skip
        for p in procs:
            assert p.stdout is not None
            await p.stdout.readline()  # "ready": imports done, client open
        started = time.monotonic()
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(b"go\n")
            await p.stdin.drain()
        done = 0
        for p in procs:
            assert p.stdout is not None
            line = await p.stdout.readline()
            done += json.loads(line)["ok"] if line else 0
            await p.wait()
        makespan = time.monotonic() - started
        d = fake.durations
        one_task = (d.queued + d.ecommerce_video) / speed
        ideal = math.ceil(processes * tasks / limit) * one_task
        minute = 60.0 / speed
        return {
            "succeeded": done,
            "makespan_over_ideal": makespan / ideal,
            "rejected_creates": fake.concurrency_rejections,
            "poll_429s": fake.rate_limited_count,
            "peak_polls_per_minute": fake.max_polls_in_window(minute),
            "usage_reads": len(fake.requests_to("GET", "/v1/usage")),
            "peak_running": fake.peak_running,
        }


async def drive(configs: list[tuple[int, int, int]], speed: float) -> dict[str, Any]:
    redis = Redis()
    runs = []
    try:
        for processes, tasks, limit in configs:
            for mode, url in (("per process", None), ("coordinator", redis.url)):
                figures = await run_fleet(processes, tasks, limit, speed=speed, redis=url)
                runs.append({"processes": processes, "tasks": tasks, "limit": limit, "mode": mode, **figures})
    finally:
        redis.stop()
    return {"speed": speed, "budget_per_minute": BUDGET, "key_limit": KEY_LIMIT, "runs": runs}


def plot(data: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = data["runs"]
    labels = [f"{r['processes']}x{r['tasks']} @ {r['limit']}\n{r['mode']}" for r in runs]
    colors = ["#1f77b4" if r["mode"] == "coordinator" else "#c9c9c9" for r in runs]
    panels = [
        ("rejected_creates", "rejected creates"),
        ("poll_429s", "poll 429s"),
        ("peak_polls_per_minute", "peak polls per BeatAPI minute"),
        ("usage_reads", "/v1/usage reads"),
    ]
    fig, axes = plt.subplots(1, len(panels), figsize=(14, 3.6), constrained_layout=True)
    for ax, (key, title) in zip(axes, panels, strict=True):
        values = [r[key] for r in runs]
        ax.bar(range(len(runs)), values, color=colors)
        ax.set_xticks(range(len(runs)), labels, fontsize=7)
        ax.set_title(title + " (lower is better)", fontsize=9)
        if key == "peak_polls_per_minute":
            ax.axhline(data["key_limit"], color="#d62728", ls="--", lw=1, label="key limit")
            ax.axhline(data["budget_per_minute"], color="black", ls=":", lw=1, label="budget")
            ax.legend(fontsize=7)
        ax.set_ylim(0, max(1, *values) * 1.15)
        for i, v in enumerate(values):
            ax.text(i, v, f"{v:,}", ha="center", va="bottom", fontsize=8)
    fig.suptitle("A fleet of worker processes on one account: per-process limits vs RedisCoordinator", fontsize=10)
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=50.0, help="BeatAPI seconds per real second (default 50)")
    parser.add_argument("--quick", action="store_true", help="one small configuration, fast clock (a smoke run)")
    parser.add_argument("--plot", action="store_true", help="draw results/fleet.png from the saved figures")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        asyncio.run(worker(json.loads(args.worker)))
        return
    if args.plot:
        for name in ("fleet.json", "fleet.quick.json"):
            if (RESULTS / name).exists():
                plot(json.loads((RESULTS / name).read_text().strip().splitlines()[-1]), RESULTS / "fleet.png")
                return
        raise SystemExit("no fleet results yet: run `python benchmarks/fleet.py` first")
    speed = 400.0 if args.quick else args.speed
    data = asyncio.run(drive(QUICK_CONFIGS if args.quick else CONFIGS, speed))
    headers = ["P x N @ L", "mode", "done", "makespan/ideal", "rejected", "poll 429s", "peak polls/min",
               "usage reads", "peak running"]  # fmt: skip
    rows = [[f"{r['processes']}x{r['tasks']} @ {r['limit']}", r["mode"], r["succeeded"], r["makespan_over_ideal"],
             r["rejected_creates"], r["poll_429s"], r["peak_polls_per_minute"], r["usage_reads"], r["peak_running"]]
            for r in data["runs"]]  # fmt: skip
    print(table(headers, rows, title=f"budget {BUDGET}/min for the fleet, key limit {KEY_LIMIT}/min, speed {speed:g}"))
    emit("fleet", data, quick=args.quick)


if __name__ == "__main__":
    main()
