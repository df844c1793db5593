"""The aiohttp connector of the client's own session: the same connections, cheaper per answer.

Two costs aiohttp leaves on every answer, however small, are taken off here:

- asyncio reads a socket into a fresh 256 KiB buffer per read, which glibc maps and
  unmaps (system calls and page faults for a 1 KB answer): reads ask for 64 KiB;
- the read timeout (``Timeouts.read``, no byte for that long) is a loop timer that
  aiohttp cancels and creates anew for every chunk and every answer: here one timer per
  connection stays armed, progress only notes the time, and the timer, when it wakes,
  either fires the timeout or sleeps until the new deadline. The rule is the same.

Both reach into aiohttp and asyncio internals that have been stable across the
versions this package supports; where one is missing, that part is left as it is.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp.client_proto import ResponseHandler

from ._loops import clock_of

#: Bytes one socket read asks for at most (below glibc's 128 KiB mmap threshold).
READ_SIZE = 64 * 1024

# What the lazy read timer replaces in aiohttp's protocol (present in 3.10 to 3.14).
_HOOKS = ("_reschedule_timeout", "_drop_timeout", "_on_read_timeout", "start_timeout", "connection_lost")
_LAZY_TIMER = all(callable(getattr(ResponseHandler, name, None)) for name in _HOOKS)


class _LazyReadTimer(ResponseHandler):
    """aiohttp's response protocol whose read timeout moves a deadline instead of a timer."""

    _watch: asyncio.TimerHandle | None = None  # the one armed timer, if any
    _watch_due = 0.0  # when it wakes (loop time)
    _last = 0.0  # the last progress (loop time)
    _reading = False  # an answer is awaited and the read timeout runs
    _clock: Callable[[], float] | None = None  # the loop's clock (time.monotonic for asyncio's loops)

    def _reschedule_timeout(self) -> None:
        # aiohttp calls this when a request has been sent and on every chunk received.
        timeout = self._read_timeout
        if not timeout:
            self._reading = False
            return
        self._reading = True
        clock = self._clock
        if clock is None:
            clock = self._clock = clock_of(self._loop)
        self._last = now = clock()
        due = now + timeout
        if self._watch is None or due < self._watch_due:  # none armed, or armed too late (a shorter timeout)
            self._arm(due)

    def _arm(self, due: float) -> None:
        if self._watch is not None:
            self._watch.cancel()
        self._watch = self._loop.call_at(due, self._wake)
        self._watch_due = due

    def _drop_timeout(self) -> None:
        # The answer ended (or reading paused): the armed timer lapses when it wakes.
        self._reading = False

    def _wake(self) -> None:
        self._watch = None
        timeout = self._read_timeout
        if not self._reading or not timeout:
            return
        due = self._last + timeout
        if self._loop.time() >= due:
            self._reading = False
            self._on_read_timeout()
        else:
            self._arm(due)

    def connection_lost(self, exc: BaseException | None) -> None:
        super().connection_lost(exc)
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None


class Connector(aiohttp.TCPConnector):
    """aiohttp's TCP connector, making connections that cost less per answer (see module doc)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if _LAZY_TIMER and isinstance(getattr(self, "_factory", None), functools.partial):
            self._factory = functools.partial(_LazyReadTimer, loop=self._loop)  # type: ignore[assignment]

    async def _create_connection(self, *args: Any, **kwargs: Any) -> Any:
        protocol = await super()._create_connection(*args, **kwargs)
        smaller_reads(getattr(protocol, "transport", None))
        return protocol


def smaller_reads(transport: object) -> None:
    """Have a connection's socket read at most ``READ_SIZE`` bytes at a time.

    Set where the transport (or, for TLS, its SSL protocol) has asyncio's ``max_size``;
    other event loops (uvloop) keep buffers of their own and are left alone.
    """
    if transport is None:
        return
    readers: tuple[Any, ...] = (transport, getattr(transport, "_ssl_protocol", None))
    for reader in readers:
        size = getattr(reader, "max_size", None)
        if type(size) is int and size > READ_SIZE:
            reader.max_size = READ_SIZE
