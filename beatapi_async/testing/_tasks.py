"""Tasks and their state machine (NOTES: Tasks; contract: Task, StoryboardShot, Edit Shot, Compose).

Auto flow: queued -> processing -> succeeded | failed. Manual Music Video
(``compose_mode: manual``): queued -> processing -> requires_action (the
storyboard is there; the contract: "choose storyboard shots and call compose");
a shot edit runs ``editing`` and comes back to storyboard_ready (NOTES: "edit ->
editing -> storyboard_ready"); compose runs ``composing`` and ends succeeded |
failed. A succeeded Music Video (either mode) can still be edited and composed:
an edit runs ``editing`` and comes back to ``succeeded`` with the edited shot
stored and the final video unchanged ("not replaced until you call compose");
compose runs ``composing`` and ends with the new final video. Every step ends by
a timeline event, so state only moves when the scaled clock says so.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs

from .. import _pricing as P
from .. import _rules as R
from ._account import Account, Operation
from ._clock import Clock, Timeline
from ._http import ApiError, bad_request, new_id, not_found, number
from ._records import Durations, Outcome

SHOT_SECONDS = 5  # storyboard shot length (contract: StoryboardShot example, shot edit default)

TerminalHook = Callable[[str, "TaskState", float], None]


@attrs.define(eq=False, kw_only=True)
class Shot:
    """A storyboard shot of a Music Video task."""

    id: str
    index: int
    status: str
    duration_seconds: int
    prompt: str
    created_at: float
    updated_at: float
    media_path: str | None = None  # set once materialized or edited


@attrs.define(eq=False, kw_only=True)
class TaskState:
    """One task as the emulator holds it.

    Credits: reserved == charged; at a terminal state settled + refunded == charged.
    """

    id: str
    workflow: str
    compose_mode: str
    status: str
    body: dict[str, Any]
    request_id: str
    created_at: float
    updated_at: float
    billable_seconds: int
    quality: str = "standard"
    resolution: str = "720p"
    lip_sync: bool = False
    outcome: Outcome = attrs.field(factory=Outcome)
    shots: list[Shot] = attrs.field(factory=list)
    completed_at: float | None = None
    output_path: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    credits_charged: Decimal = Decimal(0)
    credits_settled: Decimal = Decimal(0)
    credits_refunded: Decimal = Decimal(0)
    next_at: float | None = None  # when the running step ends (None: not scheduled, e.g. hanging)
    editing_shot: Shot | None = None
    resume_status: str = "storyboard_ready"  # where an edit comes back to

    @property
    def running(self) -> bool:
        """Whether the task counts toward the concurrency limit."""
        return self.status in R.RUNNING_STATUSES

    @property
    def unsettled(self) -> Decimal:
        """Credits charged for the current step and not yet settled or refunded."""
        return self.credits_charged - self.credits_settled - self.credits_refunded

    def shot(self, shot_id: str) -> Shot:
        """Return the shot with ``shot_id`` or raise a 404."""
        for shot in self.shots:
            if shot.id == shot_id:
                return shot
        raise not_found(f"Shot {shot_id!r} of task {self.id!r}")


class TaskEngine:
    """Every task of the account, the running count, and the transitions between states."""

    def __init__(self, clock: Clock, timeline: Timeline, account: Account, durations: Durations) -> None:
        self.clock = clock
        self.timeline = timeline
        self.account = account
        self.durations = durations
        self.tasks: dict[str, TaskState] = {}
        self.running = 0
        self.peak_running = 0
        self.on_terminal: TerminalHook | None = None
        self._order: list[TaskState] = []  # creation order, for usage periods
        self._created: list[float] = []
        # Usage totals over the account's life, kept as tasks move (period "all").
        self.totals: dict[str, list[Decimal]] = {w: [Decimal(0)] * 3 for w in R.WORKFLOWS}  # tasks, settled, refunded

    # -- creation and actions --------------------------------------------------------
    def check_capacity(self, other_active: int, limit: int, retry_after: int | None) -> None:
        """Raise 429 ``user_concurrency_exceeded`` when no slot is free (nothing is created)."""
        if self.running + other_active >= limit:
            raise ApiError(
                429,
                "user_concurrency_exceeded",
                f"You have reached the active processing task limit of {limit}. "
                "Wait for a processing task to finish before creating another one.",
                retry_after=retry_after,
                retryable=True if retry_after is not None else None,
            )

    def check_funds(self, price: Decimal) -> None:
        """Raise 402 ``insufficient_credits`` when the balance does not cover ``price``."""
        if not self.account.can_afford(price):
            raise ApiError(402, "insufficient_credits", "Account balance is not sufficient for this task.")

    def create(
        self,
        *,
        workflow: str,
        body: dict[str, Any],
        request_id: str,
        billable_seconds: int,
        price: Decimal,
        outcome: Outcome,
    ) -> TaskState:
        """Accept a task: charge its price and queue it."""
        now = self.clock.now()
        task = TaskState(
            id=new_id("task_"),
            workflow=workflow,
            compose_mode=str(body.get("compose_mode") or "auto") if workflow == "music-video" else "auto",
            status="queued",
            body=body,
            request_id=request_id,
            created_at=now,
            updated_at=now,
            billable_seconds=billable_seconds,
            quality=str(body.get("quality") or "standard"),
            resolution=str(body.get("resolution") or "720p"),
            lip_sync=body.get("lip_sync") is True,
            outcome=outcome,
        )
        self.tasks[task.id] = task
        self._order.append(task)
        self._created.append(now)
        self.totals[workflow][0] += 1
        self._charge(task, price, "create", now)
        self._enter_running(task)
        self._schedule(task, now + self.durations.queued)
        return task

    def edit_shot(self, task: TaskState, shot: Shot, *, prompt: str, duration: int, price: Decimal) -> None:
        """Start a shot edit: charge it and move the task to ``editing``."""
        now = self.clock.now()
        self._charge(task, price, "edit", now)
        shot.prompt = prompt
        shot.duration_seconds = duration
        shot.status = "editing"
        shot.updated_at = now
        task.editing_shot = shot
        task.resume_status = "succeeded" if task.status == "succeeded" else "storyboard_ready"
        self._move(task, "editing", now)
        self._schedule(task, now + self.durations.edit)

    def compose(self, task: TaskState) -> None:
        """Start composing: charge the fixed price and move the task to ``composing``."""
        now = self.clock.now()
        self._charge(task, P.COMPOSE_PRICE, "compose", now)
        self._move(task, "composing", now)
        self._schedule(task, now + self.durations.compose)

    def require_editable(self, task: TaskState, action: str) -> None:
        """Raise 400 unless shots of the task can be edited or composed now.

        That is a Music Video waiting for the user (storyboard_ready /
        requires_action) or one that succeeded (contract: Edit Shot keeps the
        final video until compose).
        """
        ok = task.workflow == "music-video" and (
            (task.compose_mode == "manual" and task.status in R.ACTIONABLE_STATUSES) or task.status == "succeeded"
        )
        if not ok:
            raise bad_request(
                f"Task {task.id} cannot {action} in status {task.status!r}; only Music Video tasks in "
                "storyboard_ready, requires_action or succeeded can.",
                field="task_id",
                rule="status",
            )

    def set_outcome(self, task: TaskState, outcome: Outcome) -> None:
        """Change how the task's steps end from now on; a hanging task resumes at once."""
        task.outcome = outcome
        if outcome.kind != "hang" and task.running and task.next_at is None:
            self._schedule(task, self.clock.now())

    # -- transitions -----------------------------------------------------------------
    def _schedule(self, task: TaskState, at: float) -> None:
        task.next_at = at
        self.timeline.schedule(at, self._step, task)

    def _step(self, at: float, task: TaskState) -> None:
        if task.next_at != at or self.tasks.get(task.id) is not task:
            return  # superseded (or forgotten by reset)
        task.next_at = None
        if task.status == "queued":
            self._start_processing(task, at)
            return
        outcome = task.outcome
        if outcome.kind == "hang":
            return  # stays running until set_outcome() says otherwise
        ok = outcome.kind == "succeed"
        if task.status == "processing":
            if not ok:
                self._fail(task, outcome, at)
            elif task.compose_mode == "manual":
                self._finish_shots(task, at)
                self._settle(task, "create", at)
                self._move(task, "requires_action", at)
            else:
                self._finish_shots(task, at)
                self._succeed(task, "create", at)
        elif task.status == "editing":
            self._end_edit(task, ok, at)
        elif task.status == "composing":
            if ok:
                self._succeed(task, "compose", at)
            else:
                self._fail(task, outcome, at, operation="compose")

    def _start_processing(self, task: TaskState, at: float) -> None:
        if task.workflow == "music-video":
            # Storyboard shots appear while the video renders (contract: StoryboardShot).
            count = max(1, math.ceil(task.billable_seconds / SHOT_SECONDS))
            theme = str(task.body.get("prompt") or "Performance shot").strip()[:120]
            for index in range(count):
                seconds = min(SHOT_SECONDS, task.billable_seconds - index * SHOT_SECONDS) or SHOT_SECONDS
                task.shots.append(
                    Shot(
                        id=new_id("shot_"),
                        index=index,
                        status="processing",
                        duration_seconds=seconds,
                        prompt=f"Shot {index + 1}: {theme}",
                        created_at=at,
                        updated_at=at,
                    )
                )
        self._move(task, "processing", at)
        length = self.durations.music_video if task.workflow == "music-video" else self.durations.ecommerce_video
        self._schedule(task, at + length)

    def _finish_shots(self, task: TaskState, at: float) -> None:
        for shot in task.shots:
            shot.status = "succeeded"
            shot.updated_at = at

    def _end_edit(self, task: TaskState, ok: bool, at: float) -> None:
        shot = task.editing_shot
        task.editing_shot = None
        if shot is not None:
            shot.status = "succeeded" if ok else "failed"
            shot.updated_at = at
            if ok:
                # An edit stores the new shot video (contract: Edit Shot).
                shot.media_path = f"/outputs/{task.id}/shots/{shot.id}.mp4"
        if ok:
            self._settle(task, "edit", at)
        else:
            self._refund(task, "edit", at)
        # A succeeded task keeps its final video (and its completion time) through an edit.
        self._move(task, task.resume_status, at)

    def _succeed(self, task: TaskState, operation: Operation, at: float) -> None:
        task.output_path = f"/outputs/{task.id}.mp4"
        task.completed_at = at
        self._settle(task, operation, at)
        self._move(task, "succeeded", at)
        if self.on_terminal:
            self.on_terminal("task.succeeded", task, at)

    def _fail(self, task: TaskState, outcome: Outcome, at: float, operation: Operation = "create") -> None:
        for shot in task.shots:
            if shot.status not in R.TERMINAL_STATUSES:
                shot.status = "failed"
                shot.updated_at = at
        task.error_code = outcome.error_code
        task.error_message = outcome.message
        task.completed_at = at
        self._refund(task, operation, at)
        self._move(task, "failed", at)
        if self.on_terminal:
            self.on_terminal("task.failed", task, at)

    def _move(self, task: TaskState, status: str, at: float) -> None:
        was_running = task.running
        task.status = status
        task.updated_at = at
        if was_running and not task.running:
            self.running -= 1
        elif task.running and not was_running:
            self._enter_running(task)

    def _enter_running(self, task: TaskState) -> None:
        self.running += 1
        self.peak_running = max(self.peak_running, self.running)

    # -- credits -----------------------------------------------------------------------
    def _charge(self, task: TaskState, amount: Decimal, operation: Operation, at: float) -> None:
        task.credits_charged += amount
        self.account.charge(amount, operation, at, task_id=task.id)

    def _settle(self, task: TaskState, operation: Operation, at: float) -> None:
        amount = task.unsettled
        task.credits_settled += amount
        self.totals[task.workflow][1] += amount
        self.account.settle(amount, operation, at, task_id=task.id)

    def _refund(self, task: TaskState, operation: Operation, at: float) -> None:
        amount = task.unsettled
        task.credits_refunded += amount
        self.totals[task.workflow][2] += amount
        self.account.refund(amount, operation, at, task_id=task.id)

    # -- reading -----------------------------------------------------------------------
    def get(self, task_id: str) -> TaskState:
        """Return the task or raise a 404."""
        task = self.tasks.get(task_id)
        if task is None:
            raise not_found(f"Task {task_id!r}")
        return task

    def usage(self, since: float | None) -> dict[str, Any]:
        """Return task totals for tasks created at or after ``since`` (None: all), by workflow."""
        if since is None:
            rows = {w: tuple(v) for w, v in self.totals.items()}
        else:
            acc = {w: [Decimal(0)] * 3 for w in R.WORKFLOWS}
            for task in self._order[bisect.bisect_left(self._created, since) :]:
                row = acc[task.workflow]
                row[0] += 1
                row[1] += task.credits_settled
                row[2] += task.credits_refunded
            rows = {w: tuple(v) for w, v in acc.items()}
        return {
            "total_tasks": int(sum(r[0] for r in rows.values())),
            "credits_settled": number(sum((r[1] for r in rows.values()), Decimal(0))),
            "credits_refunded": number(sum((r[2] for r in rows.values()), Decimal(0))),
            "by_workflow": [
                {"workflow": w, "tasks": int(r[0]), "credits_settled": number(r[1])} for w, r in rows.items()
            ],
        }

    def clear(self) -> None:
        """Forget every task and counter."""
        self.tasks.clear()
        self._order.clear()
        self._created.clear()
        self.running = 0
        self.peak_running = 0
        self.totals = {w: [Decimal(0)] * 3 for w in R.WORKFLOWS}
