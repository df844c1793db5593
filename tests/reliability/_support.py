"""What the reliability tests share: fast retry sleeps, requests, emulator set-ups, leak checks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, MusicVideoRequest, PollPolicy, Timeouts
from beatapi_async.testing import FakeBeatAPI

IMG = "https://cdn.example.com/products/p0.png"
AUDIO = "https://cdn.example.com/audio/song.mp3"
# A webhook receiver that is never there: deliveries fail fast, nothing leaves the machine.
NOWHERE = "http://127.0.0.1:9/beatapi-webhook"
# BeatAPI step lengths (seconds) short enough that a manual storyboard is ready at once.
QUICK = {"queued": 1, "music_video": 2, "ecommerce_video": 2, "edit": 2, "compose": 2, "session_ttl": 3600}
FAST_POLL = PollPolicy(interval=0.005, max_interval=0.02, budget_per_minute=60_000, burst=10)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


class Sleeps:
    """A retry sleep that records each delay and costs no real time."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


def ec(i: int = 0, **fields: Any) -> EcommerceVideoRequest:
    return EcommerceVideoRequest(images=[f"https://cdn.example.com/p{i}.png"], duration=10, prompt=f"ad {i}", **fields)


def mv(**fields: Any) -> MusicVideoRequest:
    return MusicVideoRequest(images=[IMG], audio_url=AUDIO, duration=10, **fields)


def make_client(fake: FakeBeatAPI, sleeps: Callable[[float], Awaitable[None]], **options: Any) -> AsyncBeatAPI:
    options.setdefault("timeout", Timeouts(connect=2, read=5))
    options.setdefault("poll", FAST_POLL)
    return AsyncBeatAPI(fake.api_key, base_url=fake.base_url, retry_sleep=sleeps, **options)


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait (in small real steps) until ``condition()`` holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.002)


async def storyboard(fake: FakeBeatAPI) -> tuple[str, list[str]]:
    """Seed a manual Music Video task, wait for its storyboard, return its id and shot ids."""
    task_id = fake.seed_task("music-video", images=[IMG], audio_url=AUDIO, duration=10, compose_mode="manual")["id"]
    await until(lambda: fake.tasks[task_id].status == "requires_action")
    return task_id, [s.id for s in fake.tasks[task_id].shots]


def charges(fake: FakeBeatAPI, operation: str) -> int:
    return sum(1 for e in fake.ledger if e.kind == "charge" and e.operation == operation)


async def settle_tasks(baseline: set[asyncio.Task[Any]], timeout: float = 2.0) -> set[asyncio.Task[Any]]:
    """Wait until no asyncio task beyond ``baseline`` (and this one) is left; return any still there."""
    deadline = time.monotonic() + timeout
    while True:
        extra = {t for t in asyncio.all_tasks() if t not in baseline and t is not asyncio.current_task()}
        extra = {t for t in extra if not t.done()}
        if not extra or time.monotonic() > deadline:
            return extra
        await asyncio.sleep(0.01)
