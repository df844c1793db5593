"""How the CLI shows things: rich tables on a terminal, plain text in pipes, JSON for scripts."""

from __future__ import annotations

import enum
import json
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import IO, Any

import attrs
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from .. import File, Task, Usage, WebhookEndpoint, Workflow

# In a pipe rich would assume 80 columns and fold URLs; logs are read wide.
PIPE_WIDTH = 200
STATUS_STYLES = {
    "succeeded": "bold green",
    "failed": "bold red",
    "storyboard_ready": "yellow",
    "requires_action": "yellow",
    "queued": "dim",
    "processing": "cyan",
    "editing": "cyan",
    "composing": "cyan",
}


def console(*, stderr: bool = False) -> Console:
    """A console on stdout (or stderr): styled on a terminal, plain text otherwise."""
    stream: IO[str] = sys.stderr if stderr else sys.stdout
    interactive = stream.isatty()
    return Console(
        file=stream,
        width=None if interactive else PIPE_WIDTH,
        highlight=False,
        emoji=False,
    )


# -- JSON ---------------------------------------------------------------------------


def to_jsonable(value: Any) -> Any:
    """Turn a model (and what it holds) into JSON data: the API's field names, unknown fields kept.

    Credits and money are numbers (ints when whole, as BeatAPI sends them); times are
    ISO-8601 UTC strings.
    """
    if attrs.has(type(value)):
        data: dict[str, Any] = {}
        for field in attrs.fields(type(value)):
            item = getattr(value, field.name)
            if field.name == "extra":
                data.update({k: to_jsonable(v) for k, v in item.items()})
            else:
                data[field.name] = to_jsonable(item)
        return data
    if isinstance(value, enum.Enum):
        return to_jsonable(value.value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """JSON text of a model, a list of models or plain data."""
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False)


# -- text -----------------------------------------------------------------------------


def status_text(status: object) -> Text:
    """A task status, coloured on a terminal."""
    name = str(status)
    return Text(name, style=STATUS_STYLES.get(name, ""))


def credits(value: Decimal | None) -> str:
    """Credits (or dollars) as BeatAPI reported them, exactly."""
    if value is None:
        return "-"
    return str(int(value)) if value == value.to_integral_value() else str(value.normalize())


def task_credits(task: Task) -> str:
    """What a task costs: settled (and refunded) once it ended, charged while it runs."""
    usage = task.usage
    if usage is None:
        return "-"
    if task.status == "succeeded":
        return credits(usage.credits_settled)
    if task.status == "failed":
        return f"{credits(usage.credits_settled)} (refunded {credits(usage.credits_refunded)})"
    return f"{credits(usage.credits_charged)} charged"


def when(value: datetime | None) -> str:
    """A time in UTC, to the second."""
    return "-" if value is None else value.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def table(*columns: str, title: str | None = None) -> Table:
    """A table in the CLI's one style."""
    return Table(*columns, title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False, show_edge=False)


def fields_table(rows: Iterable[tuple[str, object]], title: str | None = None) -> Table:
    """A two-column table of names and values."""
    t = Table(box=None, show_header=False, title=title, title_justify="left", pad_edge=False)
    t.add_column(style="bold")
    t.add_column(overflow="fold")
    for name, value in rows:
        t.add_row(name, value if isinstance(value, Text) else str(value))
    return t


def workflows_table(workflows: Iterable[Workflow]) -> Table:
    t = table("ID", "NAME", "DESCRIPTION")
    for w in workflows:
        t.add_row(w.id, w.name or "", w.description or "")
    return t


def usage_table(usage: Usage) -> Table:
    rows: list[tuple[str, object]] = [
        ("credit balance", credits(usage.credit_balance)),
        ("concurrency", f"{usage.concurrency.active} running of {usage.concurrency.limit} allowed"),
        ("tasks", usage.total_tasks),
        ("credits settled", credits(usage.credits_settled)),
        ("credits refunded", credits(usage.credits_refunded)),
    ]
    for w in usage.by_workflow:
        rows.append((f"  {w.workflow}", f"{w.tasks} tasks, {credits(w.credits_settled)} credits settled"))
    if usage.realtime is not None:
        rows.append(("realtime", f"{usage.realtime.sessions} sessions, {credits(usage.realtime.credits)} credits"))
    return fields_table(rows)


def file_table(file: File) -> Table:
    rows: list[tuple[str, object]] = [
        ("id", file.id),
        ("url", file.url),
        ("type", file.mime_type or "-"),
        ("size", f"{file.size_bytes} bytes" if file.size_bytes is not None else "-"),
    ]
    if file.audio_duration_seconds is not None:
        rows.append(("audio", f"{file.audio_duration_seconds:g} s"))
    return fields_table(rows)


def task_table(task: Task) -> Table:
    rows: list[tuple[str, object]] = [
        ("id", task.id),
        ("workflow", task.workflow or "-"),
        ("status", status_text(task.status)),
    ]
    if task.stage is not None and task.stage != task.status:
        rows.append(("stage", str(task.stage)))
    rows += [
        ("created", when(task.created_at)),
        ("completed", when(task.completed_at)),
        ("credits", task_credits(task)),
        ("video", task.video_url or "-"),
    ]
    if task.error_code or task.error_message:
        rows.append(("error", f"{task.error_code or 'error'}: {task.error_message or ''}".rstrip(": ")))
    if task.request_id:
        rows.append(("request id", task.request_id))
    return fields_table(rows)


def shots_table(task: Task) -> Table | None:
    if task.storyboard is None or not task.storyboard.shots:
        return None
    t = table("SHOT", "#", "STATUS", "SECONDS", "PROMPT", title="storyboard")
    for s in task.storyboard.shots:
        t.add_row(
            s.id,
            "" if s.index is None else str(s.index),
            status_text(s.status or "-"),
            "" if s.duration_seconds is None else str(s.duration_seconds),
            s.prompt or "",
        )
    return t


def webhooks_table(hooks: Iterable[WebhookEndpoint]) -> Table:
    t = table("ID", "URL", "EVENTS", "STATUS", "DESCRIPTION")
    for h in hooks:
        t.add_row(h.id, h.url or "", ",".join(h.events), h.status or "", h.description or "")
    return t
