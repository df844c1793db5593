"""Where beatapi-async's ``tasks.get`` spends its time: layers with real I/O, cProfile, pure steps."""

from __future__ import annotations

import asyncio
import cProfile
import io
import json
import pstats
import sys
import time
import timeit
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from _canned import API_KEY, BEAT_BODY, TASK_ID, BeatAPIAsync, Call, RawAiohttp
from _common import cpu_seconds, median

# Inclusive time of the hot path's landmarks, as (label, file fragment, function name).
_LANDMARKS = (
    ("tasks.get (whole call)", "resources/tasks.py", "get"),
    ("tenacity AsyncRetrying.__call__ (wraps each attempt)", "tenacity/asyncio/__init__.py", "__call__"),
    ("  one attempt: _request.send_once", "beatapi_async/_client.py", "send_once"),
    ("    AiohttpTransport.send (aiohttp I/O)", "beatapi_async/_transport.py", "send"),
    ("    decode_data (json.loads, envelope)", "beatapi_async/_protocol.py", "decode_data"),
    ("_load (cattrs -> Task)", "beatapi_async/_client.py", "_load"),
    ("path_id (validate, quote)", "beatapi_async/_validate.py", "path_id"),
    ("inspect.* (tenacity's is-coroutine checks)", "inspect.py", "*"),
)


async def profile(base_url: str, n: int) -> tuple[str, list[dict[str, Any]], float]:
    """cProfile ``n`` sequential ``tasks.get`` calls: top functions, and landmarks' inclusive µs per call."""
    c = BeatAPIAsync()
    await c.open(base_url)
    for _ in range(200):
        await c.call()
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    for _ in range(n):
        await c.call()
    prof.disable()
    per_call = (time.perf_counter() - t0) / n * 1e6
    await c.close()

    raw_stats: dict[tuple[str, int, str], tuple[int, int, float, float, Any]] = pstats.Stats(prof).stats  # type: ignore[attr-defined]
    landmarks = []
    for label, fragment, func in _LANDMARKS:
        if func == "*":  # a whole module: sum own time
            total = sum(v[2] for (f, _l, _fn), v in raw_stats.items() if f.endswith(fragment))
        else:
            total = sum(v[3] for (f, _l, fn), v in raw_stats.items() if f.endswith(fragment) and fn == func)
        landmarks.append({"landmark": label, "us_per_call": round(total / n * 1e6, 1)})
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(15)
    lines = [line for line in buf.getvalue().splitlines() if line.strip()]
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    report = "\n".join(lines[start:]).replace(sys.prefix, "<venv>").replace(sys.base_prefix, "<python>")
    return report, landmarks, per_call


async def layers(base_url: str, rounds: int, n: int) -> list[dict[str, Any]]:
    """Peel ``tasks.get`` layer by layer, with real I/O, to see where its extra time goes.

    Uses the SDK's private seams on purpose (this is the SDK's own benchmark): the
    transport alone, ``_request`` without the retry wrapper, plus ``_load``, and the
    whole public call. Interleaved rounds; ratios to raw aiohttp within each round.
    """
    from beatapi_async import AsyncBeatAPI, _protocol
    from beatapi_async._models import Task
    from beatapi_async._options import NO_RETRIES

    client = AsyncBeatAPI(api_key=API_KEY, base_url=base_url)
    floor = RawAiohttp()
    await floor.open(base_url)
    path = f"/v1/tasks/{TASK_ID}"
    # The request tasks.get builds: the client's shared read-only headers, built by the Request's filler.
    request = _protocol.new_request("GET", base_url + path, path, client._auth_view, None, None)
    timeout = client.timeout

    async def transport() -> Any:
        return json.loads((await client._transport.send(request, timeout=timeout)).body)

    async def no_retry() -> Any:
        return await client._request("GET", path, options=NO_RETRIES)

    async def no_retry_load() -> Any:
        return client._load(await client._request("GET", path, options=NO_RETRIES), Task)

    async def with_retry_load() -> Any:
        return client._load(await client._request("GET", path), Task)

    steps: list[tuple[str, Call]] = [
        ("raw aiohttp (floor)", floor.call),
        ("+ transport.send (Response, bounded read, deadline)", transport),
        ("+ _request, no retries (Request, decode_data)", no_retry),
        ("+ _load (cattrs -> Task)", no_retry_load),
        ("+ retry policy (first try direct) = tasks.get", with_retry_load),
    ]
    for _, fn in steps:
        for _ in range(100):
            await fn()
    wall: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    for r in range(rounds):
        order = steps[r % len(steps) :] + steps[: r % len(steps)]
        for label, fn in order:
            times = []
            cpu0 = cpu_seconds()
            for _ in range(n):
                t0 = time.perf_counter_ns()
                await fn()
                times.append(time.perf_counter_ns() - t0)
            cpu[label].append((cpu_seconds() - cpu0) / n * 1e6)
            wall[label].append(median(times) / 1000)
    await client.aclose()
    await floor.close()
    base = steps[0][0]
    return [
        {
            "layer": label,
            "latency_us": round(median(wall[label]), 1),
            "latency_ratio": round(median([a / f for a, f in zip(wall[label], wall[base], strict=True)]), 3),
            "cpu_us": round(median(cpu[label]), 1),
            "cpu_ratio": round(median([a / f for a, f in zip(cpu[label], cpu[base], strict=True)]), 3),
        }
        for label, _ in steps
    ]


