"""``client.webhooks``: manage webhook endpoints (verifying deliveries: ``beatapi_async.webhooks``)."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from typing import TYPE_CHECKING

from .. import _models
from .._options import call_options
from .._validate import check_webhook_create, check_webhook_update, path_id
from ._common import Resource, as_list

if TYPE_CHECKING:
    from .._models import Deleted, WebhookEndpoint
    from .._options import BodyOptions, RequestOptions, Unpack
    from .._params import WebhookEventType, WebhookStatus

_FIELDS = ("url", "events", "description", "status")


class Webhooks(Resource):
    """``/v1/webhooks``. The signing secret is shown in full only by ``create``: store it then."""

    async def list(self, **options: Unpack[RequestOptions]) -> builtins.list[WebhookEndpoint]:
        """List the account's webhook endpoints (secrets masked)."""
        data = await self._client._request("GET", "/v1/webhooks", options=call_options(options))
        return self._client._load_list(data, _models.WebhookEndpoint)

    async def create(
        self,
        *,
        url: str,
        events: Sequence[WebhookEventType] | None = None,
        description: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> WebhookEndpoint:
        """Register an endpoint; the answer holds the full ``secret`` this once."""
        body = {"url": url, "events": as_list(events), "description": description}
        check_webhook_create(body)
        checked = call_options(options, body_fields=_FIELDS)
        # Not idempotent and not keyed: re-sent only if it provably never reached BeatAPI.
        data = await self._client._request(
            "POST", "/v1/webhooks", json={k: v for k, v in body.items() if v is not None}, options=checked
        )
        return self._client._load(data, _models.WebhookEndpoint)

    async def get(self, webhook_id: str, **options: Unpack[RequestOptions]) -> WebhookEndpoint:
        """Get one endpoint (secret masked)."""
        path = f"/v1/webhooks/{path_id('webhook_id', webhook_id)}"
        data = await self._client._request("GET", path, options=call_options(options))
        return self._client._load(data, _models.WebhookEndpoint)

    async def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        description: str | None = None,
        events: Sequence[WebhookEventType] | None = None,
        status: WebhookStatus | None = None,
        **options: Unpack[BodyOptions],
    ) -> WebhookEndpoint:
        """Change an endpoint; only the fields given are sent."""
        path = f"/v1/webhooks/{path_id('webhook_id', webhook_id)}"
        body = {"url": url, "description": description, "status": status, "events": as_list(events)}
        check_webhook_update(body)
        checked = call_options(options, body_fields=_FIELDS)
        data = await self._client._request(
            "PATCH", path, json={k: v for k, v in body.items() if v is not None}, options=checked
        )
        return self._client._load(data, _models.WebhookEndpoint)

    async def delete(self, webhook_id: str, **options: Unpack[RequestOptions]) -> Deleted:
        """Delete an endpoint."""
        path = f"/v1/webhooks/{path_id('webhook_id', webhook_id)}"
        checked = call_options(options)
        # A retry that finds the endpoint gone after an answer was lost: our delete did it.
        gone = {"id": webhook_id, "deleted": True}
        data = await self._client._request("DELETE", path, options=checked, done_if_gone=gone)
        return self._client._load(data, _models.Deleted)
