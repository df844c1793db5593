"""``client.ecommerce_video``: product images to an ad video."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .. import _models
from .._models import Task
from ._common import Resource, coerce_request, create_task

if TYPE_CHECKING:
    from .._models import EcommerceVideoRequest
    from .._options import Unpack
    from .._params import EcommerceVideoCreate


class EcommerceVideo(Resource):
    """``POST /v1/ecommerce-video/tasks``."""

    async def create(
        self,
        request: EcommerceVideoRequest | Mapping[str, Any] | None = None,
        /,
        *,
        idempotency_key: str | None = None,
        **fields: Unpack[EcommerceVideoCreate],
    ) -> Task:
        """Create an Ecommerce Video task from a request object or keyword fields.

        Keyword arguments are the request's fields and the per-call options
        (``timeout``, ``max_retries``, ``extra_headers``, ``extra_query``, ``extra_body``).

        Raises:
            RequestValidationError: a field breaks a rule (nothing is sent).
        """
        req, options = coerce_request(_models.EcommerceVideoRequest, request, fields)
        return await create_task(self._client, req, idempotency_key=idempotency_key, options=options)
