"""Waiting on one task with visible progress: a spinner on a terminal, status lines in a pipe."""

from __future__ import annotations

import time
from typing import Literal, cast

from rich.markup import escape

from .. import AsyncBeatAPI, Task
from . import _output as out


def describe(task: Task) -> str:
    """One line about where a task is."""
    parts = [task.id, str(task.status)]
    if task.stage is not None and task.stage != task.status:
        parts.append(f"({task.stage})")
    if task.video_url:
        parts.append(task.video_url)
    if task.error_code:
        parts.append(f"{task.error_code}: {task.error_message or ''}".rstrip(": "))
    return " ".join(parts)


async def wait_with_progress(
    client: AsyncBeatAPI, task: Task | str, *, timeout: float | None, until: str = "terminal"
) -> Task:
    """Wait for ``task`` (not raising on failure), reporting each change on stderr."""
    err = out.console(stderr=True)
    started = time.monotonic()
    task_id = task if isinstance(task, str) else task.id
    stop = cast(Literal["terminal", "actionable"], until)

    if not err.is_terminal:

        def report(update: Task) -> None:
            err.print(f"{time.monotonic() - started:6.1f}s {describe(update)}")

        return await client.wait_for_task(task, timeout=timeout, until=stop, on_update=report, raise_on_failure=False)

    with err.status(f"waiting for {task_id}") as status:

        def refresh(update: Task) -> None:
            status.update(f"{escape(describe(update))}  [dim]{time.monotonic() - started:.0f}s[/]")

        return await client.wait_for_task(task, timeout=timeout, until=stop, on_update=refresh, raise_on_failure=False)
