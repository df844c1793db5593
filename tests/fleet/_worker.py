"""One worker process of a fleet test: ``python -m tests.fleet._worker '<json config>'``.

Runs ``run_many`` over its requests (through a ``RedisCoordinator`` when given a Redis
URL), prints a JSON line per created task as it is created, then one with the results.
"""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Any

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, PollPolicy, Task
from beatapi_async.redis import RedisCoordinator


def say(**fields: Any) -> None:
    print(json.dumps(fields), flush=True)


async def main(cfg: dict[str, Any]) -> None:
    coordinator = None
    if cfg.get("redis"):
        coordinator = RedisCoordinator(cfg["redis"], lease_seconds=cfg.get("lease_seconds", 30.0),
                                       timeout=cfg.get("timeout", 2.0), wait_interval=0.005)  # fmt: skip
    poll = PollPolicy(**cfg["poll"])
    tag = cfg["tag"]
    requests = [
        EcommerceVideoRequest(images=[f"https://cdn.example.com/{tag}-{i}.png"], duration=10, prompt=f"{tag} {i}")
        for i in range(cfg["tasks"])
    ]
    keys = cfg.get("keys")
    async with AsyncBeatAPI(cfg["api_key"], base_url=cfg["base_url"], poll=poll, coordinator=coordinator) as client:
        say(ready=True)
        results = await client.run_many(
            requests,
            return_exceptions=True,
            idempotency_key=(lambda i, _: f"{keys}-{i}") if keys else None,
            on_created=lambda task: say(created=task.id),
        )
    if coordinator is not None:
        await coordinator.aclose()
    say(results=[{"id": r.id, "status": r.status} if isinstance(r, Task)
                 else {"error": type(r).__name__, "code": getattr(r, "code", None)} for r in results])  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main(json.loads(sys.argv[1])))
