"""Waits that end on a webhook delivery: emulator -> aiohttp_handler -> client.notify -> one GET."""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, PollPolicy
from beatapi_async.testing import FakeBeatAPI
from beatapi_async.webhooks import aiohttp_handler


async def _receiver(handler) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_post("/hooks/beatapi", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/hooks/beatapi"


async def test_a_delivery_ends_the_wait_long_before_the_next_poll():
    # BeatAPI time runs 100x: a render takes ~0.95 s; polls come every 30 s (never, here).
    slow = PollPolicy(interval=30, max_interval=30, budget_per_minute=100)
    async with FakeBeatAPI(speed=100, poll_hint=False) as fake:
        async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=slow) as client:
            events: list = []
            handlers = {}  # the secret is known only once the endpoint exists

            async def route(request: web.Request) -> web.StreamResponse:
                return await handlers["live"](request)

            runner, url = await _receiver(route)
            try:
                hook = await client.webhooks.create(url=url, events=["task.succeeded", "task.failed"])
                assert hook.secret and hook.secret.startswith("whsec_")
                handlers["live"] = aiohttp_handler(hook.secret, on_event=events.append, client=client)
                task = await client.ecommerce_video.create(
                    EcommerceVideoRequest(images=["https://cdn.example.com/a.png"], duration=10)
                )
                started = time.monotonic()
                done = await asyncio.wait_for(client.wait_for_task(task, timeout=20), 20)
                waited = time.monotonic() - started
            finally:
                await runner.cleanup()
        assert done.status == "succeeded"
        assert waited < 5  # the poll interval is 30 s: only the delivery can explain this
        assert [e.event for e in events] == ["task.succeeded"]
        polls = fake.requests_to("GET", "/v1/tasks/*")
        assert len(polls) == 1  # only the one GET the delivery triggered
