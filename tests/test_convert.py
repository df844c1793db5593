"""The one converter: hooks for times, money, open enums, kept fields; strict mode; round trips."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import cattrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from beatapi_async import (
    Deleted,
    File,
    RealtimeSession,
    ShotMedia,
    Task,
    TaskStatus,
    Usage,
    WebhookEndpoint,
    WebhookEvent,
    Workflow,
)
from beatapi_async._convert import converter, make_converter, structure, unstructure

from ._helpers import fixture

strict = make_converter(strict=True)


def test_strict_rejects_unknown_keys() -> None:
    body = fixture("task-created.json")["data"]
    with pytest.raises(ValueError, match="poll_hint"):
        strict.structure({**body, "poll_hint": 5}, Task)
    nested = {**body, "usage": {**body["usage"], "currency": "usd"}}
    with pytest.raises((ValueError, cattrs.BaseValidationError)):
        strict.structure(nested, Task)
    # ...while the package's converter keeps them.
    assert converter.structure(nested, Task).usage.extra == {"currency": "usd"}  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (Task, {"id": "t", "status": 5}),
        (Task, {"id": "t"}),
        (Task, {"id": "t", "status": "queued", "created_at": True}),
        (Task, {"id": "t", "status": "queued", "usage": {"credits_charged": True}}),
        (Task, {"id": "t", "status": "queued", "usage": {"credits_charged": "lots"}}),
        (Task, {"id": "t", "status": "queued", "usage": {"credits_charged": float("nan")}}),
        (Task, {"id": "t", "status": "queued", "storyboard": {"shots": "none"}}),
        (Task, "task_1"),
        (Task, {"id": "t", "status": "queued", "created_at": "yesterday"}),
        (Workflow, {"id": 7}),
        (Deleted, {"id": "wh_1", "deleted": "yes"}),
        (File, {"id": "f", "url": "u", "size_bytes": 1.5}),
    ],
)
def test_wrong_shapes_raise(cls: type[Any], body: Any) -> None:
    with pytest.raises(Exception):  # noqa: B017 - cattrs groups vary; the client maps them all
        converter.structure(body, cls)


def test_wrong_shape_is_explained_field_by_field() -> None:
    # The fast reader stops at the first problem, bare; ``structure`` re-reads with
    # detail so the error (and the client's InvalidResponseError) names the field's path.
    from beatapi_async import AsyncBeatAPI, InvalidResponseError

    body = {"id": "t", "status": "queued", "usage": {"credits_charged": "lots"}}
    with pytest.raises(ValueError, match="not an amount"):
        converter.structure(body, Task)
    with pytest.raises(cattrs.ClassValidationError):
        structure(body, Task)
    client = AsyncBeatAPI(api_key="sk_test_x", base_url="http://127.0.0.1:9")
    with pytest.raises(InvalidResponseError, match=r"TaskUsage @ attribute credits_charged.*Task @ attribute usage"):
        client._load(body, Task)


def test_null_means_default() -> None:
    t = converter.structure({"id": "t", "status": "queued", "output": None, "storyboard": None}, Task)
    assert t.output is None and t.storyboard is None


def test_unknown_null_field_is_kept() -> None:
    t = converter.structure({"id": "t", "status": "queued", "x_new": None, "error_code": None}, Task)
    assert t.extra == {"x_new": None} and t.error_code is None


def test_whole_float_is_int_but_bool_is_not() -> None:
    f = converter.structure({"id": "f", "url": "u", "size_bytes": 10.0}, File)
    assert f.size_bytes == 10 and type(f.size_bytes) is int


def test_status_enum() -> None:
    t = structure({"id": "t", "status": "storyboard_ready"}, Task)
    assert t.status is TaskStatus.STORYBOARD_READY and str(t.status) == "storyboard_ready"
    assert unstructure(t)["status"] == "storyboard_ready"


@pytest.mark.parametrize(
    ("name", "cls"),
    [
        ("task-created.json", Task),
        ("task-succeeded.json", Task),
        ("task-failed.json", Task),
        ("realtime-session-created.json", RealtimeSession),
    ],
)
def test_round_trip_fixtures(name: str, cls: type[Any]) -> None:
    model = converter.structure(fixture(name)["data"], cls)
    data = converter.unstructure(model)
    assert converter.structure(data, cls) == model
    assert strict.structure(data, cls) == model


def test_round_trip_keeps_extra_and_unknown_status() -> None:
    body = {**fixture("task-succeeded.json")["data"], "status": "archived", "model": "beat-2"}
    model = converter.structure(body, Task)
    data = converter.unstructure(model)
    assert data["model"] == "beat-2" and data["status"] == "archived"
    assert converter.structure(data, Task) == model


def test_round_trip_webhook_event() -> None:
    event = converter.structure(fixture("webhook-task-succeeded.json"), WebhookEvent)
    assert converter.structure(converter.unstructure(event), WebhookEvent) == event


def test_realtime_times_unstructure_as_iso() -> None:
    s = converter.structure(fixture("realtime-session-created.json")["data"], RealtimeSession)
    assert converter.unstructure(s)["expires_at"] == "2026-07-31T15:30:00.000Z"  # as BeatAPI writes it


_amount = st.decimals(allow_nan=False, allow_infinity=False, places=2, min_value=-(10**6), max_value=10**6)
_time = st.integers(min_value=0, max_value=4_000_000_000).map(lambda s: datetime.fromtimestamp(s, tz=timezone.utc))
_status = st.one_of(
    st.sampled_from(list(TaskStatus)),
    st.text(min_size=1, max_size=12).filter(lambda s: s not in {m.value for m in TaskStatus}),
)
_extra = st.dictionaries(st.sampled_from(["model", "task_kind", "capability_id"]), st.integers() | st.text(max_size=5))


@settings(max_examples=50, deadline=None)
@given(
    status=_status,
    reserved=_amount,
    charged=_amount,
    created=_time,
    completed=st.none() | _time,
    hint=st.none() | st.floats(min_value=0, max_value=60),
    extra=_extra,
)
def test_round_trip_property(
    status: Any,
    reserved: Decimal,
    charged: Decimal,
    created: datetime,
    completed: datetime | None,
    hint: float | None,
    extra: dict[str, Any],
) -> None:
    body = {
        "id": "task_1",
        "status": status,
        "created_at": int(created.timestamp()),
        "completed_at": None if completed is None else int(completed.timestamp()),
        "poll_after_seconds": hint,
        "usage": {"credits_reserved": str(reserved), "credits_charged": str(charged)},
        **extra,
    }
    model = converter.structure(body, Task)
    assert converter.structure(converter.unstructure(model), Task) == model


@pytest.mark.parametrize(
    ("cls", "body"),
    [
        (
            Usage,
            {
                "object": "usage",
                "credit_balance": -12.5,
                "concurrency": {"limit": 2, "active": 1},
                "by_workflow": [{"workflow": "music-video", "tasks": 1, "credits_settled": 2}],
            },
        ),
        (WebhookEndpoint, {"id": "wh_1", "secret": "whsec_x", "events": ["task.failed"], "created_at": 1}),
        (ShotMedia, {"shot_id": "shot_1", "media": {"url": "https://m/x.mp4", "type": "video"}, "status": "new"}),
        (Deleted, {"id": "wh_1", "deleted": True}),
        (File, {"id": "file_1", "url": "https://m/f.mp3", "audio_duration_seconds": 64.02}),
    ],
)
def test_round_trip_other_models(cls: type[Any], body: dict[str, Any]) -> None:
    model = converter.structure(body, cls)
    assert converter.structure(converter.unstructure(model), cls) == model
