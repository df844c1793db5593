"""The loopback set-up ``overhead.py`` measures: canned bodies, their server, the contenders.

The server (``serve``) runs in a child process and answers ``GET /v1/tasks/{id}`` with a
succeeded BeatAPI task and ``GET /runway/v1/tasks/{id}`` with a succeeded Runway task.
Each contender fetches one task per ``call()``: beatapi-async ``tasks.get``, raw
aiohttp (the floor), raw httpx, and the runwayml SDK's ``tasks.retrieve``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any

from _common import cpu_seconds, median, serve_in_child

TASK_ID = "task_9psVDD5ACK5FTs"
RUNWAY_ID = "17f20503-6c24-4c16-946b-35dbbce2af2f"
API_KEY = "sk_test_overhead_benchmark_key"

# A succeeded task as the emulator renders it (media, usage, times: every converter hook runs).
BEAT_TASK: dict[str, Any] = {
    "id": TASK_ID,
    "object": "task",
    "workflow": "ecommerce-video",
    "status": "succeeded",
    "stage": "succeeded",
    "created_at": 1795643979,
    "updated_at": 1795644074,
    "completed_at": 1795644074,
    "output": {
        "media": [
            {"type": "video", "url": f"https://media.beatapi.io/outputs/{TASK_ID}.mp4", "mime_type": "video/mp4"}
        ],
        "r2_url": f"https://media.beatapi.io/outputs/{TASK_ID}.mp4",
    },
    "usage": {
        "credits_reserved": 225,
        "credits_charged": 225,
        "billable_duration_seconds": 15,
        "credits_settled": 225,
        "credits_refunded": 0,
    },
    "request_id": "req_BR9V2PRWtG89Pu",
    "error_code": None,
    "error_message": None,
}
BEAT_BODY = json.dumps({"data": BEAT_TASK}, separators=(",", ":")).encode()

# A succeeded task in Runway's shape (runwayml ``TaskRetrieveResponse`` / ``Succeeded``).
RUNWAY_TASK = {
    "id": RUNWAY_ID,
    "status": "SUCCEEDED",
    "createdAt": "2026-11-25T21:59:39.000Z",
    "cost": {"credits": 225},
    "output": [f"https://dnznrvs05pmza.cloudfront.net/{RUNWAY_ID}.mp4?_jwt=eyJhbGciOiJIUzI1NiJ9"],
}
RUNWAY_BODY = json.dumps(RUNWAY_TASK, separators=(",", ":")).encode()


# -- the server (child process) -----------------------------------------------------------


def serve(conn: Connection) -> None:
    """Serve the canned bodies on 127.0.0.1 and report the port through ``conn``."""
    import os

    from aiohttp import web

    served = 0
    beat_headers = {"Content-Type": "application/json", "x-request-id": "req_BR9V2PRWtG89Pu"}
    runway_headers = {"Content-Type": "application/json", "x-request-id": "req_runway"}

    async def beat(_: web.Request) -> web.Response:
        nonlocal served
        served += 1
        return web.Response(body=BEAT_BODY, headers=beat_headers)

    async def runway(_: web.Request) -> web.Response:
        nonlocal served
        served += 1
        return web.Response(body=RUNWAY_BODY, headers=runway_headers)

    async def stats(_: web.Request) -> web.Response:
        t = os.times()
        return web.json_response({"served": served, "cpu": t.user + t.system})

    serve_in_child(conn, [("/v1/tasks/{id}", beat), ("/runway/v1/tasks/{id}", runway), ("/_stats", stats)])


# -- the clients ----------------------------------------------------------------------------

Call = Callable[[], Awaitable[Any]]


class Contender:
    """One way of fetching the task: ``open`` -> many ``call()`` -> ``close``."""

    name = ""

    async def open(self, base_url: str) -> None: ...

    async def call(self) -> Any: ...

    async def close(self) -> None: ...


class BeatAPIAsync(Contender):
    name = "beatapi-async"

    async def open(self, base_url: str) -> None:
        from beatapi_async import AsyncBeatAPI

        self.client = AsyncBeatAPI(api_key=API_KEY, base_url=base_url)

    async def call(self) -> Any:
        return await self.client.tasks.get(TASK_ID)

    async def close(self) -> None:
        await self.client.aclose()


class RawAiohttp(Contender):
    name = "raw aiohttp"

    async def open(self, base_url: str) -> None:
        import aiohttp

        self.session = aiohttp.ClientSession()
        self.url = f"{base_url}/v1/tasks/{TASK_ID}"
        self.headers = {"Authorization": f"Bearer {API_KEY}", "Accept": "application/json", "User-Agent": "bench"}

    async def call(self) -> Any:
        async with self.session.get(self.url, headers=self.headers) as resp:
            body = await resp.read()
            if resp.status != 200:
                raise RuntimeError(resp.status)
            return json.loads(body)["data"]

    async def close(self) -> None:
        await self.session.close()


class RawHttpx(Contender):
    name = "raw httpx"

    async def open(self, base_url: str) -> None:
        import httpx

        self.client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {API_KEY}", "Accept": "application/json", "User-Agent": "bench"},
        )
        self.path = f"/v1/tasks/{TASK_ID}"

    async def call(self) -> Any:
        resp = await self.client.get(self.path)
        if resp.status_code != 200:
            raise RuntimeError(resp.status_code)
        return resp.json()["data"]

    async def close(self) -> None:
        await self.client.aclose()


class RunwayML(Contender):
    name = "runwayml"

    async def open(self, base_url: str) -> None:
        from runwayml import AsyncRunwayML

        self.client = AsyncRunwayML(api_key="key_" + "0" * 64, base_url=f"{base_url}/runway")

    async def call(self) -> Any:
        return await self.client.tasks.retrieve(RUNWAY_ID)

    async def close(self) -> None:
        await self.client.close()


FLOOR = RawAiohttp.name


async def sequential(c: Contender, n: int) -> tuple[float, float]:
    """Median µs per call and client CPU µs per call over ``n`` sequential calls."""
    times = []
    cpu0 = cpu_seconds()
    for _ in range(n):
        t0 = time.perf_counter_ns()
        await c.call()
        times.append(time.perf_counter_ns() - t0)
    cpu = cpu_seconds() - cpu0
    return median(times) / 1000, cpu / n * 1e6


async def throughput(c: Contender, seconds: float, concurrency: int) -> float:
    """Requests per second with ``concurrency`` calls in flight, over about ``seconds``."""
    done = 0
    stop = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop:
            await c.call()
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done / (time.perf_counter() - t0)


async def server_cpu(base_url: str) -> float:
    """CPU seconds the server process has used so far."""
    import aiohttp

    async with aiohttp.ClientSession() as s, s.get(f"{base_url}/_stats") as r:
        data = await r.json()
    return float(data["cpu"])
