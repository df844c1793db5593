"""``client.music_video``: create, and the manual flow (shot media, shot edit, compose)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .. import _models
from .._models import Task
from .._options import call_options
from .._validate import check_compose, check_shot_edit, path_id
from ._common import Resource, coerce_request, create_task, new_idempotency_key

if TYPE_CHECKING:
    from .._models import MusicVideoRequest, ShotMedia
    from .._options import BodyOptions, RequestOptions, Unpack
    from .._params import MusicVideoCreate, Quality, Resolution

_EDIT_FIELDS = ("prompt", "duration", "quality", "resolution")


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
        **fields: Unpack[MusicVideoCreate],
    ) -> Task:
        """Create a Music Video task from a request object or keyword fields.

        Keyword arguments are the request's fields and the per-call options
        (``timeout``, ``max_retries``, ``extra_headers``, ``extra_query``, ``extra_body``).

        Raises:
            RequestValidationError: a field breaks a rule (nothing is sent).
        """
        req, options = coerce_request(_models.MusicVideoRequest, request, fields)
        return await create_task(self._client, req, idempotency_key=idempotency_key, options=options)

    async def shot_media(self, task_id: str, shot_id: str, **options: Unpack[RequestOptions]) -> ShotMedia:
        """Materialize one storyboard shot's video and return its URL (repeatable, not billed)."""
        path = _shot_path(task_id, shot_id, "media")
        checked = call_options(options)
        # Repeated calls return the stored URL (contract), so this POST is safe to retry.
        data = await self._client._request("POST", path, replayable=True, options=checked)
        return self._client._load(data, _models.ShotMedia)

    async def edit_shot(
        self,
        task_id: str,
        shot_id: str,
        *,
        prompt: str,
        duration: int | None = None,
        quality: Quality | None = None,
        resolution: Resolution | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> Task:
        """Edit one storyboard shot (billed: the task's rate x the shot's seconds)."""
        path = _shot_path(task_id, shot_id, "edit")
        body = {"prompt": prompt, "duration": duration, "quality": quality, "resolution": resolution}
        check_shot_edit(body)
        checked = call_options(options, body_fields=_EDIT_FIELDS)
        data = await self._client._request(
            "POST",
            path,
            json={k: v for k, v in body.items() if v is not None},
            idempotency_key=idempotency_key or new_idempotency_key(),
            options=checked,
        )
        return self._client._load(data, Task)

    async def compose(
        self,
        task_id: str,
        shot_ids: Sequence[str],
        *,
        idempotency_key: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> Task:
        """Compose the selected storyboard shots into the final video (billed: 1 credit)."""
        path = f"/v1/music-video/tasks/{path_id('task_id', task_id)}/compose"
        check_compose({"shot_ids": shot_ids})
        checked = call_options(options, body_fields=("shot_ids",))
        data = await self._client._request(
            "POST",
            path,
            json={"shot_ids": list(shot_ids)},
            idempotency_key=idempotency_key or new_idempotency_key(),
            options=checked,
        )
        return self._client._load(data, Task)
