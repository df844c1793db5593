"""``run``, ``run_many`` and ``as_completed``: admit through the gate, create, wait.

Each request: take a gate slot -> create (one Idempotency-Key per attempt at
creation, reused by the transport's retries) -> wait through the client's shared
poll scheduler, giving the slot back the moment the task leaves the running states.
A 429 ``user_concurrency_exceeded`` puts the request back in line; it is not an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterable
from typing import TYPE_CHECKING, Any

import anyio

from ._credits import CreditCap, MaxCredits, as_cap, create_within_credits
from ._exceptions import BeatAPIError, ConcurrencyLimitError, RequestValidationError
from ._models import EcommerceVideoRequest, MusicVideoRequest, Task, TaskRequest
from ._retry import clamp_retry_after
from ._validate import check_idempotency_key
from .waiting import OnUpdate, Until, _call, wait_for_task

if TYPE_CHECKING:
    from ._client import AsyncBeatAPI
    from ._gate import Gate, Lease


def _check_requests(requests: Iterable[TaskRequest]) -> list[TaskRequest]:
    if isinstance(requests, (MusicVideoRequest, EcommerceVideoRequest)):
        raise RequestValidationError("requests", "must be a list of requests; use run() for one")
    if isinstance(requests, (str, bytes, dict)) or not isinstance(requests, Iterable):
        raise RequestValidationError("requests", "must be an iterable (e.g. a list) of requests")
    items = list(requests)
    for i, request in enumerate(items):
        if not isinstance(request, (MusicVideoRequest, EcommerceVideoRequest)):
            raise RequestValidationError(
                f"requests[{i}]", "must be a MusicVideoRequest or EcommerceVideoRequest"
            )
    return items


KeySource = str | Callable[[], str] | None
"""An Idempotency-Key for a create: a string, a callable asked before each create attempt, or None (fresh)."""
OnCreated = Callable[[Task], Any]
BatchKeys = Callable[[int, TaskRequest], str]
"""``run_many``'s ``idempotency_key=``: the key of the request at ``index`` (the same on every delivery of a job)."""


class _OldGateLease:
    """A lease over a gate written for the first ``Gate`` interface (``acquire() -> None`` and
    ``release()``/``rejected()`` on the gate), so such gates keep working."""

    def __init__(self, gate: Any) -> None:
        self._gate = gate
        self._held = True

    async def bind(self, task_id: str) -> None:
        return None

    async def requeue(self, retry_after: float | None) -> None:
        if self._held:
            self._held = False
            with anyio.CancelScope(shield=True):
                await self._gate.release()
                await self._gate.rejected(retry_after)
        await self._gate.acquire()
        self._held = True

    async def release(self, *, still_running: bool = False) -> None:
        if self._held:
            self._held = False
            await self._gate.release()


async def _acquire(gate: Gate) -> Lease:
    lease = await gate.acquire()
    return _OldGateLease(gate) if lease is None else lease


async def _admit_and_create(
    client: AsyncBeatAPI, request: TaskRequest, idempotency_key: KeySource, cap: CreditCap | None
) -> tuple[Lease, Task]:
    lease = await _acquire(client.gate)
    try:
        while True:
            key = idempotency_key() if callable(idempotency_key) else idempotency_key
            try:
                return lease, await create_within_credits(client, request, idempotency_key=key, cap=cap)
            except ConcurrencyLimitError as exc:
                # Nothing was created: back in line, at its head (a callable key source is asked again).
                await lease.requeue(clamp_retry_after(exc.retry_after, client.max_retry_wait))  # 1e9 stalls no one
    except BaseException:
        with anyio.CancelScope(shield=True):
            await lease.release()
        raise


