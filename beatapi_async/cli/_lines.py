"""The batch file of ``run``: its lines, checked before anything is sent, and their results."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Literal, TypedDict

import attrs

from .. import RequestValidationError, Task
from ._common import API_ERROR, OK, TASK_FAILED, USAGE_ERROR, CliError
from ._create import TaskRequest, build_request

# -- reading the batch ----------------------------------------------------------------


@attrs.define
class Line:
    """One request line of the batch (``error`` set: a bad line, skipped)."""

    number: int
    caller_id: str | None = None
    workflow: str | None = None
    request: TaskRequest | None = None
    fingerprint: str | None = None
    error: str | None = None

    @property
    def key(self) -> str:
        """How the state file knows this line across runs."""
        return f"id:{self.caller_id}" if self.caller_id is not None else f"line:{self.number}"

    @property
    def label(self) -> str:
        return f"line {self.number}" + (f" ({self.caller_id})" if self.caller_id is not None else "")


def read_batch(path: str) -> list[Line]:
    """Parse and validate every line of a JSON Lines batch (blank lines are skipped)."""
    lines: list[Line] = []
    ids: dict[str, int] = {}
    try:
        with open(path, encoding="utf-8") as f:
            for number, raw in enumerate(f, 1):
                if raw.strip():
                    lines.append(_parse_line(number, raw, ids))
    except UnicodeDecodeError:
        raise CliError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    return lines


def _parse_line(number: int, raw: str, ids: dict[str, int]) -> Line:
    line = Line(number)
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        line.error = f"not valid JSON: {exc.msg} (column {exc.colno})"
        return line
    if not isinstance(data, dict):
        line.error = "must be a JSON object with a workflow and its fields"
        return line
    caller = data.pop("id", None)
    if caller is not None:
        if isinstance(caller, bool) or not isinstance(caller, (str, int)) or str(caller) == "":
            line.error = '"id" must be a non-empty string or a number'
            return line
        line.caller_id = str(caller)
        if line.caller_id in ids:
            line.error = f"duplicate id {line.caller_id!r} (first on line {ids[line.caller_id]})"
            return line
        ids[line.caller_id] = number
    workflow = data.pop("workflow", None)
    if not isinstance(workflow, str):
        line.error = 'needs "workflow": "music-video" or "ecommerce-video"'
        return line
    line.workflow = workflow
    try:
        line.request = build_request(workflow, data)
    except RequestValidationError as exc:
        line.error = f"{exc.field}: {exc.rule}"
        return line
    canonical = json.dumps({"workflow": workflow, **data}, sort_keys=True, separators=(",", ":"))
    line.fingerprint = hashlib.sha256(canonical.encode()).hexdigest()[:32]
    return line


# -- results ----------------------------------------------------------------------------

Outcome = Literal["ok", "failed", "invalid", "error"]


@attrs.define(kw_only=True)
class Result:
    """What became of one line (one line of ``--out``)."""

    line: int
    id: str | None
    workflow: str | None
    task_id: str | None
    status: str
    video_url: str | None = None
    error: str | None = None
    resumed: bool = False
    # The task's credits as BeatAPI reported them (dollars on deployments that bill in dollars).
    credits_reserved: Decimal | None = None
    credits_settled: Decimal | None = None
    credits_refunded: Decimal | None = None

    @property
    def outcome(self) -> Outcome:
        if self.status == "invalid":
            return "invalid"
        if self.status == "failed":
            return "failed"
        if self.error is not None:
            return "error"
        return "ok"

    def to_json(self) -> str:
        return json.dumps(attrs.asdict(self), ensure_ascii=False, default=_number)


def _number(value: object) -> int | float:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON data")


class Credits(TypedDict):
    """A result's credit fields."""

    credits_reserved: Decimal | None
    credits_settled: Decimal | None
    credits_refunded: Decimal | None


def credits_of(task: Task | None) -> Credits:
    """A result's credit fields from the task's own ``usage`` (None when unknown)."""
    usage = task.usage if task is not None else None
    if usage is None:
        return {"credits_reserved": None, "credits_settled": None, "credits_refunded": None}
    return {
        "credits_reserved": usage.credits_reserved,
        "credits_settled": usage.credits_settled,
        "credits_refunded": usage.credits_refunded,
    }


def result_of(line: Line, task: Task, resumed: bool) -> Result:
    """The result of a line whose task reached the state it was waited for."""
    error = None
    if task.status == "failed":
        error = f"{task.error_code or 'unknown_error'}: {task.error_message or 'the task failed'}"
    return Result(
        line=line.number,
        id=line.caller_id,
        workflow=line.workflow,
        task_id=task.id,
        status=str(task.status),
        video_url=task.video_url,
        error=error,
        resumed=resumed,
        **credits_of(task),
    )


def exit_code(results: Iterable[Result]) -> int:
    """3 if anything hit an API error, else 1 if a task failed, else 2 if a line was bad, else 0."""
    outcomes = {r.outcome for r in results}
    for outcome, code in (("error", API_ERROR), ("failed", TASK_FAILED), ("invalid", USAGE_ERROR)):
        if outcome in outcomes:
            return code
    return OK


def invalid_result(line: Line) -> Result:
    """The result of a bad line: skipped, never sent."""
    return Result(
        line=line.number, id=line.caller_id, workflow=line.workflow, task_id=None, status="invalid", error=line.error
    )
