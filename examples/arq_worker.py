"""A worker fleet on arq: every job renders its videos through one RedisCoordinator per process.

However many worker processes run this (on however many machines), together they never
run more of the account's tasks than its limit, poll within one budget, and read
``/v1/usage`` about once per interval. A job arq runs again after a worker crashed
waits for the tasks it already created instead of paying for new ones: its requests'
idempotency keys come from the job's id.

Run Redis, set ``BEATAPI_API_KEY`` (and ``REDIS_URL`` if Redis is not on localhost), then
start as many workers as you like::

    arq examples.arq_worker.WorkerSettings

and enqueue jobs::

    python examples/arq_worker.py https://cdn.example.com/shoe.png https://cdn.example.com/bag.png
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from arq import create_pool
from arq.connections import RedisSettings

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, PollPolicy, Task
from beatapi_async.redis import RedisCoordinator

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
POLL = PollPolicy()  # budget_per_minute is the whole fleet's


async def startup(ctx: dict[str, Any]) -> None:
    # One coordinator and one client per worker process, shared by all its jobs.
    ctx["coordinator"] = RedisCoordinator(REDIS_URL)
    ctx["client"] = AsyncBeatAPI(coordinator=ctx["coordinator"], poll=POLL)


async def shutdown(ctx: dict[str, Any]) -> None:
    await ctx["client"].aclose()
    await ctx["coordinator"].aclose()


async def render_products(ctx: dict[str, Any], image_urls: list[str]) -> list[dict[str, Any]]:
    """One job: a 15-second product video per image, each waited for."""
    client: AsyncBeatAPI = ctx["client"]
    job_id = ctx["job_id"]
    requests = [EcommerceVideoRequest(images=[url], duration=15) for url in image_urls]
    results = await client.run_many(
        requests,
        return_exceptions=True,
        idempotency_key=lambda i, _request: f"{job_id}-{i}",  # stable across redeliveries of this job
        on_created=lambda task: print(f"job {job_id}: created {task.id}", flush=True),
    )
    return [
        {"task_id": r.id, "status": r.status, "video_url": r.video_url}
        if isinstance(r, Task)
        else {"error": str(r)}
        for r in results
    ]


class WorkerSettings:
    """``arq examples.arq_worker.WorkerSettings``."""

    functions = [render_products]  # noqa: RUF012  # arq reads these class attributes
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings.from_dsn(REDIS_URL)
    max_jobs = 20
    job_timeout = 3600


async def enqueue(image_urls: list[str]) -> None:
    pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
    job = await pool.enqueue_job("render_products", image_urls)
    print("enqueued", job.job_id if job else "(already queued)")
    await pool.aclose()


if __name__ == "__main__":
    asyncio.run(enqueue(sys.argv[1:]))
