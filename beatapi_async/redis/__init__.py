"""Worker fleets: one account's limits shared by many processes through Redis (extra ``redis``).

    from beatapi_async import AsyncBeatAPI
    from beatapi_async.redis import RedisCoordinator

    coordinator = RedisCoordinator("redis://127.0.0.1:6379/0")
    async with AsyncBeatAPI(coordinator=coordinator) as client:   # in every worker process
        results = await client.run_many(requests)
    await coordinator.aclose()

With a coordinator, a client's concurrency gate (``RedisGate``), poll budget
(``RedisPollBudget``) and ``/v1/usage`` reads are the fleet's. Every Redis call is
bounded by ``timeout``: past it, ``CoordinationError``, before anything billable is sent.
"""

from __future__ import annotations

import contextlib
import math
import urllib.parse
from typing import TYPE_CHECKING

import redis.asyncio as aioredis

from .._exceptions import CoordinationError, RequestValidationError
from .._logging import remember_secret
from ._budget import RedisPollBudget
from ._credits import RedisCreditAdmission
from ._gate import RedisGate, RedisLease
from ._store import LoopGuard, Store, namespace_for

if TYPE_CHECKING:
    from .._client import AsyncBeatAPI

__all__ = [
    "CoordinationError",
    "RedisCoordinator",
    "RedisCreditAdmission",
    "RedisGate",
    "RedisLease",
    "RedisPollBudget",
    "namespace_for",
]


def _positive(name: str, value: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise RequestValidationError(name, "must be a positive number of seconds")
    return float(value)


class RedisCoordinator:
    """Shares the gate, the poll budget and usage reads of every client that uses it, through Redis.

    Args:
        url_or_client: a ``redis://`` / ``rediss://`` / ``unix://`` URL (a connection this
            coordinator opens and ``aclose`` closes), or a ``redis.asyncio.Redis`` of yours
            (used, never closed).
        namespace: keys' namespace; default: a hash of each client's API key, so two
            accounts on one Redis never share slots (the key itself is never written).
        lease_seconds: how long a slot outlives its holder's last renewal (renewed every
            third of it from a timer): a killed worker's slots free up after this, and an
            event loop blocked for longer loses them (their tasks still count).
        timeout: the longest any Redis call may take; past it, ``CoordinationError``.
        wait_interval: how often a process with requests in line asks Redis whether their
            turn has come (slots freed in this process are handed on at once).
    """

    def __init__(
        self,
        url_or_client: str | aioredis.Redis,
        *,
        namespace: str | None = None,
        lease_seconds: float = 30.0,
        timeout: float = 2.0,
        wait_interval: float = 0.05,
    ) -> None:
        self.lease_seconds = _positive("lease_seconds", lease_seconds)
        self.timeout = _positive("timeout", timeout)
        self.wait_interval = _positive("wait_interval", wait_interval)
        if namespace is not None and (not isinstance(namespace, str) or not namespace.strip()
                                      or not namespace.isprintable()):  # fmt: skip
            raise RequestValidationError("namespace", "must be a non-empty printable string or None")
        self._namespace = namespace
        if isinstance(url_or_client, str):
            parsed = urllib.parse.urlsplit(url_or_client)
            if parsed.scheme not in ("redis", "rediss", "unix"):
                raise RequestValidationError("url_or_client", "must be a redis://, rediss:// or unix:// URL")
            if parsed.password:
                remember_secret(urllib.parse.unquote(parsed.password))  # never in a log line
            self._where = f"{parsed.scheme}://{parsed.hostname or parsed.path}"
            self._redis: aioredis.Redis = aioredis.Redis.from_url(
                url_or_client, socket_timeout=self.timeout, socket_connect_timeout=self.timeout
            )
            self._owned = True
        elif isinstance(url_or_client, aioredis.Redis):
            self._where = "a redis.asyncio.Redis client"
            self._redis = url_or_client
            self._owned = False
        else:
            raise RequestValidationError("url_or_client", "must be a redis:// URL or a redis.asyncio.Redis client")
        self._stores: dict[str, Store] = {}
        self._guard = LoopGuard(self._redis)

    def __repr__(self) -> str:
        return f"RedisCoordinator({self._where!r}, lease_seconds={self.lease_seconds:g}, timeout={self.timeout:g})"

    def _store(self, client: AsyncBeatAPI) -> Store:
        namespace = self._namespace
        if namespace is None:
            key = client._config.api_key
            if not key:
                raise RequestValidationError(
                    "api_key", "a coordinator shares one account's limits: the client needs its API key"
                )
            namespace = namespace_for(key)
        store = self._stores.get(namespace)
        if store is None:
            store = self._stores[namespace] = Store(self._redis, namespace, timeout=self.timeout,
                                                    check_loop=self._guard)  # fmt: skip
        return store

    def namespace(self, client: AsyncBeatAPI) -> str:
        """The namespace ``client``'s fleet state lives under."""
        return self._store(client).namespace

    def gate(self, client: AsyncBeatAPI) -> RedisGate:
        """The fleet's gate, for ``client`` (``AsyncBeatAPI(coordinator=...)`` asks for it)."""
        return RedisGate(client, self._store(client), lease_seconds=self.lease_seconds,
                         wait_interval=self.wait_interval)  # fmt: skip

    def poll_budget(self, client: AsyncBeatAPI) -> RedisPollBudget:
        """The fleet's poll budget, paced at ``client.poll_policy`` (the fleet's budget)."""
        return RedisPollBudget(self._store(client), client.poll_policy)

    def credit_admission(self, client: AsyncBeatAPI) -> RedisCreditAdmission:
        """The fleet's credit ledger, for ``client``: what is left of the account's balance is the
        fleet's last usage read minus every worker's creates since (README "Credits")."""
        return RedisCreditAdmission(client, self._store(client))

    async def ping(self) -> None:
        """Check that Redis answers within ``timeout`` (``CoordinationError`` if not)."""
        await Store(self._redis, "ping", timeout=self.timeout, check_loop=self._guard).call(self._redis.ping)

    async def aclose(self) -> None:
        """Close the connection this coordinator opened (a client passed in is left open)."""
        if self._owned:
            with contextlib.suppress(CoordinationError):
                self._guard()  # connections of a closed event loop are dropped, not closed there
            await self._redis.aclose()
