"""``client.ecommerce_video``: product images to an ad video."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .._config import NOT_GIVEN
from .._models import EcommerceVideoRequest, Task
from ._common import Resource, TimeoutArg, coerce_request, create_task


class EcommerceVideo(Resource):
    """``POST /v1/ecommerce-video/tasks``."""

    async def create(
        self,
        request: EcommerceVideoRequest | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
        **fields: Any,
    ) -> Task:
        """Create an Ecommerce Video task from a request object or keyword fields.

        Raises:
            RequestValidationError: a field breaks a rule (nothing is sent).
        """
        req = coerce_request(EcommerceVideoRequest, request, fields)
        return await create_task(self._client, req, idempotency_key=idempotency_key, timeout=timeout)
