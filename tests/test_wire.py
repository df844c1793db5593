"""``to_dict`` / ``to_json`` / ``from_dict``: every response model's wire form, as BeatAPI sent it."""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import beatapi_async as B
from beatapi_async import InvalidResponseError, RealtimeSession, Task, WebhookEvent

from ._helpers import fixture

MODELS: list[type[Any]] = [
    B.Workflow, B.Media, B.StoryboardShot, B.Storyboard, B.TaskOutput, B.TaskUsage, B.Task, B.ShotMedia, B.File,
    B.UsageConcurrency, B.WorkflowUsage, B.RealtimeUsage, B.Usage, B.WebhookEndpoint, B.WebhookEvent,
    B.RealtimeCredits, B.RealtimeSession, B.Deleted,
]  # fmt: skip

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)  # fmt: skip
UNIX = st.integers(0, 4_102_444_800) | st.integers(0, 4_102_444_800 * 1000).map(lambda ms: ms / 1000)
ISO = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(timezone.utc)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000).isoformat(timespec="milliseconds")[:-6] + "Z")
MONEY = st.integers(0, 10**9) | st.decimals(0, 10**6, places=2, allow_nan=False).map(float)
STATUS = st.sampled_from([s.value for s in B.TaskStatus]) | st.text("abcdefghij_", min_size=1, max_size=10)


def _non_none(tp: Any) -> list[Any]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [a for a in typing.get_args(tp) if a is not type(None)]
    return [tp]


def wire_value(model: type[Any], name: str, tp: Any) -> st.SearchStrategy[Any]:
    """A value BeatAPI may send for one field of ``model``."""
    kinds = _non_none(tp)
    if B.TaskStatus in kinds:
        return STATUS
    if model is WebhookEvent and name == "data":
        return wire(Task) | st.dictionaries(st.sampled_from(["object", "note"]), JSON, max_size=2)
    kind = kinds[0]
    if typing.get_origin(kind) is tuple:
        return st.lists(wire_value(model, name, typing.get_args(kind)[0]), max_size=2)
    if attrs.has(kind):
        return wire(kind)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=10),
        int: st.integers(-(2**53), 2**53),
        float: st.floats(allow_nan=False, allow_infinity=False, width=32).map(float),
        bool: st.booleans(),
        Decimal: MONEY,
        datetime: ISO if model is RealtimeSession else UNIX,
    }
    return simple[kind]


@st.composite
def _wire(draw: st.DrawFn, model: type[Any]) -> dict[str, Any]:
    hints = typing.get_type_hints(model)
    data: dict[str, Any] = {}
    for a in attrs.fields(model):
        if a.name == "extra":
            continue
        nullable = type(None) in typing.get_args(hints[a.name])
        required = a.default is attrs.NOTHING or a.default is not None
        if a.name in model.WIRE_NULLS and nullable:
            data[a.name] = draw(st.none() | wire_value(model, a.name, hints[a.name]))
        elif required or draw(st.booleans()):
            data[a.name] = draw(wire_value(model, a.name, hints[a.name]))
    known = {a.name for a in attrs.fields(model)}
    unknown = draw(st.dictionaries(st.text("abcxyz_", min_size=1, max_size=6).map("x_".__add__), JSON, max_size=2))
    data.update({k: v for k, v in unknown.items() if k not in known})
    return data


def wire(model: type[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.deferred(lambda: _wire(model))


SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(st.sampled_from(MODELS).flatmap(lambda m: st.tuples(st.just(m), wire(m))))
def test_to_dict_is_what_beatapi_sent(case: tuple[type[Any], dict[str, Any]]) -> None:
    model, sent = case
    loaded = model.from_dict(sent)
    again = loaded.to_dict()
    assert again == sent
    assert json.loads(loaded.to_json()) == json.loads(json.dumps(sent))
    assert model.from_dict(again) == loaded


@pytest.mark.parametrize(
    ("name", "cls", "enveloped"),
    [
        ("task-created.json", Task, True),
        ("task-succeeded.json", Task, True),
        ("task-failed.json", Task, True),
        ("realtime-session-created.json", RealtimeSession, True),
        ("webhook-task-succeeded.json", WebhookEvent, False),
    ],
)
def test_golden_fixtures_round_trip_exactly(name: str, cls: type[Any], enveloped: bool) -> None:
    sent = fixture(name)
    if enveloped:
        sent = sent["data"]
    model = cls.from_dict(sent)
    assert model.to_dict() == sent  # same keys, unix ints, ISO strings, whole credits as ints
    assert json.loads(model.to_json()) == sent
    assert cls.from_dict(model.to_dict()) == model


def test_wire_formats() -> None:
    task = Task.from_dict({"id": "t", "status": "weird_new", "created_at": 1784188800, "usage": {
        "credits_reserved": 1.5, "credits_charged": 2, "credits_settled": 0, "credits_refunded": 0}})
    data = task.to_dict()
    assert data["created_at"] == 1784188800 and type(data["created_at"]) is int
    assert data["usage"]["credits_reserved"] == 1.5 and type(data["usage"]["credits_charged"]) is int
    assert data["status"] == "weird_new" and data["completed_at"] is None  # the contract always sends it
    assert "poll_after_seconds" not in data  # BeatAPI leaves out what it has no value for
    session = RealtimeSession.from_dict({"id": "rts_1", "status": "ready", "expires_at": "2026-07-31T15:30:00.250Z"})
    assert session.to_dict()["expires_at"] == "2026-07-31T15:30:00.250Z"


def test_from_dict_of_a_wrong_shape_is_a_typed_error() -> None:
    with pytest.raises(InvalidResponseError) as info:
        Task.from_dict({"id": 5})
    assert info.value.code == "invalid_response" and "Task" in str(info.value)


def test_to_dict_never_leaks_into_a_repr_check() -> None:
    # to_dict is the data as sent: a secret BeatAPI sent is in it (that is its purpose), the repr masks it.
    hook = B.WebhookEndpoint.from_dict({"id": "wh_1", "secret": "whsec_abcdef123456"})
    assert hook.to_dict()["secret"] == "whsec_abcdef123456" and "whsec_abcdef123456" not in repr(hook)


def test_every_response_model_has_the_methods() -> None:
    for model in MODELS:
        assert callable(model.to_dict) and callable(model.to_json) and callable(model.from_dict), model
    assert {m.__name__ for m in MODELS} >= {
        n for n in B.__all__ if isinstance(getattr(B, n), type) and issubclass(getattr(B, n), B._models.WireModel)
    }
    assert isinstance(Task(id="t", status="queued").to_dict(), Mapping)