def pure_steps() -> list[dict[str, Any]]:
    """Time the pure steps of one ``tasks.get`` (no I/O): µs per call each."""
    import aiohttp  # noqa: F401  (the same import state the calls above had)
    from multidict import CIMultiDict, CIMultiDictProxy

    from beatapi_async import AsyncBeatAPI, _convert, _protocol
    from beatapi_async._models import Task
    from beatapi_async._validate import path_id

    AsyncBeatAPI(api_key=API_KEY, base_url="http://127.0.0.1:9")  # (the same import state a client has)
    headers = CIMultiDictProxy(CIMultiDict({
        "Content-Type": "application/json", "x-request-id": "req_BR9V2PRWtG89Pu", "Content-Length": "600",
        "Date": "Wed, 25 Nov 2026 21:59:39 GMT", "Server": "Python/3.11 aiohttp/3.14",
    }))  # fmt: skip
    data = json.loads(BEAT_BODY)["data"]
    response = _protocol.Response(status=200, headers=headers, body=BEAT_BODY)  # aiohttp's headers, as sent on
    url, h = "http://127.0.0.1:9", {}
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("path_id (validate + quote the id)", lambda: path_id("task_id", TASK_ID)),
        ("build_url", lambda: _protocol.build_url(url, "/v1/tasks/x", None)),
        ("Request(...) by keyword (attrs)", lambda: _protocol.Request(method="GET", url=url, path="/p", headers=h)),
        ("new_request(...): the same, by its filler", lambda: _protocol.new_request("GET", url, "/p", h, None, None)),
        ("new_response(...): a Response, by its filler", lambda: _protocol.new_response(200, {}, b"")),
        ("decode_data (json.loads + envelope)", lambda: _protocol.decode_data(response)),
        ("structure Task (its reader)", lambda: _convert.converter.structure(data, Task)),
    ]
    rows = []
    for label, fn in steps:
        number = 20_000
        best = min(timeit.repeat(fn, number=number, repeat=5))
        rows.append({"step": label, "us": best / number * 1e6})

    async def retry_wrapper() -> float:
        from beatapi_async._retry import call_with_retries

        async def send() -> int:
            return 1

        number = 5_000
        t0 = time.perf_counter()
        for _ in range(number):
            await call_with_retries(send, max_retries=3, replayable=True, describe="GET /v1/tasks/x")
        with_retry = time.perf_counter() - t0
        t0 = time.perf_counter()
        for _ in range(number):
            await send()
        bare = time.perf_counter() - t0
        return (with_retry - bare) / number * 1e6

    rows.append({"step": "call_with_retries (tenacity) around a first-try success", "us": asyncio.run(retry_wrapper())})
    return rows