async def run_one(
    client: AsyncBeatAPI,
    request: TaskRequest,
    *,
    timeout: float | None = None,
    until: Until = "terminal",
    on_update: OnUpdate | None = None,
    raise_on_failure: bool = True,
    idempotency_key: KeySource = None,
    on_created: OnCreated | None = None,
    max_credits: MaxCredits = None,
) -> Task:
    """Admit, create and wait for one request.

    ``on_created(task)`` (sync or async) runs the moment BeatAPI has accepted the create,
    before waiting: the place to record the task id durably.
    """
    if not isinstance(request, (MusicVideoRequest, EcommerceVideoRequest)):
        raise RequestValidationError("request", "must be a MusicVideoRequest or EcommerceVideoRequest")
    lease: Lease | None = None
    last: Task | None = None

    async def release() -> None:
        nonlocal lease
        if lease is not None:
            held, lease = lease, None
            with anyio.CancelScope(shield=True):
                # A wait that ends early (deadline, cancel) leaves the task running at BeatAPI.
                await held.release(still_running=last is not None and last.is_running)

    async def hook(update: Task) -> None:
        nonlocal last
        last = update
        if not update.is_running:
            await release()  # storyboard_ready/requires_action/terminal: no longer counted
        if update.is_terminal:
            await client.credit_admission.finished(update)  # a failed task's refund goes back
        await _call(on_update, update)

    try:
        lease, task = await _admit_and_create(client, request, idempotency_key, as_cap(max_credits))
        last = task
        if not task.is_running:
            # A create replayed by its Idempotency-Key may answer a task already past
            # running: the slot it was admitted with goes back now, never leaks.
            await release()
        await _call(on_created, task)
        if lease is not None:
            await lease.bind(task.id)
        return await wait_for_task(
            client, task, timeout=timeout, until=until, on_update=hook, raise_on_failure=raise_on_failure
        )
    except BeatAPIError as exc:
        exc.request = request  # type: ignore[attr-defined]  # which request it was, for run_many users
        raise
    finally:
        await release()


def _keys_of(items: list[TaskRequest], idempotency_key: BatchKeys | None) -> list[str | None]:
    """Each request's Idempotency-Key, asked and checked before anything is sent."""
    if idempotency_key is None:
        return [None] * len(items)
    if not callable(idempotency_key):
        raise RequestValidationError("idempotency_key", "must be a callable (index, request) -> str")
    keys: list[str | None] = []
    for i, request in enumerate(items):
        key = idempotency_key(i, request)
        if not isinstance(key, str):
            raise RequestValidationError(f"idempotency_key({i}, ...)", "must return a string")
        check_idempotency_key(key)
        keys.append(key)
    if len(set(keys)) != len(keys):
        raise RequestValidationError("idempotency_key", "must give each request of the batch its own key")
    return keys


def _start(
    client: AsyncBeatAPI, items: list[TaskRequest], idempotency_key: BatchKeys | None, options: dict[str, Any]
) -> list[asyncio.Task[Task]]:
    if options.get("on_created") is not None and not callable(options["on_created"]):
        raise RequestValidationError("on_created", "must be a callable taking the created Task")
    keys = _keys_of(items, idempotency_key)
    options["max_credits"] = as_cap(options.get("max_credits"))  # one cap for the whole batch
    loop = asyncio.get_running_loop()
    pairs = zip(items, keys, strict=True)
    return [loop.create_task(run_one(client, r, idempotency_key=k, **options)) for r, k in pairs]


async def _cancel_all(tasks: list[asyncio.Task[Task]]) -> None:
    for t in tasks:
        t.cancel()
    with anyio.CancelScope(shield=True):
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_many(
    client: AsyncBeatAPI,
    requests: Iterable[TaskRequest],
    *,
    return_exceptions: bool = False,
    idempotency_key: BatchKeys | None = None,
    **options: Any,
) -> list[Any]:
    """Run every request within the account's limits; results (or errors) in input order."""
    items = _check_requests(requests)
    if not items:
        return []
    tasks = _start(client, items, idempotency_key, options)
    try:
        if return_exceptions:
            await asyncio.wait(tasks)
            return [t.exception() or t.result() if not t.cancelled() else asyncio.CancelledError() for t in tasks]
        return list(await asyncio.gather(*tasks))
    finally:
        if any(not t.done() for t in tasks):
            await _cancel_all(tasks)


async def as_completed(
    client: AsyncBeatAPI,
    requests: Iterable[TaskRequest],
    *,
    return_exceptions: bool = False,
    idempotency_key: BatchKeys | None = None,
    **options: Any,
) -> AsyncIterator[Any]:
    """Run every request within the account's limits; yield results as they finish."""
    items = _check_requests(requests)
    tasks = _start(client, items, idempotency_key, options)
    finished: asyncio.Queue[asyncio.Task[Task]] = asyncio.Queue()
    for t in tasks:
        t.add_done_callback(finished.put_nowait)
    try:
        for _ in range(len(tasks)):
            t = await finished.get()
            if t.cancelled():
                raise asyncio.CancelledError()
            exc = t.exception()
            if exc is None:
                yield t.result()
            elif return_exceptions:
                yield exc
            else:
                raise exc
    finally:
        if any(not t.done() for t in tasks):
            await _cancel_all(tasks)
