"""Response models from BeatAPI's golden fixtures; forward compatibility; secrets."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest

from beatapi_async import (
    Media,
    RealtimeSession,
    Task,
    TaskOutput,
    TaskStatus,
    WebhookEndpoint,
    WebhookEvent,
)
from beatapi_async._convert import converter, make_converter

from ._helpers import fixture
from ._shared import CONTRACT, missing_reason

strict = make_converter(strict=True)


def load_task(name: str) -> Task:
    return converter.structure(fixture(name)["data"], Task)


def test_task_created() -> None:
    t = load_task("task-created.json")
    assert t.id == "task_8K2qA" and t.workflow == "music-video"
    assert t.status is TaskStatus.QUEUED and t.stage == "queued"
    assert t.created_at == datetime.fromtimestamp(1784188800, tz=timezone.utc)
    assert t.created_at.tzinfo is not None and t.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert t.completed_at is None and t.output is None
    assert t.usage is not None and t.usage.credits_reserved == Decimal(50)
    assert isinstance(t.usage.credits_charged, Decimal)
    assert t.storyboard is not None and t.storyboard.shots == ()
    assert not t.is_terminal and not t.is_actionable and t.is_running
    assert t.video_url is None
    assert t.extra == {}


def test_task_succeeded() -> None:
    t = load_task("task-succeeded.json")
    assert t.status == "succeeded" and t.is_terminal and not t.is_actionable
    assert t.video_url == "https://media.example.com/outputs/task_8K2qA.mp4"
    assert t.output is not None and t.output.media[0].mime_type == "video/mp4"
    shot = t.storyboard.shots[0]  # type: ignore[union-attr]
    assert shot.id == "shot_example_1" and shot.status is TaskStatus.SUCCEEDED and shot.duration_seconds == 5
    assert shot.media is not None and shot.media.url.endswith("shot_example_1.mp4")
    assert t.usage is not None and t.usage.credits_settled + t.usage.credits_refunded == t.usage.credits_charged
    assert t.request_id == "req_example_succeeded"


def test_task_failed() -> None:
    t = load_task("task-failed.json")
    assert t.status is TaskStatus.FAILED and t.is_terminal
    assert t.error_code == "processing_failed" and t.error_message
    assert t.video_url is None
    assert t.usage is not None and t.usage.credits_refunded == 50


def test_webhook_event() -> None:
    e = converter.structure(fixture("webhook-task-succeeded.json"), WebhookEvent)
    assert e.id == "evt_example_123" and e.event == "task.succeeded"
    assert e.created_at == datetime.fromtimestamp(1784188934, tz=timezone.utc)
    assert isinstance(e.task, Task) and e.task.video_url is not None and e.task.is_terminal


def test_webhook_event_with_unknown_data_is_kept() -> None:
    e = converter.structure({"id": "evt_1", "event": "account.updated", "data": {"balance": 5}}, WebhookEvent)
    assert e.task is None and e.data == {"balance": 5}


def test_realtime_session() -> None:
    s = converter.structure(fixture("realtime-session-created.json")["data"], RealtimeSession)
    assert s.id == "rts_01JEXAMPLE" and s.status == "ready"
    assert s.client_secret == "brt_live_example"
    assert s.expires_at == datetime(2026, 7, 31, 15, 30, tzinfo=timezone.utc)
    assert s.created_at == datetime(2026, 7, 31, 15, 29, tzinfo=timezone.utc)
    assert s.connected_at is None and s.closed_at is None
    assert s.allowed_origins == ("https://app.example.com",)
    assert s.credits is not None and s.credits.reserved == Decimal(60)


@pytest.mark.parametrize(
    "name", ["task-created.json", "task-succeeded.json", "task-failed.json", "realtime-session-created.json"]
)
def test_fixtures_load_strictly(name: str) -> None:
    # Our models declare every field BeatAPI's samples carry (drift check).
    strict.structure(fixture(name)["data"], RealtimeSession if "realtime" in name else Task)


def test_webhook_fixture_loads_strictly() -> None:
    strict.structure(fixture("webhook-task-succeeded.json"), WebhookEvent)


# -- forward compatibility -------------------------------------------------------------


def newer_task(**changes: Any) -> dict[str, Any]:
    body = dict(fixture("task-succeeded.json")["data"])
    body.update(changes)
    return body


def test_unknown_fields_kept_in_extra() -> None:
    body = newer_task(
        poll_after_seconds=7,
        typical_seconds={"p50": 60, "p90": 120, "samples": 40, "window": "7d"},
        task_kind="mv",
        model="beat-2",
    )
    body["usage"] = {**body["usage"], "currency": "usd"}
    t = converter.structure(body, Task)
    assert t.poll_after_seconds == 7
    assert t.extra == {
        "typical_seconds": {"p50": 60, "p90": 120, "samples": 40, "window": "7d"},
        "task_kind": "mv",
        "model": "beat-2",
    }
    assert t.usage is not None and t.usage.extra == {"currency": "usd"}
    assert "task_kind" in repr(t)  # visible


def test_unknown_status_loads_as_plain_string() -> None:
    t = converter.structure(newer_task(status="archived", stage="archiving"), Task)
    assert t.status == "archived" and type(t.status) is str
    assert t.stage == "archiving"
    assert not t.is_terminal and not t.is_actionable
    shot_body = newer_task()
    shot_body["storyboard"] = {"shots": [{"id": "shot_1", "status": "upscaling"}]}
    t = converter.structure(shot_body, Task)
    assert t.storyboard is not None and t.storyboard.shots[0].status == "upscaling"


def test_dollar_amounts_are_exact_decimals() -> None:
    body = newer_task(
        usage={"credits_reserved": 1.5, "credits_charged": 1.5, "credits_settled": 0.1, "credits_refunded": "1.40"}
    )
    t = converter.structure(body, Task)
    assert t.usage is not None
    assert t.usage.credits_reserved == Decimal("1.5") and str(t.usage.credits_reserved) == "1.5"
    assert t.usage.credits_settled == Decimal("0.1")  # not 0.1000000000000000055...
    assert t.usage.credits_refunded == Decimal("1.40")
    assert t.usage.credits_settled + t.usage.credits_refunded == t.usage.credits_charged


@pytest.mark.parametrize(
    "value",
    [
        1784188800,
        1784188800.0,
        "1784188800",
        "2026-07-16T08:00:00Z",
        "2026-07-16T08:00:00.000Z",
        "2026-07-16T10:00:00+02:00",
        "2026-07-16T08:00:00.123456789Z",
        "2026-07-16T08:00:00",
    ],
)
def test_times_are_aware_utc(value: Any) -> None:
    t = converter.structure(newer_task(created_at=value), Task)
    assert t.created_at is not None
    assert t.created_at.tzinfo is not None and t.created_at.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert t.created_at.replace(microsecond=0) == datetime(2026, 7, 16, 8, 0, tzinfo=timezone.utc)


def test_realtime_times_from_unix_too() -> None:
    body = dict(fixture("realtime-session-created.json")["data"])
    body["created_at"] = 1784188800
    s = converter.structure(body, RealtimeSession)
    assert s.created_at == datetime.fromtimestamp(1784188800, tz=timezone.utc)


# -- video_url, is_terminal, is_actionable ----------------------------------------------


def test_video_url_rules() -> None:
    m = Media(url="https://m/0.mp4")
    assert Task(id="t", status="succeeded", output=TaskOutput(media=(m,), r2_url="https://r2/x")).video_url == m.url
    assert Task(id="t", status="succeeded", output=TaskOutput(r2_url="https://r2/x")).video_url == "https://r2/x"
    assert Task(id="t", status="succeeded", output=TaskOutput()).video_url is None
    assert Task(id="t", status="succeeded").video_url is None


@pytest.mark.parametrize(
    ("status", "terminal", "actionable"),
    [
        ("queued", False, False),
        ("processing", False, False),
        ("storyboard_ready", False, True),
        ("requires_action", False, True),
        ("editing", False, False),
        ("composing", False, False),
        ("succeeded", True, False),
        ("failed", True, False),
        ("mystery", False, False),
    ],
)
def test_state_predicates(status: str, terminal: bool, actionable: bool) -> None:
    t = converter.structure({"id": "task_1", "status": status}, Task)
    assert (t.is_terminal, t.is_actionable) == (terminal, actionable)


# -- secrets ------------------------------------------------------------------------------


def test_secrets_never_in_repr() -> None:
    hook = converter.structure({"id": "wh_1", "secret": "whsec_full_secret_value"}, WebhookEndpoint)
    assert hook.secret == "whsec_full_secret_value"
    assert "whsec_full_secret_value" not in repr(hook) and "whsec_full_secret_value" not in str(hook)
    s = converter.structure(fixture("realtime-session-created.json")["data"], RealtimeSession)
    assert "brt_live_example" not in repr(s) and "brt_live_example" not in str(s)
    assert "client_secret" in repr(s)  # the field is shown, its value is not


def test_models_are_frozen() -> None:
    t = load_task("task-created.json")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        t.status = "failed"  # type: ignore[misc]


# -- the launch contract's own examples ---------------------------------------------------


def _contract_examples() -> list[tuple[str, Any]]:
    from ._shared import SHARED

    path = SHARED / "openapi.yaml"
    if not path.exists():
        return []
    import yaml

    spec = yaml.safe_load(path.read_text())
    out: list[tuple[str, Any]] = []
    for route, ops in spec["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict) or "responses" not in op:
                continue
            for status, answer in op["responses"].items():
                content = answer.get("content", {}).get("application/json", {})
                examples = [content["example"]] if "example" in content else []
                examples += [e["value"] for e in content.get("examples", {}).values()]
                out += [(f"{method.upper()} {route} {status}", ex) for ex in examples if "data" in ex]
    return out


_MODELS = {
    "/v1/workflows": "Workflow",
    "/v1/usage": "Usage",
    "/v1/files": "File",
    "/v1/tasks/{task_id}": "Task",
    "/v1/music-video/tasks": "Task",
    "/v1/ecommerce-video/tasks": "Task",
    "/v1/webhooks": "WebhookEndpoint",
    "/v1/webhooks/{id}": "WebhookEndpoint",
    "/v1/realtime/sessions": "RealtimeSession",
    "/v1/music-video/tasks/{task_id}/shots/{shot_id}/media": "ShotMedia",
}


@pytest.mark.parametrize(
    ("where", "body"),
    _contract_examples() or [pytest.param("none", None, marks=pytest.mark.skip(reason=missing_reason(CONTRACT)))],
)
def test_contract_examples_load_strictly(where: str, body: Any) -> None:
    import beatapi_async

    method, route, _ = where.split(" ")
    data = body["data"]
    name = "Deleted" if method == "DELETE" else _MODELS[route]
    cls = getattr(beatapi_async, name)
    if isinstance(data, dict) and data.get("object") == "list":
        for item in data["data"]:
            strict.structure(item, cls)
    else:
        strict.structure(data, cls)
