"""``client.music_video``: create, and the manual flow (shot media, shot edit, compose)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .._config import NOT_GIVEN
from .._models import MusicVideoRequest, ShotMedia, Task
from .._validate import check_compose, check_shot_edit, path_id
from ._common import Resource, TimeoutArg, coerce_request, create_task, new_idempotency_key


def _shot_path(task_id: str, shot_id: str, action: str) -> str:
    return f"/v1/music-video/tasks/{path_id('task_id', task_id)}/shots/{path_id('shot_id', shot_id)}/{action}"


class MusicVideo(Resource):
    """``/v1/music-video/tasks`` and its storyboard operations."""

    async def create(
        self,
        request: MusicVideoRequest | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **fields: Any,
    ) -> Task:
        """Create a Music Video task from a request object or keyword fields.

        Raises:
            RequestValidationError: a field breaks a rule (nothing is sent).
        """
        req = coerce_request(MusicVideoRequest, request, fields)
        return await create_task(self._client, req, idempotency_key=idempotency_key, timeout=timeout)

    async def shot_media(self, task_id: str, shot_id: str, *, timeout: TimeoutArg = NOT_GIVEN) -> ShotMedia:
        """Materialize one storyboard shot's video and return its URL (repeatable, not billed)."""
        path = _shot_path(task_id, shot_id, "media")
        # Repeated calls return the stored URL (contract), so this POST is safe to retry.
        data = await self._client._request("POST", path, replayable=True, timeout=timeout)
        return self._client._load(data, ShotMedia)

    async def edit_shot(
        self,
        task_id: str,
        shot_id: str,
        *,
        prompt: str,
        duration: int | None = None,
        quality: str | None = None,
        resolution: str | None = None,
        idempotency_key: str | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> Task:
        """Edit one storyboard shot (billed: the task's rate x the shot's seconds)."""
        path = _shot_path(task_id, shot_id, "edit")
        body = {"prompt": prompt, "duration": duration, "quality": quality, "resolution": resolution}
        check_shot_edit(body)
        data = await self._client._request(
            "POST",
            path,
            json={k: v for k, v in body.items() if v is not None},
            idempotency_key=idempotency_key or new_idempotency_key(),
            timeout=timeout,
        )
        return self._client._load(data, Task)

    async def compose(
        self,
        task_id: str,
        shot_ids: Sequence[str],
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> Task:
        """Compose the selected storyboard shots into the final video (billed: 1 credit)."""
        path = f"/v1/music-video/tasks/{path_id('task_id', task_id)}/compose"
        check_compose({"shot_ids": shot_ids})
        data = await self._client._request(
            "POST",
            path,
            json={"shot_ids": list(shot_ids)},
            idempotency_key=idempotency_key or new_idempotency_key(),
            timeout=timeout,
        )
        return self._client._load(data, Task)
