"""The client's aiohttp connector: one lazy read timer per connection, same read-timeout rule."""

from __future__ import annotations

import asyncio
import functools
import json
import time
from typing import Any

import anyio
import pytest
from aiohttp.client_proto import ResponseHandler

from beatapi_async import APITimeoutError, AsyncBeatAPI, Timeouts
from beatapi_async import _connector as C

from ._hostile import HostileServer, head
from ._loopback import API_KEY, task

BODY = json.dumps({"data": task("task_1")}).encode()
BOUND = 5.0  # generous upper bound for calls that end well under a second


def client_for(url: str, **timeouts: float) -> AsyncBeatAPI:
    limits = Timeouts(**{"connect": 2, "total": 30, **timeouts})
    return AsyncBeatAPI(API_KEY, base_url=url, max_retries=0, timeout=limits)


def wakes(loop: asyncio.AbstractEventLoop) -> list[asyncio.TimerHandle]:
    """The lazy read timers armed on ``loop`` (asyncio's own heap: a test may look)."""
    scheduled: list[asyncio.TimerHandle] = getattr(loop, "_scheduled", [])
    return [
        h
        for h in scheduled
        if not h.cancelled() and getattr(getattr(h, "_callback", None), "__func__", None) is C._LazyReadTimer._wake
    ]


async def test_the_lazy_timer_is_in_use() -> None:
    assert C._LAZY_TIMER, "aiohttp's protocol changed: the read timer falls back to aiohttp's own"
    connector = C.Connector()
    assert isinstance(connector._factory, functools.partial) and connector._factory.func is C._LazyReadTimer
    await connector.close()


async def test_without_the_hooks_aiohttp_protocol_stays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(C, "_LAZY_TIMER", False)
    connector = C.Connector()
    assert connector._factory.func is ResponseHandler
    await connector.close()


async def test_an_answer_slower_than_the_read_timeout_passes_while_bytes_keep_coming() -> None:
    """The read timeout bounds each gap between bytes, not the whole answer."""

    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", f"Content-Length: {len(BODY)}"))
        step = len(BODY) // 6 + 1
        for i in range(0, len(BODY), step):
            await asyncio.sleep(0.06)  # each gap well under the read timeout
            writer.write(BODY[i : i + step])
            await writer.drain()

    async with HostileServer(trickle) as server, client_for(server.url, read=0.2) as client:
        started = time.monotonic()
        with anyio.fail_after(BOUND):
            got = await client.tasks.get("task_1")
        elapsed = time.monotonic() - started
    assert got.id == "task_1"
    assert elapsed > 0.3  # longer than the read timeout as a whole


@pytest.mark.parametrize("sent", [b"", b"head", b"part"])
async def test_silence_longer_than_the_read_timeout_fails(sent: bytes) -> None:
    """Nothing, only the head, or part of the body, then silence: a read timeout."""

    async def stall(writer: asyncio.StreamWriter) -> None:
        if sent == b"head":
            writer.write(head("200 OK", f"Content-Length: {len(BODY)}"))
        elif sent == b"part":
            writer.write(head("200 OK", f"Content-Length: {len(BODY)}") + BODY[:20])
        await writer.drain()
        await asyncio.sleep(30)

    async with HostileServer(stall) as server, client_for(server.url, read=0.1) as client:
        started = time.monotonic()
        with anyio.fail_after(BOUND), pytest.raises(APITimeoutError, match="read timeout"):
            await client.tasks.get("task_1")
    assert time.monotonic() - started < 2.0


async def test_a_shorter_timeout_on_a_connection_armed_with_a_longer_one() -> None:
    """The connection's timer was armed for 60 s; the next call's 0.1 s still holds."""
    answers = 0

    async def first_quick_then_silent(writer: asyncio.StreamWriter) -> None:
        nonlocal answers
        answers += 1
        if answers == 1:
            writer.write(head("200 OK", f"Content-Length: {len(BODY)}") + BODY)
            return
        await asyncio.sleep(30)

    async with HostileServer(first_quick_then_silent) as server, client_for(server.url, read=60) as client:
        assert (await client.tasks.get("task_1")).id == "task_1"
        started = time.monotonic()
        with anyio.fail_after(BOUND), pytest.raises(APITimeoutError, match="read timeout"):
            await client.tasks.get("task_1", timeout=Timeouts(connect=2, read=0.1, total=30))
        assert time.monotonic() - started < 2.0
        assert server.connections == 1  # the same, reused connection


async def test_one_timer_per_connection_not_per_answer() -> None:
    async def quick(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", f"Content-Length: {len(BODY)}") + BODY)

    loop = asyncio.get_running_loop()
    async with HostileServer(quick) as server, client_for(server.url, read=60) as client:
        for _ in range(50):
            await client.tasks.get("task_1")
        await asyncio.gather(*(client.tasks.get("task_1") for _ in range(20)))
        armed = len(wakes(loop))
        assert 1 <= armed <= server.connections
    # A closed connection takes its timer with it.
    await asyncio.sleep(0)
    assert wakes(loop) == []


async def test_a_timer_that_wakes_after_the_answer_lapses() -> None:
    """An idle connection's timer wakes once, finds nothing awaited, and is not armed again."""

    async def quick(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", f"Content-Length: {len(BODY)}") + BODY)

    loop = asyncio.get_running_loop()
    async with HostileServer(quick) as server, client_for(server.url, read=0.05) as client:
        await client.tasks.get("task_1")
        assert len(wakes(loop)) == 1
        await asyncio.sleep(0.15)
        assert wakes(loop) == []
        assert (await client.tasks.get("task_1")).id == "task_1"  # armed again for the next answer


def test_unit_deadline_moves_without_new_timers() -> None:
    """Progress stamps the time; the one timer re-arms itself at the later deadline."""
    loop = asyncio.new_event_loop()
    try:
        fired: list[Any] = []
        proto = C._LazyReadTimer(loop=loop)
        proto._on_read_timeout = lambda: fired.append(loop.time())  # type: ignore[method-assign]
        proto.read_timeout = 0.05

        async def scenario() -> None:
            proto.start_timeout()
            first = proto._watch
            for _ in range(4):  # progress every 20 ms: no timeout, and no new timer while armed
                await asyncio.sleep(0.02)
                proto._reschedule_timeout()
                assert proto._watch is first or not fired
            await asyncio.sleep(0.12)  # then silence
            assert len(fired) == 1
            proto._drop_timeout()

        loop.run_until_complete(scenario())
    finally:
        loop.close()
