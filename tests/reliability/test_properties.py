"""Properties, with hypothesis: whatever BeatAPI answers or the user passes, only typed outcomes.

- Any JSON (random, shaped like a model, or a mutated golden fixture) read as any
  response model loads or raises ``InvalidResponseError``; any bytes with any status
  decode to data or raise a ``BeatAPIError``. Nothing else escapes.
- A valid model survives model -> JSON text -> model unchanged.
- Random request fields either pass or raise ``RequestValidationError`` naming the
  field at fault, before anything is sent.
- ``webhooks.verify`` refuses every change to a signed delivery.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
import typing
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import beatapi_async as B
from beatapi_async import (
    AsyncBeatAPI,
    BeatAPIError,
    InvalidResponseError,
    RequestValidationError,
    Response,
    WebhookVerificationError,
    webhooks,
)
from beatapi_async._convert import converter
from beatapi_async._protocol import decode_data

from .._shared import FIXTURES, require

FAST = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

MODELS: list[type[Any]] = [
    B.Workflow, B.Media, B.StoryboardShot, B.Storyboard, B.TaskOutput, B.TaskUsage, B.Task, B.ShotMedia, B.File,
    B.UsageConcurrency, B.WorkflowUsage, B.RealtimeUsage, B.Usage, B.WebhookEndpoint, B.WebhookEvent,
    B.RealtimeCredits, B.RealtimeSession, B.Deleted,
]  # fmt: skip
# Golden fixture -> the model its body is.
GOLDEN = {
    "task-created.json": B.Task,
    "task-succeeded.json": B.Task,
    "task-failed.json": B.Task,
    "realtime-session-created.json": B.RealtimeSession,
    "webhook-task-succeeded.json": B.WebhookEvent,
}

# -- JSON ---------------------------------------------------------------------------------

# Text with everything, lone surrogates included (a badly decoded body can hold them).
TEXT = st.text(st.characters(exclude_categories=()), max_size=12) | st.sampled_from(["\ud800", "caf\udce9"])
SCALARS = (
    st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | TEXT
    | st.sampled_from(["", "queued", "succeeded", "2026-07-31T15:29:00.000Z", "1784188800", "1.5", "NaN", "-1"])
)  # fmt: skip
JSON = st.recursive(SCALARS, lambda c: st.lists(c, max_size=4) | st.dictionaries(TEXT, c, max_size=4), max_leaves=16)


def _names(cls: type[Any]) -> list[str]:
    return [a.name for a in attrs.fields(cls)]


def shaped(cls: type[Any]) -> st.SearchStrategy[Any]:
    """Objects with the model's field names (and others), holding anything."""
    return st.dictionaries(st.sampled_from(_names(cls)) | TEXT, JSON, max_size=len(_names(cls)) + 2)


def _client() -> AsyncBeatAPI:
    # No request is ever sent: only the client's reading of answers is exercised.
    return AsyncBeatAPI("sk_test_properties_0123456789", base_url="http://127.0.0.1:9")


def _check_loaded(model: Any) -> None:
    """What a user does with a model must not blow up either."""
    repr(model)
    assert model == model  # equality must not raise on odd values
    if isinstance(model, B.Task):
        _ = (model.is_terminal, model.is_actionable, model.is_running, model.video_url)
    if isinstance(model, B.WebhookEvent):
        _ = model.task


def _load_or_invalid(client: AsyncBeatAPI, data: Any, cls: type[Any]) -> None:
    try:
        model = client._load(data, cls)
    except InvalidResponseError as exc:
        assert "wrong shape" in str(exc)
        return
    assert isinstance(model, cls)
    _check_loaded(model)


@FAST
@given(cls=st.sampled_from(MODELS), data=st.data())
def test_any_json_loads_or_is_invalid(cls: type[Any], data: st.DataObject) -> None:
    client = _client()
    _load_or_invalid(client, data.draw(JSON, "random"), cls)
    _load_or_invalid(client, data.draw(shaped(cls), "shaped"), cls)


@FAST
@given(status=st.integers(100, 599), body=st.binary(max_size=64) | JSON.map(lambda v: json.dumps(v).encode()))
def test_any_answer_decodes_or_raises_a_typed_error(status: int, body: bytes) -> None:
    headers = {"content-type": "application/json", "retry-after": "3", "x-request-id": "req_1"}
    try:
        decode_data(Response(status=status, headers=headers, body=body))
    except BeatAPIError as exc:
        str(exc), repr(exc)
    else:
        assert 200 <= status < 300


