"""Ten thousand tasks through one emulator, quickly, with exact bookkeeping.

Tasks live on one heap of due transitions (no timer per task, no scan per
request), so neither finishing them nor serving requests slows down as they
pile up. The bulk is seeded in-process (the same create path as HTTP, without
the HTTP stack, which costs more per request than the emulator itself); then
a few thousand more go over pipelined HTTP/1.1 connections written by hand.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from beatapi_async.testing import FakeBeatAPI

COUNT = 10_000
HTTP_COUNT = 2_000
CONNECTIONS = 4


async def pipelined_posts(
    base_url: str, path: str, headers: dict[str, str], body: dict[str, Any], count: int
) -> list[dict[str, Any]]:
    """Send ``count`` identical POSTs on one keep-alive connection without waiting; return the JSON answers."""
    parts = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    payload = json.dumps(body).encode()
    head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (
        f"POST {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    ).encode() + payload

    async def send() -> None:
        for i in range(count):
            writer.write(request)
            if i % 200 == 199:
                await writer.drain()
        await writer.drain()

    sender = asyncio.create_task(send())
    answers: list[dict[str, Any]] = []
    try:
        for _ in range(count):
            status_and_headers = await reader.readuntil(b"\r\n\r\n")
            lines = status_and_headers.split(b"\r\n")
            assert lines[0].split()[1] == b"201", lines[0]
            length = next(int(line.split(b":")[1]) for line in lines if line.lower().startswith(b"content-length:"))
            answers.append(json.loads(await reader.readexactly(length)))
        await sender
    finally:
        writer.close()
        await writer.wait_closed()
    return answers


async def test_ten_thousand_tasks() -> None:
    body = {"images": ["https://cdn.example.com/p.png"], "duration": 10}
    total = COUNT + HTTP_COUNT
    async with FakeBeatAPI(
        speed=100_000, concurrency_limit=total, credit_balance=10**9, poll_limit_per_minute=None
    ) as fake:
        started = time.monotonic()
        seeded = [fake.seed_task("ecommerce-video", **body)["id"] for _ in range(COUNT)]
        seeding = time.monotonic() - started
        assert fake.peak_running > 1

        headers = {"Authorization": f"Bearer {fake.api_key}"}
        started = time.monotonic()
        batches = await asyncio.gather(
            *(
                pipelined_posts(fake.base_url, "/v1/ecommerce-video/tasks", headers, body, HTTP_COUNT // CONNECTIONS)
                for _ in range(CONNECTIONS)
            )
        )
        over_http = time.monotonic() - started
        ids = seeded + [answer["data"]["id"] for batch in batches for answer in batch]
        assert len(set(ids)) == total

        started = time.monotonic()
        while fake.running_count:
            await asyncio.sleep(0.005)
        draining = time.monotonic() - started
        async with aiohttp.ClientSession(headers=headers) as session:
            async with session.get(fake.base_url + "/v1/usage") as response:
                usage = (await response.json())["data"]
            for task_id in (ids[0], ids[COUNT - 1], ids[-1]):
                async with session.get(f"{fake.base_url}/v1/tasks/{task_id}") as response:
                    assert (await response.json())["data"]["status"] == "succeeded"
        assert usage["total_tasks"] == total
        assert usage["credits_settled"] == total * 150
        assert usage["concurrency"]["active"] == 0
        assert all(t.status == "succeeded" for t in fake.tasks.values())
        assert len(fake.ledger) == 2 * total
        assert len(fake.requests) == HTTP_COUNT + 4
    # Generous bounds for slow, busy CI machines; typically well under half.
    assert seeding < 6, f"seeding {COUNT} tasks took {seeding:.1f} s"
    assert over_http < 6, f"{HTTP_COUNT} creates over HTTP took {over_http:.1f} s"
    assert draining < 1, f"finishing the last tasks took {draining:.1f} s"


@pytest.mark.beatapi_fake(concurrency_limit=1)
async def test_seed_task_follows_the_rules(fake_beatapi: FakeBeatAPI) -> None:
    task = fake_beatapi.seed_task("music-video", images=["https://cdn.example.com/a.png"],
                                  audio_url="https://cdn.example.com/a.mp3")  # fmt: skip
    assert task["status"] == "queued" and task["usage"]["credits_charged"] == 75
    with pytest.raises(ValueError, match="429 user_concurrency_exceeded"):
        fake_beatapi.seed_task("ecommerce-video", images=["https://cdn.example.com/a.png"], duration=10)
    with pytest.raises(ValueError, match="400 bad_request"):
        fake_beatapi.seed_task("ecommerce-video", images=[])
    with pytest.raises(ValueError, match="workflow"):
        fake_beatapi.seed_task("karaoke")
    assert fake_beatapi.requests == []
