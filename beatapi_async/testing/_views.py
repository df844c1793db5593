"""How the emulator's objects look on the wire (contract: Task, StoryboardShot, Workflow)."""

from __future__ import annotations

from typing import Any

from ._http import number
from ._tasks import Shot, TaskState

POLL_HINT_RANGE = (5.0, 10.0)  # BeatAPI's hint while running, in BeatAPI seconds (NOTES: Tasks)

WORKFLOWS: list[dict[str, str]] = [
    {
        "id": "music-video",
        "object": "workflow",
        "name": "Music Video API",
        "description": "Music videos from images and a song, with an optional storyboard to edit.",
    },
    {
        "id": "ecommerce-video",
        "object": "workflow",
        "name": "Ecommerce Video API",
        "description": "Product ad videos from product images and a duration.",
    },
]


def task_json(
    task: TaskState, *, base_url: str, request_id: str, now: float, speed: float, poll_hint: bool
) -> dict[str, Any]:
    """Return the task as the contract's ``Task`` object."""
    data: dict[str, Any] = {
        "id": task.id,
        "object": "task",
        "workflow": task.workflow,
        "status": task.status,
        "stage": task.status,
        "created_at": int(task.created_at),
        "updated_at": int(task.updated_at),
        "completed_at": None if task.completed_at is None else int(task.completed_at),
        "output": None,
        "usage": {
            "credits_reserved": number(task.credits_charged),
            "credits_charged": number(task.credits_charged),
            "billable_duration_seconds": task.billable_seconds,
            "credits_settled": number(task.credits_settled),
            "credits_refunded": number(task.credits_refunded),
        },
        "request_id": request_id,
        "error_code": task.error_code,
        "error_message": task.error_message,
    }
    if task.workflow == "music-video":
        data["storyboard"] = {"shots": [shot_json(s, base_url) for s in task.shots]}
    # Once a task has succeeded its final video stays visible while a later shot
    # edit or compose runs (contract: Edit Shot), until a compose replaces it.
    if task.output_path is not None and task.status != "failed":
        url = base_url + task.output_path
        data["output"] = {"media": [{"type": "video", "url": url, "mime_type": "video/mp4"}], "r2_url": url}
    if poll_hint and task.running:
        # BeatAPI hints 5-10 s; the emulator reports that in real seconds
        # (divided by speed) so a client honouring it polls at the emulator's pace.
        low, high = POLL_HINT_RANGE
        wait = high if task.next_at is None else min(high, max(low, task.next_at - now))
        # Floored at a millisecond: a hint of 0 would read as "poll in a busy loop".
        data["poll_after_seconds"] = max(round(wait / speed, 6), 0.001)
    return data


def shot_json(shot: Shot, base_url: str) -> dict[str, Any]:
    """Return a storyboard shot as the contract's ``StoryboardShot``."""
    data: dict[str, Any] = {
        "id": shot.id,
        "index": shot.index,
        "status": shot.status,
        "duration_seconds": shot.duration_seconds,
        "prompt": shot.prompt,
        "created_at": int(shot.created_at),
        "updated_at": int(shot.updated_at),
    }
    if shot.media_path is not None:
        data["media"] = {"type": "video", "url": base_url + shot.media_path, "mime_type": "video/mp4"}
    return data