@FAST
@given(status=st.integers(400, 599), error=shaped(B.Workflow) | st.fixed_dictionaries(
    {}, optional={"code": JSON, "message": JSON, "request_id": JSON, "retry_after_seconds": JSON,
                  "retryable": JSON, "details": JSON}), retry_after=TEXT)  # fmt: skip
def test_any_error_envelope_becomes_its_typed_error(status: int, error: Any, retry_after: str) -> None:
    body = json.dumps({"error": error}).encode()
    try:
        decode_data(Response(status=status, headers={"retry-after": retry_after}, body=body))
    except B.APIStatusError as exc:
        assert exc.status == status and isinstance(exc.code, str)
        assert exc.retry_after is None or exc.retry_after >= 0
        str(exc), repr(exc)
    else:
        raise AssertionError("an error status must raise")


# -- golden fixtures, mutated ---------------------------------------------------------


def _golden(name: str) -> Any:
    raw = json.loads(require(FIXTURES / name).read_text())
    return raw["data"] if "data" in raw and name != "webhook-task-succeeded.json" else raw


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            found += _paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += _paths(v, (*prefix, i))
    return found


def _mutate(value: Any, data: st.DataObject) -> Any:
    value = copy.deepcopy(value)
    for _ in range(data.draw(st.integers(1, 3), "mutations")):
        path = data.draw(st.sampled_from(_paths(value)), "path")
        op = data.draw(st.sampled_from(["replace", "delete", "add"]), "op")
        if not path:
            value = data.draw(JSON, "root") if op == "replace" else value
            continue
        parent = value
        for step in path[:-1]:
            parent = parent[step]
        last = path[-1]
        if op == "replace":
            parent[last] = data.draw(JSON, "new")
        elif op == "delete":
            del parent[last]
        elif isinstance(parent, dict):
            parent[data.draw(TEXT, "key")] = data.draw(JSON, "added")
        else:
            parent.insert(last, data.draw(JSON, "inserted"))
        if not _paths(value):
            break
    return value


@FAST
@given(name=st.sampled_from(sorted(GOLDEN)), data=st.data())
def test_mutated_golden_bodies_load_or_are_invalid(name: str, data: st.DataObject) -> None:
    golden = _golden(name)
    client = _client()
    original = client._load(golden, GOLDEN[name])
    _check_loaded(original)
    _load_or_invalid(client, _mutate(golden, data), GOLDEN[name])


# -- valid models round-trip ---------------------------------------------------------------

EXTRA = st.dictionaries(
    st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6).map(lambda k: "x_" + k),
    st.recursive(
        st.none() | st.booleans() | st.integers(-(2**60), 2**60) | st.floats(allow_nan=False, allow_infinity=False)
        | st.text(max_size=8),
        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3),
        max_leaves=6,
    ),
    max_size=2,
)  # fmt: skip
WHOLE_SECONDS = st.integers(0, 4_102_444_800).map(lambda s: datetime.fromtimestamp(s, tz=timezone.utc))


