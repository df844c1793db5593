"""Whether code runs on a given event loop, without a system call per check; and the loop's clock."""

from __future__ import annotations

import asyncio
import threading
import time
from asyncio.base_events import BaseEventLoop
from collections.abc import Callable


def runs_on(loop: asyncio.AbstractEventLoop | None) -> bool:
    """True when the calling coroutine runs on ``loop``.

    ``asyncio.get_running_loop()`` makes a ``getpid`` system call on every call before
    Python 3.12, and a call made twice per request showed at 50 in flight. asyncio's own
    loops note the thread running them (``_thread_id``, set only while they run), and a
    thread runs one loop at a time: a loop running in this very thread is the running loop.
    Other loops (uvloop) are asked the usual way.
    """
    if loop is None:
        return False
    if isinstance(loop, BaseEventLoop):
        running_in: int | None = loop._thread_id  # type: ignore[attr-defined]
        return running_in == threading.get_ident()
    return loop is asyncio.get_running_loop()


def clock_of(loop: asyncio.AbstractEventLoop) -> Callable[[], float]:
    """The loop's clock as a plain function (no method call): asyncio's own loops read ``time.monotonic``."""
    if type(loop).time is BaseEventLoop.time:
        return time.monotonic
    return loop.time
