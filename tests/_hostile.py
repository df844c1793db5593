"""A hostile HTTP server on 127.0.0.1 (raw sockets, so it can break every rule) and a memory meter.

``HostileServer(answer)`` reads each request's head (and body, by Content-Length) and
hands the connection to ``answer(writer)``, which writes whatever it likes: an endless
chunked body, a gzip bomb, a byte at a time, ten thousand headers.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

Answer = Callable[[asyncio.StreamWriter], Awaitable[None]]


class HostileServer:
    """Serves every connection with ``answer``; counts connections and keeps request heads."""

    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.heads: list[bytes] = []
        self.connections = 0
        self.url = ""
        self._server: asyncio.AbstractServer | None = None
        self._handlers: set[asyncio.Task[Any]] = set()

    async def __aenter__(self) -> HostileServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self.connections += 1
        try:
            while True:  # keep-alive: a retry may come on the same connection
                head = await reader.readuntil(b"\r\n\r\n")
                self.heads.append(head)
                length = _content_length(head)
                if length:
                    await reader.readexactly(length)
                await self.answer(writer)
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self._handlers.discard(task)

    @property
    def requests(self) -> int:
        return len(self.heads)


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


def head(status: str = "200 OK", *headers: str) -> bytes:
    """A status line and headers, ready for a body."""
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def gzip_bomb(inflated: int) -> bytes:
    """A gzip body of ``inflated`` zero bytes (about a thousandth of that on the wire)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = bytes(1 << 20)
    parts = [packer.compress(block) for _ in range(inflated >> 20)]
    parts.append(packer.flush())
    return b"".join(parts)


def rss() -> int:
    """This process's resident memory in bytes (Linux ``/proc/self/statm``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class Peak:
    """The highest RSS growth seen while the block ran (sampled every few ms on a thread)."""

    growth = 0


@contextmanager
def peak_rss() -> Iterator[Peak]:
    """Measure the peak RSS growth of a block; skips where ``/proc`` is missing."""
    if not os.path.exists("/proc/self/statm"):
        pytest.skip("needs /proc/self/statm (Linux) to measure memory")
    peak = Peak()
    base = rss()
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak.growth = max(peak.growth, rss() - base)
            time.sleep(0.002)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        yield peak
    finally:
        done.set()
        sampler.join()
        peak.growth = max(peak.growth, rss() - base)