def valid(tp: Any) -> st.SearchStrategy[Any]:
    """A valid value of a model field's type (money in cents, times in whole seconds)."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, __import__("types").UnionType):
        if B.TaskStatus in args:
            status = st.sampled_from(list(B.TaskStatus)) | st.text(min_size=1, max_size=10)
            return status | st.none() if type(None) in args else status
        return st.one_of([valid(a) for a in args])
    if origin is tuple:
        return st.lists(valid(args[0]), max_size=2).map(tuple)
    if tp is Mapping or origin is Mapping:
        return EXTRA
    if attrs.has(tp):
        hints = typing.get_type_hints(tp)
        return st.builds(tp, **{a.name: valid(hints[a.name]) for a in attrs.fields(tp)})
    simple: dict[Any, st.SearchStrategy[Any]] = {
        type(None): st.none(),
        str: st.text(max_size=12),
        int: st.integers(-(2**53), 2**53),
        float: st.floats(allow_nan=False, allow_infinity=False),
        bool: st.booleans(),
        Decimal: st.decimals(min_value=-(10**9), max_value=10**9, places=2, allow_nan=False, allow_infinity=False),
        datetime: WHOLE_SECONDS,
    }
    return simple[tp]


@FAST
@given(model=st.sampled_from(MODELS).flatmap(valid))
def test_valid_models_round_trip_through_json(model: Any) -> None:
    text = json.dumps(converter.unstructure(model))
    assert converter.structure(json.loads(text), type(model)) == model
    assert _client()._load(json.loads(text), type(model)) == model


# -- request fields --------------------------------------------------------------------------

URLS = st.sampled_from([
    "https://cdn.example.com/a.png", "https://cdn.example.com/song.mp3", "https://cdn.example.com/subs.srt",
    "http://cdn.example.com/a.png", "https://localhost/a.png", "https://10.0.0.7/a.png", "https://[::1]/a.png",
    "data:image/png;base64,AAAA", "ftp://cdn.example.com/a.png", "https:///a.png", "https://cdn.example.com:99999/",
    "", " ", "https://app.example.com", "http://127.0.0.1:8080", "https://app.example.com/path",
])  # fmt: skip
WORDS = st.sampled_from([
    "en", "zh", "fr", "standard", "high", "540p", "720p", "1080p", "4k", "1:1", "16:9", "9:16", "4:3", "3:4", "2:1",
    "auto", "manual", "#FFFFFF", "#ffffff", "white", "task.succeeded", "task.failed", "task.created", "active",
    "disabled", "shot_1",
])  # fmt: skip
NUMBERS = st.sampled_from([0, 1, 5, 9, 10, 15, 60, 61, 180, 181, 300, -1, 10.0, 15.0, True, 2**64])
VALUE = st.one_of(URLS, WORDS, NUMBERS, TEXT, st.lists(URLS | WORDS | TEXT, max_size=9), JSON)


class _StubTransport:
    """Answers every request with a valid body of the right kind and records it."""

    def __init__(self) -> None:
        self.sent: list[B.Request] = []

    async def send(self, request: B.Request, *, timeout: B.Timeouts) -> Response:
        self.sent.append(request)
        if "/realtime/" in request.path:
            data: dict[str, Any] = {"id": "rts_1", "status": "ready", "client_secret": "brt_live_xyz"}
        elif request.path.startswith("/v1/webhooks"):
            data = {"id": "wh_1", "secret": "whsec_xyzxyz"}
        else:
            data = {"id": "task_1", "status": "queued"}
        return Response(status=201, headers={}, body=json.dumps({"data": data}).encode())

    async def aclose(self) -> None:
        pass


MV_BASE = {"images": ["https://cdn.example.com/a.png"], "audio_url": "https://cdn.example.com/song.mp3"}
CASES: dict[str, tuple[dict[str, Any], Any]] = {
    "music_video.create": (MV_BASE, lambda c, f: c.music_video.create(**f)),
    "ecommerce_video.create": (
        {"images": ["https://cdn.example.com/a.png"], "duration": 15}, lambda c, f: c.ecommerce_video.create(**f)
    ),
    "edit_shot": ({"prompt": "brighter"}, lambda c, f: c.music_video.edit_shot("task_1", "shot_1", **f)),
    "compose": ({"shot_ids": ["shot_1"]}, lambda c, f: c.music_video.compose("task_1", **f)),
    "realtime.create_session": (
        {"max_duration_seconds": 60, "allowed_origins": ["https://app.example.com"]},
        lambda c, f: c.realtime.create_session(**f),
    ),
    "webhooks.create": ({"url": "https://hooks.example.com/beatapi"}, lambda c, f: c.webhooks.create(**f)),
}
FIELDS = {
    "music_video.create": [a.name for a in attrs.fields(B.MusicVideoRequest)] + ["colour", "workflow"],
    "ecommerce_video.create": [a.name for a in attrs.fields(B.EcommerceVideoRequest)] + ["style"],
    "edit_shot": ["prompt", "duration", "quality", "resolution", "idempotency_key"],
    "compose": ["shot_ids", "idempotency_key"],
    "realtime.create_session": ["max_duration_seconds", "allowed_origins", "metadata", "idempotency_key"],
    "webhooks.create": ["url", "events", "description"],
}
REQUIRED_KWARGS = {"edit_shot": {"prompt"}, "compose": {"shot_ids"},
                   "realtime.create_session": {"max_duration_seconds", "allowed_origins"}, "webhooks.create": {"url"}}


@settings(max_examples=150, deadline=None, database=None)
@given(case=st.sampled_from(sorted(CASES)), data=st.data())
def test_request_fields_validate_or_name_the_field(case: str, data: st.DataObject) -> None:
    base, call = CASES[case]
    fields = dict(base)
    changed = data.draw(st.dictionaries(st.sampled_from(FIELDS[case]), VALUE | st.none(), max_size=4), "changes")
    fields.update(changed)
    for name in data.draw(st.lists(st.sampled_from(sorted(base)), max_size=1), "dropped"):
        if name not in REQUIRED_KWARGS.get(case, ()):  # a missing keyword is Python's TypeError, not ours
            del fields[name]
    transport = _StubTransport()

    async def attempt() -> BaseException | None:
        async with AsyncBeatAPI("sk_test_props_0123456789", base_url="https://api.beatapi.io",
                                transport=transport) as client:  # fmt: skip
            try:
                await call(client, fields)
            except RequestValidationError as exc:
                return exc
        return None

    error = asyncio.run(attempt())
    if error is None:
        assert len(transport.sent) == 1
        return
    assert isinstance(error, RequestValidationError)
    assert transport.sent == [], "nothing is sent when the input is refused"
    named = re.split(r"[\[.]", error.field)[0]
    assert named in set(FIELDS[case]) | set(fields), f"{error.field!r} is not a field of {case}: {error}"
    assert error.rule and error.field in str(error)


# -- webhook deliveries ---------------------------------------------------------------------

SECRETS = st.text("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-", min_size=8, max_size=40).map(
    lambda s: "whsec_" + s
)
NOW = 1_784_188_934


def _event_body(task_status: str, extra: Mapping[str, Any]) -> bytes:
    event = "task.succeeded" if task_status == "succeeded" else "task.failed"
    body = {"id": "evt_1", "event": event, "created_at": NOW, "data": {"id": "task_1", "status": task_status, **extra}}
    return json.dumps(body).encode()


def _flip(raw: bytes, data: st.DataObject, label: str) -> bytes:
    """A different byte string: one byte changed, one added, or the end cut off."""
    kind = data.draw(st.sampled_from(["change", "insert", "cut"]), f"{label} how")
    i = data.draw(st.integers(0, max(0, len(raw) - 1)), f"{label} where")
    if kind == "change" and raw:
        new = data.draw(st.integers(0, 255).filter(lambda b: b != raw[i]), f"{label} byte")
        return raw[:i] + bytes([new]) + raw[i + 1 :]
    if kind == "cut" and raw:
        return raw[:i]
    return raw[:i] + bytes([data.draw(st.integers(0, 255), f"{label} byte")]) + raw[i:]


@settings(max_examples=200, deadline=None, database=None)
@given(
    secret=SECRETS,
    status=st.sampled_from(["succeeded", "failed"]),
    extra=st.dictionaries(st.sampled_from(["x_a", "x_b"]), st.integers() | st.text(max_size=5), max_size=2),
    what=st.sampled_from(["body", "timestamp", "signature", "secret"]),
    data=st.data(),
)
def test_every_change_to_a_signed_delivery_is_refused(
    secret: str, status: str, extra: dict[str, Any], what: str, data: st.DataObject
) -> None:
    body = _event_body(status, extra)
    headers = webhooks.sign(body, secret, timestamp=NOW)
    assert webhooks.verify(body, headers, secret, now=NOW).event.startswith("task.")
    key = secret
    if what == "body":
        body = _flip(body, data, "body")
    elif what == "timestamp":
        stamp = data.draw(
            st.integers(NOW - 299, NOW + 299).map(str) | st.sampled_from(["0" + str(NOW), str(NOW) + " ", "", "x"]),
            "stamp",
        )
        assume(stamp != str(NOW))
        headers["x-beatapi-timestamp"] = stamp
    elif what == "signature":
        sig = headers["x-beatapi-signature"].encode()
        new = _flip(sig, data, "signature").decode("latin-1")
        assume(new.lower() != sig.decode())  # hex is read case-insensitively: same signature
        headers["x-beatapi-signature"] = new
    else:
        key = data.draw(SECRETS.filter(lambda s: s != secret), "other secret")
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(body, headers, key, now=NOW)
    assert secret not in str(info.value) and key not in str(info.value)
