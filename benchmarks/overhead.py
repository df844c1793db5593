"""Per-call overhead of ``client.tasks.get`` against the floor (raw aiohttp) and the peers.

One aiohttp server runs in a separate process on 127.0.0.1 and answers canned bodies:

- ``GET /v1/tasks/{id}``: a succeeded BeatAPI task in its ``{"data": ...}`` envelope
  (what ``client.tasks.get`` reads; raw aiohttp and raw httpx read the same bytes);
- ``GET /runway/v1/tasks/{id}``: a succeeded Runway task, the shape the runwayml
  SDK's ``tasks.retrieve`` reads (its client gets ``base_url=<server>/runway``).

Measured, in interleaved rounds (the order rotates each round, so machine noise
hits every client alike):

- sequential latency: one call at a time, median per call (µs), and the client
  process's CPU time per call;
- throughput: 50 calls in flight at once (50 workers), requests per second.

Reported as medians over rounds and as ratios to raw aiohttp, the floor: reuse one
session, send the same headers, read the body, ``json.loads`` it. Finally the
beatapi-async hot path is profiled with cProfile over 5,000 sequential calls and its
pure steps are timed one by one.

Run: ``python benchmarks/overhead.py`` (``--quick`` for a short run; ``--only "beatapi-async"``
for the SDK and raw aiohttp alone in the process, saved as ``overhead_only.json``).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import time
from collections import defaultdict
from typing import Any

from _canned import (
    FLOOR,
    BeatAPIAsync,
    Contender,
    RawAiohttp,
    RawHttpx,
    RunwayML,
    sequential,
    serve,
    server_cpu,
    throughput,
)
from _common import ServerProcess, emit, median, table
from _hotpath import layers, profile, pure_steps

# Issue #15's goals, as ratios to raw aiohttp (the floor); plot.py draws them from the JSON.
LATENCY_TARGET = 1.1  # sequential latency at most this
THROUGHPUT_TARGET = 0.85  # requests per second at concurrency 50 at least this


ALL = (BeatAPIAsync, RawAiohttp, RawHttpx, RunwayML)


async def bench(
    base_url: str, rounds: int, seq_n: int, thr_seconds: float, concurrency: int, only: list[str]
) -> dict[str, Any]:
    # With --only, the other clients are never imported: their libraries' allocations can
    # change raw aiohttp's own speed (see README: the malloc state).
    contenders: list[Contender] = [kind() for kind in ALL if not only or kind.name in only]
    for c in contenders:
        await c.open(base_url)
        for _ in range(100):  # warm up: connections, caches, converter hooks
            await c.call()
        await throughput(c, 0.2, concurrency)
    seq: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    thr: dict[str, list[float]] = defaultdict(list)
    srv: dict[str, list[float]] = defaultdict(list)
    for r in range(rounds):
        order = contenders[r % len(contenders) :] + contenders[: r % len(contenders)]
        for c in order:
            us, cpu_us = await sequential(c, seq_n)
            seq[c.name].append(us)
            cpu[c.name].append(cpu_us)
        for c in order:
            scpu0, t0 = await server_cpu(base_url), time.perf_counter()
            thr[c.name].append(await throughput(c, thr_seconds, concurrency))
            srv[c.name].append((await server_cpu(base_url) - scpu0) / (time.perf_counter() - t0))
        gc.collect()
        print(f"  round {r + 1}/{rounds}: " + ", ".join(
            f"{c.name} {seq[c.name][-1]:.0f}µs {thr[c.name][-1]:.0f}/s" for c in contenders), flush=True)  # fmt: skip
    for c in contenders:
        await c.close()
    # Ratios are taken within each round (same machine conditions), then the median over rounds.
    out = {}
    for c in contenders:
        out[c.name] = {
            "latency_us": round(median(seq[c.name]), 1),
            "latency_ratio": round(median([a / f for a, f in zip(seq[c.name], seq[FLOOR], strict=True)]), 3),
            "cpu_us_per_call": round(median(cpu[c.name]), 1),
            "cpu_ratio": round(median([a / f for a, f in zip(cpu[c.name], cpu[FLOOR], strict=True)]), 3),
            "throughput_rps": round(median(thr[c.name])),
            "throughput_ratio": round(median([a / f for a, f in zip(thr[c.name], thr[FLOOR], strict=True)]), 3),
            "server_cpu_busy": round(median(srv[c.name]), 2),
        }
    return out


def raise_malloc_threshold() -> None:
    """Free one 4 MiB block first, so raw aiohttp is measured at its best, whatever else is loaded.

    asyncio reads each socket into a fresh 256 KiB buffer. glibc serves blocks that large
    with mmap/munmap (system calls and page faults on every answer) until the process has
    freed a larger mapped block; then it raises its threshold and serves them from the heap.
    Whether raw aiohttp pays that cost would otherwise depend on what the other clients in
    the process happened to allocate (the SDK's own connections read 64 KiB at a time and
    never pay it). Freeing one large block up front makes the floor the same in every run.
    """
    block = bytearray(4 * 1024 * 1024)
    del block


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (fewer rounds and calls)")
    parser.add_argument("--rounds", type=int, help="interleaved rounds (default 12, quick 3)")
    parser.add_argument("--profile-calls", type=int, help="calls profiled (default 5000, quick 1000)")
    parser.add_argument(
        "--only",
        help="comma-separated clients to run (always with raw aiohttp, the floor); saved as overhead_only.json",
    )
    args = parser.parse_args()
    names = {kind.name for kind in ALL}
    only = [name.strip() for name in args.only.split(",")] if args.only else []
    if unknown := set(only) - names:
        parser.error(f"--only: unknown client(s) {sorted(unknown)}; choose from {sorted(names)}")
    if only and FLOOR not in only:
        only.append(FLOOR)
    rounds = args.rounds or (3 if args.quick else 12)
    seq_n, thr_seconds, concurrency = (200, 0.5, 50) if args.quick else (500, 1.5, 50)
    layer_rounds, layer_n = (3, 200) if args.quick else (12, 300)
    profile_n = args.profile_calls or (1000 if args.quick else 5000)

    raise_malloc_threshold()
    with ServerProcess(serve) as server:
        print(
            f"server (separate process) on {server.base_url}; {rounds} interleaved rounds, each: "
            f"{seq_n} sequential calls + {thr_seconds}s at concurrency {concurrency} per client",
            flush=True,
        )
        results = asyncio.run(bench(server.base_url, rounds, seq_n, thr_seconds, concurrency, only))
        peeled = asyncio.run(layers(server.base_url, layer_rounds, layer_n))
        report, landmarks, profiled_us = asyncio.run(profile(server.base_url, profile_n))
    steps = pure_steps()

    print()
    print(table(
        ["client", "latency µs", "vs floor", "client CPU µs/call", "vs floor", "req/s @50", "vs floor", "server CPU"],
        [[name, r["latency_us"], f"{r['latency_ratio']:.2f}x", r["cpu_us_per_call"], f"{r['cpu_ratio']:.2f}x",
          r["throughput_rps"], f"{r['throughput_ratio']:.2f}x", f"{r['server_cpu_busy']:.0%}"]
         for name, r in results.items()],
        title=f"GET one task on loopback: medians of {rounds} interleaved rounds; ratios to raw aiohttp (the floor)",
    ))  # fmt: skip
    print()
    print(table(
        ["layer (with real I/O)", "latency µs", "vs floor", "CPU µs/call", "vs floor"],
        [[p["layer"], p["latency_us"], f"{p['latency_ratio']:.2f}x", p["cpu_us"], f"{p['cpu_ratio']:.2f}x"]
         for p in peeled],
        title=f"Where tasks.get's extra time goes ({layer_rounds} interleaved rounds x {layer_n} calls)",
    ))  # fmt: skip
    print()
    print(
        table(
            ["landmark (cProfile, inclusive)", "µs/call"],
            [[m["landmark"], m["us_per_call"]] for m in landmarks],
            title=f"beatapi-async tasks.get under cProfile: {profile_n} calls, {profiled_us:.0f} µs/call profiled",
        )
    )
    print()
    print("Top functions by own time:")
    print(report)
    print()
    print(
        table(
            ["pure step, isolated (hot cache, no I/O)", "µs"],
            [[s["step"], s["us"]] for s in steps],
            title="The SDK's own steps timed alone (best of 5; in the I/O loop they cost 2-3x: cold caches)",
        )
    )
    print()

    sdk, runway = results.get(BeatAPIAsync.name), results.get(RunwayML.name)
    targets = {}
    if sdk is not None:
        targets[f"latency_le_{LATENCY_TARGET}x_floor"] = sdk["latency_ratio"] <= LATENCY_TARGET
        targets[f"throughput_ge_{THROUGHPUT_TARGET}x_floor"] = sdk["throughput_ratio"] >= THROUGHPUT_TARGET
        if runway is not None:
            targets["faster_than_runwayml"] = (
                sdk["latency_us"] < runway["latency_us"] and sdk["throughput_rps"] > runway["throughput_rps"]
            )
    print("targets: " + ", ".join(f"{k} {'met' if v else 'MISSED'}" for k, v in targets.items()))
    emit("overhead_only" if only else "overhead", {
        "clients": list(results),
        "rounds": rounds, "sequential_calls": seq_n, "throughput_seconds": thr_seconds, "concurrency": concurrency,
        "results": results, "targets": targets, "layers": peeled,
        "target_ratios": {"latency": LATENCY_TARGET, "throughput": THROUGHPUT_TARGET},
        "profile": {"calls": profile_n, "us_per_call_profiled": round(profiled_us, 1), "landmarks": landmarks},
        "pure_steps_us": {s["step"]: round(s["us"], 2) for s in steps},
    }, quick=args.quick)  # fmt: skip


if __name__ == "__main__":
    main()
