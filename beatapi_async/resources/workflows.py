"""``client.workflows``: the workflows tasks can be created with."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _models
from .._options import call_options
from ._common import Resource

if TYPE_CHECKING:
    from .._models import Workflow
    from .._options import RequestOptions, Unpack


class Workflows(Resource):
    """``GET /v1/workflows`` (anonymous: no Authorization header is sent)."""

    async def list(self, **options: Unpack[RequestOptions]) -> list[Workflow]:
        """List the launch workflows."""
        data = await self._client._request("GET", "/v1/workflows", auth=False, options=call_options(options))
        return self._client._load_list(data, _models.Workflow)
