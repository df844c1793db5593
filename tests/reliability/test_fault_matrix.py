"""Every endpoint x every fault, over real loopback HTTP against the emulator.

The documented outcome of each cell (README "Errors and retries"):

- safe calls (GET, PATCH, DELETE, shot media, uploads) retry 502/503/504, network
  errors, timeouts, a malformed 2xx body and 429 ``rate_limit_exceeded`` up to
  ``max_retries`` times, then raise the typed error; 500, a 2xx of the wrong shape
  and ``retryable: false`` are raised at once;
- billable POSTs (creates, shot edit, compose, realtime session) retry the same way
  with one Idempotency-Key, the same on every attempt, so exactly one task (edit,
  compose, session) exists at the server whatever the fault, also when the server
  acted and only its answer was lost (``after=True``);
- the unkeyed webhook endpoint create is re-sent only after a 429; an answer lost
  any other way is raised, never re-sent;
- a Retry-After longer than the caller's anyio deadline is raised at once;
- nothing but a ``BeatAPIError`` ever escapes.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any, Literal

import anyio
import attrs
import pytest

from beatapi_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncBeatAPI,
    BeatAPIError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    RateLimitError,
    ServiceUnavailableError,
    Timeouts,
)
from beatapi_async.testing import FakeBeatAPI

from ._support import NOWHERE, PNG, QUICK, Sleeps, charges, ec, make_client, mv, storyboard, until

MAX_RETRIES = 2
READ = 0.04  # the per-call read timeout of the stall cells
STALL = 0.08  # twice READ
ORIGINS = ["https://app.example.com"]

Ctx = dict[str, Any]
Kind = Literal["safe", "keyed", "unkeyed"]


# -- endpoints -------------------------------------------------------------------------


async def _no_setup(client: AsyncBeatAPI, fake: FakeBeatAPI) -> Ctx:
    return {}


async def _task(client: AsyncBeatAPI, fake: FakeBeatAPI) -> Ctx:
    return {"task": fake.seed_task("ecommerce-video", images=["https://cdn.example.com/p.png"], duration=10)["id"]}


async def _board(client: AsyncBeatAPI, fake: FakeBeatAPI) -> Ctx:
    task_id, shots = await storyboard(fake)
    return {"task": task_id, "shots": shots}


async def _hook(client: AsyncBeatAPI, fake: FakeBeatAPI) -> Ctx:
    return {"hook": (await client.webhooks.create(url=NOWHERE, events=["task.failed"])).id}


async def _session(client: AsyncBeatAPI, fake: FakeBeatAPI) -> Ctx:
    return {"session": (await client.realtime.create_session(max_duration_seconds=60, allowed_origins=ORIGINS)).id}


@attrs.frozen
class Endpoint:
    name: str
    method: str
    glob: str
    kind: Kind
    call: Callable[[AsyncBeatAPI, Ctx, dict[str, Any]], Awaitable[Any]]
    setup: Callable[[AsyncBeatAPI, FakeBeatAPI], Awaitable[Ctx]] = _no_setup
    # What the call makes at the server, counted there (billable calls and the webhook create).
    made: Callable[[FakeBeatAPI], int] | None = None


ENDPOINTS = [
    Endpoint("workflows.list", "GET", "/v1/workflows", "safe", lambda c, x, t: c.workflows.list(**t)),
    Endpoint("usage.get", "GET", "/v1/usage", "safe", lambda c, x, t: c.usage.get(**t)),
    Endpoint("files.upload", "POST", "/v1/files", "safe", lambda c, x, t: c.files.upload(PNG, filename="p.png", **t)),
    Endpoint(
        "music_video.create", "POST", "/v1/music-video/tasks", "keyed",
        lambda c, x, t: c.music_video.create(mv(), **t), made=lambda f: len(f.tasks),
    ),
    Endpoint(
        "music_video.shot_media", "POST", "/v1/music-video/tasks/*/shots/*/media", "safe",
        lambda c, x, t: c.music_video.shot_media(x["task"], x["shots"][0], **t), _board,
    ),
    Endpoint(
        "music_video.edit_shot", "POST", "/v1/music-video/tasks/*/shots/*/edit", "keyed",
        lambda c, x, t: c.music_video.edit_shot(x["task"], x["shots"][0], prompt="brighter", **t), _board,
        made=lambda f: charges(f, "edit"),
    ),
    Endpoint(
        "music_video.compose", "POST", "/v1/music-video/tasks/*/compose", "keyed",
        lambda c, x, t: c.music_video.compose(x["task"], x["shots"], **t), _board,
        made=lambda f: charges(f, "compose"),
    ),
    Endpoint(
        "ecommerce_video.create", "POST", "/v1/ecommerce-video/tasks", "keyed",
        lambda c, x, t: c.ecommerce_video.create(ec(), **t), made=lambda f: len(f.tasks),
    ),
    Endpoint("tasks.get", "GET", "/v1/tasks/*", "safe", lambda c, x, t: c.tasks.get(x["task"], **t), _task),
    Endpoint("webhooks.list", "GET", "/v1/webhooks", "safe", lambda c, x, t: c.webhooks.list(**t), _hook),
    Endpoint(
        "webhooks.create", "POST", "/v1/webhooks", "unkeyed",
        lambda c, x, t: c.webhooks.create(url=NOWHERE, events=["task.failed"], **t),
        made=lambda f: len(f.webhook_endpoints),
    ),
    Endpoint("webhooks.get", "GET", "/v1/webhooks/*", "safe", lambda c, x, t: c.webhooks.get(x["hook"], **t), _hook),
    Endpoint(
        "webhooks.update", "PATCH", "/v1/webhooks/*", "safe",
        lambda c, x, t: c.webhooks.update(x["hook"], status="disabled", **t), _hook,
    ),
    Endpoint(
        "webhooks.delete", "DELETE", "/v1/webhooks/*", "safe", lambda c, x, t: c.webhooks.delete(x["hook"], **t), _hook
    ),
    Endpoint(
        "realtime.create_session", "POST", "/v1/realtime/sessions", "keyed",
        lambda c, x, t: c.realtime.create_session(max_duration_seconds=60, allowed_origins=ORIGINS, **t),
        made=lambda f: len(f.sessions),
    ),
    Endpoint(
        "realtime.get_session", "GET", "/v1/realtime/sessions/*", "safe",
        lambda c, x, t: c.realtime.get_session(x["session"], **t), _session,
    ),
    Endpoint(
        "realtime.close_session", "DELETE", "/v1/realtime/sessions/*", "safe",
        lambda c, x, t: c.realtime.close_session(x["session"], **t), _session,
    ),
]  # fmt: skip


# -- faults ----------------------------------------------------------------------------


@attrs.frozen
class Fault:
    name: str
    options: dict[str, Any]
    error: type[BeatAPIError]
    # "transient": retried when the call may be replayed; "always": also the unkeyed POST
    # (a 429 says nothing was done); "never": raised at once.
    retry: Literal["transient", "always", "never"]
    # Whether it can also play "the server acted, then the answer was lost" (after=True).
    lost_answer: bool = True
    deadline: float | None = None  # an anyio deadline around the call


FAULTS = [
    Fault("503", {"status": 503}, ServiceUnavailableError, "transient"),
    Fault("502-html", {"status": 502, "body": "<html><body><h1>502 Bad Gateway</h1></body></html>"},
          InternalServerError, "transient"),
    Fault("500", {"status": 500}, InternalServerError, "never"),
    Fault("reset", {"reset": True}, APIConnectionError, "transient"),
    Fault("stall", {"stall": STALL}, APITimeoutError, "transient"),
    Fault("malformed-200", {"body": '{"data": {"id": "x", "status": '}, InvalidResponseError, "transient"),
    Fault("wrong-shape-200", {"body": '{"data": {"id": 5}}'}, InvalidResponseError, "never"),
    Fault("429-small", {"status": 429, "code": "rate_limit_exceeded", "retry_after": 1}, RateLimitError, "always",
          lost_answer=False),
    Fault("429-past-deadline", {"status": 429, "code": "rate_limit_exceeded", "retry_after": 30}, RateLimitError,
          "never", lost_answer=False, deadline=5.0),
    Fault("not-retryable", {"status": 503, "retryable": False}, ServiceUnavailableError, "never", lost_answer=False),
]  # fmt: skip


def _cells(*, passing: bool = False) -> list[Any]:
    cells = []
    for endpoint in ENDPOINTS:
        for fault in FAULTS:
            if passing and fault.retry == "never":
                continue  # one attempt whether the fault lasts or not: the lasting cell covers it
            cells.append(pytest.param(endpoint, fault, False, id=f"{endpoint.name}-{fault.name}"))
            # "Acted, then the answer was lost" means something for calls that change things.
            if endpoint.method != "GET" and fault.lost_answer:
                cells.append(pytest.param(endpoint, fault, True, id=f"{endpoint.name}-{fault.name}-after"))
    return cells


@attrs.frozen
class Outcome:
    result: Any
    retries: int
    requests: list[Any]
    made: int


async def _play(endpoint: Endpoint, fault: Fault, *, after: bool, times: int | None) -> Outcome:
    sleeps = Sleeps()
    options = {"speed": 1000, "durations": QUICK, "poll_limit_per_minute": None, "concurrency_limit": 30}
    async with FakeBeatAPI(**options) as fake, make_client(fake, sleeps, max_retries=MAX_RETRIES) as client:
        ctx = await endpoint.setup(client, fake)
        made_before = endpoint.made(fake) if endpoint.made else 0
        seen_before = len(fake.requests_to(endpoint.method, endpoint.glob))
        fake.add_fault(endpoint.method, endpoint.glob, after=after, times=times, **fault.options)
        per_call = {"timeout": Timeouts(connect=2, read=READ)} if "stall" in fault.options else {}
        deadline = anyio.fail_after(fault.deadline) if fault.deadline else contextlib.nullcontext()
        try:
            with deadline:
                result: Any = await endpoint.call(client, ctx, per_call)
        except BeatAPIError as exc:  # anything else fails the test as it is
            result = exc
        requests = fake.requests_to(endpoint.method, endpoint.glob)[seen_before:]
        if "stall" in fault.options:
            # Stalled handlers go on after the client gave up: let them finish what they started.
            await until(lambda: all(r.status is not None for r in requests))
        made = (endpoint.made(fake) if endpoint.made else 0) - made_before
    return Outcome(result, len(sleeps.delays), requests, made)


def _retried(endpoint: Endpoint, fault: Fault) -> bool:
    return fault.retry == "always" or (fault.retry == "transient" and endpoint.kind != "unkeyed")


def _check_server_side(endpoint: Endpoint, fault: Fault, after: bool, out: Outcome) -> None:
    attempts = out.retries + 1
    if endpoint.kind == "keyed":
        keys = {r.headers.get("Idempotency-Key") for r in out.requests}
        assert len(keys) == 1 and None not in keys, "one Idempotency-Key, the same on every attempt"
        assert len(out.requests) == attempts
    elif endpoint.kind == "unkeyed":
        assert all("Idempotency-Key" not in r.headers for r in out.requests)
        assert len(out.requests) == attempts
    if endpoint.made is not None:
        succeeded = not isinstance(out.result, BeatAPIError)
        # Stalled requests are all handled in the end, with the one key: one thing made.
        expected = 1 if succeeded or after or "stall" in fault.options else 0
        assert out.made == expected, f"made {out.made} at the server, expected {expected}"


@pytest.mark.parametrize(("endpoint", "fault", "after"), _cells())
async def test_a_lasting_fault_ends_in_its_typed_error(endpoint: Endpoint, fault: Fault, after: bool) -> None:
    out = await _play(endpoint, fault, after=after, times=None)
    assert type(out.result) is fault.error, repr(out.result)
    assert "request_id=" in str(out.result)
    assert out.retries == (MAX_RETRIES if _retried(endpoint, fault) else 0)
    _check_server_side(endpoint, fault, after, out)


@pytest.mark.parametrize(("endpoint", "fault", "after"), _cells(passing=True))
async def test_a_passing_fault_is_survived_or_raised(endpoint: Endpoint, fault: Fault, after: bool) -> None:
    out = await _play(endpoint, fault, after=after, times=1)
    aiohttp_resends = fault.name == "reset" and endpoint.method in ("GET", "DELETE")
    if aiohttp_resends and after and endpoint.name == "webhooks.delete":
        # aiohttp itself re-sends a DELETE once, unseen, when a reused connection drops: that
        # resend finds the endpoint gone, and nothing tells the SDK an answer was lost first.
        assert type(out.result) is NotFoundError or out.result.deleted is True
        return
    if _retried(endpoint, fault):
        assert not isinstance(out.result, BeatAPIError), repr(out.result)
        # aiohttp itself re-sends a GET/DELETE once on a dropped keep-alive connection.
        assert out.retries == 1 or (aiohttp_resends and out.retries == 0)
    else:  # the webhook create: an answer lost is raised, never re-sent
        assert type(out.result) is fault.error, repr(out.result)
        assert out.retries == 0
    _check_server_side(endpoint, fault, after, out)
    if endpoint.kind == "keyed" and not isinstance(out.result, BeatAPIError) and endpoint.made is not None:
        assert out.result.id  # the object the server made, not a second one
    if endpoint.name == "webhooks.delete" and not isinstance(out.result, BeatAPIError):
        # A retry that finds the endpoint gone after the answer to the delete was lost: deleted.
        assert out.result.deleted is True
