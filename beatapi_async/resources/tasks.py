"""``client.tasks``: read a task (the source of truth for its state)."""

from __future__ import annotations

from .._config import NOT_GIVEN
from .._models import Task
from .._validate import path_id
from ._common import Resource, TimeoutArg


class Tasks(Resource):
    """``GET /v1/tasks/{task_id}`` (BeatAPI allows 120 of these per minute per key)."""

    async def get(self, task_id: str, *, timeout: TimeoutArg = NOT_GIVEN) -> Task:
        """Get a task by id."""
        data = await self._client._request("GET", f"/v1/tasks/{path_id('task_id', task_id)}", timeout=timeout)
        return self._client._load(data, Task)
