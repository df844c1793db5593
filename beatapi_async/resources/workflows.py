"""``client.workflows``: the workflows tasks can be created with."""

from __future__ import annotations

from .._config import NOT_GIVEN
from .._models import Workflow
from ._common import Resource, TimeoutArg


class Workflows(Resource):
    """``GET /v1/workflows`` (anonymous: no Authorization header is sent)."""

    async def list(self, *, timeout: TimeoutArg = NOT_GIVEN) -> list[Workflow]:
        """List the launch workflows."""
        data = await self._client._request("GET", "/v1/workflows", auth=False, timeout=timeout)
        return self._client._load_list(data, Workflow)
