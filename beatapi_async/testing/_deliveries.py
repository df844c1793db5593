"""Webhook endpoints and signed deliveries (contract: /v1/webhooks; NOTES: Webhooks).

When a task succeeds or fails, every active endpoint subscribed to the event
gets a real HTTP POST signed with ``beatapi_async.webhooks.sign``. A non-2xx
answer or a network error is retried on the (scaled) retry schedule. Sends run
as their own asyncio tasks, so a slow receiver never holds up a request.

``x-beatapi-timestamp`` is the real wall clock, not BeatAPI time: receivers
check it against their own clock (a 300 s window), which the scaled clock would
leave behind at high speed. ``created_at`` in the body is BeatAPI time.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import secrets
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import attrs

from .. import _rules as R
from ..webhooks import sign
from ._clock import Clock
from ._http import dumps, new_id, not_found
from ._records import Delivery

DELIVERY_TIMEOUT = 10.0  # real seconds a receiver gets to answer


@attrs.define(eq=False, kw_only=True)
class Endpoint:
    """One registered webhook endpoint."""

    id: str
    url: str
    description: str
    events: list[str]
    status: str
    secret: str = attrs.field(repr=False)
    created_at: float
    updated_at: float

    def json(self, *, reveal: bool = False) -> dict[str, Any]:
        """Return the contract's ``WebhookEndpoint``; the secret in full only when ``reveal``."""
        return {
            "id": self.id,
            "object": "webhook_endpoint",
            "url": self.url,
            "description": self.description,
            "events": list(self.events),
            "status": self.status,
            "secret": self.secret if reveal else f"whsec_****{self.secret[-4:]}",
            "created_at": int(self.created_at),
            "updated_at": int(self.updated_at),
        }


class Webhooks:
    """The account's webhook endpoints (bodies are validated before they get here)."""

    def __init__(self) -> None:
        self.endpoints: dict[str, Endpoint] = {}

    def create(self, body: dict[str, Any], now: float) -> Endpoint:
        """Register an endpoint; events default to both."""
        endpoint = Endpoint(
            id=new_id("wh_"),
            url=body["url"],
            description=body.get("description") or "",
            events=list(body.get("events") or R.WEBHOOK_EVENTS),
            status="active",
            secret="whsec_" + secrets.token_urlsafe(32),
            created_at=now,
            updated_at=now,
        )
        self.endpoints[endpoint.id] = endpoint
        return endpoint

    def get(self, endpoint_id: str) -> Endpoint:
        """Return the endpoint or raise a 404."""
        endpoint = self.endpoints.get(endpoint_id)
        if endpoint is None:
            raise not_found(f"Webhook endpoint {endpoint_id!r}")
        return endpoint

    def update(self, endpoint: Endpoint, body: dict[str, Any], now: float) -> None:
        """Change the given fields."""
        for name in ("url", "description", "status"):
            if body.get(name) is not None:
                setattr(endpoint, name, body[name])
        if body.get("events") is not None:
            endpoint.events = list(body["events"])
        endpoint.updated_at = now

    def subscribed(self, event: str) -> list[Endpoint]:
        """Return the active endpoints that want ``event``."""
        return [e for e in self.endpoints.values() if e.status == "active" and event in e.events]

    def any_active(self) -> bool:
        """Whether any endpoint could receive a delivery."""
        return any(e.status == "active" for e in self.endpoints.values())


@attrs.frozen(kw_only=True)
class _Job:
    endpoint_id: str
    event_id: str
    event: str
    task_id: str
    body: bytes
    attempt: int


class Dispatcher:
    """Sends deliveries in the background and keeps the delivery log.

    One loop sleeps until the next thing falls due: a retry, or (while an
    endpoint is active) the next task transition, which ``tick`` applies so
    events go out without anybody polling.
    """

    def __init__(
        self, clock: Clock, webhooks: Webhooks, retry_schedule: tuple[float, ...], tick: Callable[[], float | None]
    ) -> None:
        self.clock = clock
        self.webhooks = webhooks
        self.retry_schedule = tuple(retry_schedule)
        self.log: list[Delivery] = []
        self._tick = tick  # advances the emulator; returns when the next transition is due
        self._queue: list[tuple[float, int, _Job]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._sends: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    def emit(self, event: str, task_id: str, data: dict[str, Any], at: float) -> None:
        """Queue ``event`` for every subscribed endpoint (called as the task reaches it)."""
        endpoints = self.webhooks.subscribed(event)
        if not endpoints:
            return
        event_id = new_id("evt_")
        body = dumps({"id": event_id, "event": event, "created_at": int(at), "data": data})
        for endpoint in endpoints:
            self._push(
                at, _Job(endpoint_id=endpoint.id, event_id=event_id, event=event, task_id=task_id, body=body, attempt=1)
            )

    def _push(self, due: float, job: _Job) -> None:
        heapq.heappush(self._queue, (due, next(self._seq), job))
        self._wake.set()

    def poke(self) -> None:
        """Re-plan the loop's sleep (an endpoint or a due time changed)."""
        self._wake.set()

    @property
    def pending(self) -> int:
        """Deliveries queued or being sent."""
        return len(self._queue) + len(self._sends)

    async def start(self) -> None:
        """Start the background loop."""
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=DELIVERY_TIMEOUT))
        self._loop_task = asyncio.create_task(self._run(), name="FakeBeatAPI deliveries")

    async def close(self) -> None:
        """Stop the loop and cancel sends in flight."""
        tasks = [t for t in (self._loop_task, *self._sends) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._loop_task = None
        self._sends.clear()
        if self._session is not None:
            await self._session.close()
            self._session = None

    def clear(self) -> None:
        """Forget the log and every queued delivery (sends in flight still finish)."""
        self.log.clear()
        self._queue.clear()

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            next_transition = self._tick()
            now = self.clock.now()
            while self._queue and self._queue[0][0] <= now:
                _, _, job = heapq.heappop(self._queue)
                send = asyncio.create_task(self._send(job))
                self._sends.add(send)
                send.add_done_callback(self._sends.discard)
            due = [self._queue[0][0]] if self._queue else []
            if next_transition is not None and self.webhooks.any_active():
                due.append(next_transition)
            timeout = self.clock.to_real(max(min(due) - now, 0.0)) if due else None
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)

    async def _send(self, job: _Job) -> None:
        endpoint = self.webhooks.endpoints.get(job.endpoint_id)
        if endpoint is None or endpoint.status != "active" or self._session is None:
            return  # deleted or disabled since: BeatAPI stops delivering
        headers = sign(job.body, endpoint.secret, timestamp=int(time.time()))
        headers.setdefault(R.HEADER_EVENT, job.event)
        headers["content-type"] = "application/json"
        status: int | None = None
        error: str | None = None
        try:
            async with self._session.post(endpoint.url, data=job.body, headers=headers) as response:
                status = response.status
                await response.read()
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        self.log.append(
            Delivery(
                endpoint_id=endpoint.id,
                url=endpoint.url,
                event_id=job.event_id,
                event=job.event,
                task_id=job.task_id,
                attempt=job.attempt,
                time=time.monotonic(),
                status=status,
                error=error,
            )
        )
        ok = status is not None and 200 <= status < 300
        if not ok and job.attempt <= len(self.retry_schedule):
            delay = self.retry_schedule[job.attempt - 1]
            self._push(self.clock.now() + delay, attrs.evolve(job, attempt=job.attempt + 1))
