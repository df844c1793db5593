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
from .waiting import OnUpdate, Until, _call, wait_for_task

if TYPE_CHECKING:
    from ._client import AsyncBeatAPI


def _check_requests(requests: Iterable[TaskRequest]) -> list[TaskRequest]:
    if isinstance(requests, (MusicVideoRequest, EcommerceVideoRequest)):
        raise RequestValidationError("requests", "must be a list of requests; use run() for one")
    try:
        items = list(requests)
    except TypeError:  # None, a number: not iterable
        raise RequestValidationError("requests", "must be a list of requests") from None
    for i, request in enumerate(items):
        if not isinstance(request, (MusicVideoRequest, EcommerceVideoRequest)):
            raise RequestValidationError(
                f"requests[{i}]", "must be a MusicVideoRequest or EcommerceVideoRequest"
            )
    return items


KeySource = str | Callable[[], str] | None
"""An Idempotency-Key for a create: a string, a callable asked before each create attempt, or None (fresh)."""
OnCreated = Callable[[Task], Any]


async def _admit_and_create(
    client: AsyncBeatAPI, request: TaskRequest, idempotency_key: KeySource, cap: CreditCap | None
) -> Task:
    gate = client.gate
    while True:
        await gate.acquire()
        try:
            key = idempotency_key() if callable(idempotency_key) else idempotency_key
            return await create_within_credits(client, request, idempotency_key=key, cap=cap)
        except ConcurrencyLimitError as exc:
            # Nothing was created: back in line (a callable key source is asked again).
            with anyio.CancelScope(shield=True):
                await gate.release()
                await gate.rejected(exc.retry_after)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await gate.release()
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
    cap = as_cap(max_credits)
    gate = client.gate
    held = False

    async def release() -> None:
        nonlocal held
        if held:
            held = False
            with anyio.CancelScope(shield=True):
                await gate.release()

    async def hook(update: Task) -> None:
        if not update.is_running:
            await release()  # storyboard_ready/requires_action/terminal: no longer counted
        if update.is_terminal:
            await client.credit_admission.finished(update)  # a failed task's refund goes back
        await _call(on_update, update)

    try:
        task = await _admit_and_create(client, request, idempotency_key, cap)
        held = True
        if not task.is_running:
            # A create replayed by its Idempotency-Key may answer a task already past
            # running: the slot it was admitted with goes back now, never leaks.
            await release()
        await _call(on_created, task)
        return await wait_for_task(
            client, task, timeout=timeout, until=until, on_update=hook, raise_on_failure=raise_on_failure
        )
    except BeatAPIError as exc:
        exc.request = request  # type: ignore[attr-defined]  # which request it was, for run_many users
        raise
    finally:
        await release()


def _start(client: AsyncBeatAPI, items: list[TaskRequest], options: dict[str, Any]) -> list[asyncio.Task[Task]]:
    options["max_credits"] = as_cap(options.get("max_credits"))  # one cap for the whole batch
    loop = asyncio.get_running_loop()
    return [loop.create_task(run_one(client, r, **options)) for r in items]


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
    **options: Any,
) -> list[Any]:
    """Run every request within the account's limits; results (or errors) in input order."""
    items = _check_requests(requests)
    if not items:
        return []
    tasks = _start(client, items, options)
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
    **options: Any,
) -> AsyncIterator[Any]:
    """Run every request within the account's limits; yield results as they finish."""
    items = _check_requests(requests)
    tasks = _start(client, items, options)
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
