"""``client.tasks``: read a task (the source of truth for its state)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._models import Task
from .._options import call_options
from .._validate import path_id
from ._common import Resource

if TYPE_CHECKING:
    from .._options import RequestOptions, Unpack


class Tasks(Resource):
    """``GET /v1/tasks/{task_id}`` (BeatAPI allows 120 of these per minute per key)."""

    async def get(self, task_id: str, **options: Unpack[RequestOptions]) -> Task:
        """Get a task by id."""
        path = f"/v1/tasks/{path_id('task_id', task_id)}"
        data = await self._client._request("GET", path, options=call_options(options))
        return self._client._load(data, Task)
