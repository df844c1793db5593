"""One namespace of the fleet's state in Redis: its keys, its scripts, every call bounded in time."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import anyio
import redis.asyncio as aioredis
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .._exceptions import CoordinationError
from . import _scripts as S

KEY_PREFIX = "beatapi-async"


def namespace_for(api_key: str) -> str:
    """The default namespace of an account: a hash of its key (the key itself never reaches Redis)."""
    return hashlib.sha256(f"beatapi-async/{api_key}".encode()).hexdigest()[:32]


class Store:
    """The keys of one namespace and the scripts that change them, each call within ``timeout``."""

    def __init__(
        self, client: aioredis.Redis, namespace: str, *, timeout: float, check_loop: Callable[[], None] = lambda: None
    ) -> None:
        self._redis = client
        self._timeout = timeout
        self._check_loop = check_loop
        # The hash tag keeps every key of a namespace on one Redis Cluster slot (scripts need it).
        base = f"{KEY_PREFIX}:{{{namespace}}}:"
        self.namespace = namespace
        self.seq, self.line, self.line_exp = base + "seq", base + "line", base + "line_exp"
        self.leases, self.bound, self.orphans = base + "leases", base + "bound", base + "orphans"
        self.usage, self.usage_lock, self.poll = base + "usage", base + "usage_lock", base + "poll"
        self.gate_keys = [self.line, self.line_exp, self.leases, self.bound, self.orphans, self.usage]
        self._scripts = {
            name: client.register_script(getattr(S, name))
            for name in ("ENQUEUE", "LEAVE", "ADMIT", "BIND", "RELEASE", "REQUEUE", "RENEW", "STORE_USAGE",
                         "DEFER_READ", "TAKE", "PAUSE")
        }  # fmt: skip

    def register(self, source: str) -> Any:
        """A Lua script of another part of this namespace's state (the credit ledger), run with ``call``."""
        return self._redis.register_script(source)

    async def run(self, script: str, keys: list[str], args: list[Any]) -> Any:
        """Run one script; Redis unreachable or slower than ``timeout``: ``CoordinationError``."""
        return await self.call(self._scripts[script], keys=keys, args=args)

    async def call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        self._check_loop()
        try:
            with anyio.fail_after(self._timeout):
                return await func(*args, **kwargs)
        except (TimeoutError, RedisTimeoutError):
            # Ours (fail_after) or redis-py's own socket timeout, set to the same bound: which
            # fires first varies (on Python 3.10 it is usually redis-py's); both mean "too slow".
            raise CoordinationError(
                f"Redis did not answer within {self._timeout:g}s (the coordinator's timeout); nothing was sent to "
                "BeatAPI for requests still waiting for a slot"
            ) from None
        except (RedisError, OSError) as exc:
            raise CoordinationError(
                f"Redis is unreachable ({type(exc).__name__}: {_first_line(exc)}); nothing was sent to BeatAPI "
                "for requests still waiting for a slot"
            ) from None

    async def try_lock_usage_read(self, token: str, ttl_ms: int) -> bool:
        """Take the fleet's turn to read ``/v1/usage`` (one reader per interval)."""
        got = await self.call(self._redis.set, self.usage_lock, token, nx=True, px=max(1, ttl_ms))
        return bool(got)


class LoopGuard:
    """Redis connections belong to the event loop they were opened on.

    After that loop is closed (``asyncio.run`` again), connections left open in it are
    dropped and new ones are opened on the running loop; two loops alive at once (threads)
    cannot share one coordinator, which is said with a typed error.
    """

    def __init__(self, client: aioredis.Redis) -> None:
        self._client = client
        self._loop: asyncio.AbstractEventLoop | None = None

    def __call__(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is self._loop:
            return
        if self._loop is None or self._loop.is_closed():
            if self._loop is not None:
                self._client.connection_pool.reset()  # type: ignore[no-untyped-call]  # their loop is gone
            self._loop = loop
        else:
            raise CoordinationError(
                "this RedisCoordinator is in use on another event loop; make one per event loop "
                "(e.g. per asyncio.run) and aclose() it there"
            )


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else "no detail"
