"""The server behind ``webhooks listen``: bounded connections, request deadlines, plain-text output.

``webhooks listen`` runs on a user's machine, often reachable by anyone who finds the
port. So a connection must deliver its request (head and body) within a deadline or
be closed, at most ``max_connections`` are open at once (a new one evicts the oldest
still unfinished: slow-loris connections cannot starve a real delivery or use up the
process's file descriptors), and what a delivery carries is printed as inert text.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: Seconds a connection has to send a complete request (head and body), from when it
#: opened or its last answer went out.
REQUEST_DEADLINE = 10.0
MAX_CONNECTIONS = 128
KEEPALIVE_TIMEOUT = 5.0
MAX_BODY = 1024 * 1024  # deliveries are a few KB

# C0 and C1 controls (ESC starts terminal sequences; CSI is also U+009B), DEL, and the
# bidirectional overrides that can make text read as something it is not.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def plain(text: str) -> str:
    """``text`` with every control character shown as an escape (``\\x1b``), so a terminal shows it inert."""
    return _UNSAFE.sub(_escape, text)


def plain_json(text: str) -> str:
    """JSON text (``ensure_ascii=False``) with the controls JSON leaves raw (C1, bidi) escaped the JSON way."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class _Guarded(asyncio.Protocol):
    """Passes a connection to aiohttp's handler, under the guard's deadline and connection cap."""

    def __init__(self, inner: Any, guard: ConnectionGuard) -> None:
        self.inner = inner
        self._guard = guard
        self.transport: asyncio.Transport | None = None
        self._timer: asyncio.TimerHandle | None = None
        self.handling = False  # a request of this connection is in its handler

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self._guard.opened(self)
        self.rearm()
        self.inner.connection_made(transport)

    def rearm(self) -> None:
        """Start (again) the time this connection has to complete a request."""
        self.handling = False
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self._guard.deadline, self.expire)

    def disarm(self) -> None:
        """A request is being handled: it is the handler's time now, not the sender's."""
        self.handling = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def expire(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        result: bool | None = self.inner.eof_received()
        return result

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.disarm()
        self._guard.closed(self)
        self.inner.connection_lost(exc)


class ConnectionGuard:
    """Open connections, oldest first; the aiohttp handler of each maps back to its guard."""

    def __init__(self, server: web.Server, *, max_connections: int, deadline: float) -> None:
        self._server = server
        self.max_connections = max_connections
        self.deadline = deadline
        self._open: OrderedDict[_Guarded, None] = OrderedDict()
        self._by_handler: dict[int, _Guarded] = {}
        self.evicted = 0

    def __call__(self) -> _Guarded:
        return _Guarded(self._server(), self)

    def opened(self, conn: _Guarded) -> None:
        if len(self._open) >= self.max_connections:
            # The oldest connection still sending its request goes (a slow sender, or
            # one of many); connections whose request is being handled stay.
            victim = next((c for c in self._open if not c.handling), conn)
            self.evicted += 1
            self.closed(victim)
            victim.expire()
            if victim is conn:
                return
        self._open[conn] = None
        self._by_handler[id(conn.inner)] = conn

    def closed(self, conn: _Guarded) -> None:
        self._open.pop(conn, None)
        self._by_handler.pop(id(conn.inner), None)

    def of(self, request: web.BaseRequest) -> _Guarded | None:
        return self._by_handler.get(id(request.protocol))

    @property
    def open(self) -> int:
        return len(self._open)


async def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    max_connections: int = MAX_CONNECTIONS,
    deadline: float = REQUEST_DEADLINE,
) -> tuple[web.AppRunner, asyncio.Server, ConnectionGuard]:
    """Start ``app`` on ``host:port`` behind a ``ConnectionGuard``; the caller cleans up both."""
    guard_box: list[ConnectionGuard] = []

    @web.middleware
    async def timed(request: web.Request, handler: Handler) -> web.StreamResponse:
        conn = guard_box[0].of(request) if guard_box else None
        if conn is not None:
            # The head is in; the body must come within what is left of the deadline.
            try:
                await asyncio.wait_for(request.read(), deadline)
            except asyncio.TimeoutError:
                conn.expire()
                raise
            conn.disarm()
        try:
            return await handler(request)
        finally:
            if conn is not None:
                conn.rearm()

    app.middlewares.insert(0, timed)
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEPALIVE_TIMEOUT)
    await runner.setup()
    assert runner.server is not None
    guard = ConnectionGuard(runner.server, max_connections=max_connections, deadline=deadline)
    guard_box.append(guard)
    try:
        server = await asyncio.get_running_loop().create_server(guard, host, port)
    except BaseException:
        await runner.cleanup()
        raise
    return runner, server, guard
