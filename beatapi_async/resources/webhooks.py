"""``client.webhooks``: manage webhook endpoints (verifying deliveries: ``beatapi_async.webhooks``)."""

from __future__ import annotations

from collections.abc import Sequence

from .._config import NOT_GIVEN
from .._models import Deleted, WebhookEndpoint
from .._validate import check_webhook_create, check_webhook_update, path_id
from ._common import Resource, TimeoutArg, as_list


class Webhooks(Resource):
    """``/v1/webhooks``. The signing secret is shown in full only by ``create``: store it then."""

    async def list(self, *, timeout: TimeoutArg = NOT_GIVEN) -> list[WebhookEndpoint]:
        """List the account's webhook endpoints (secrets masked)."""
        data = await self._client._request("GET", "/v1/webhooks", timeout=timeout)
        return self._client._load_list(data, WebhookEndpoint)

    async def create(
        self,
        *,
        url: str,
        events: Sequence[str] | None = None,
        description: str | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> WebhookEndpoint:
        """Register an endpoint; the answer holds the full ``secret`` this once."""
        body = {"url": url, "events": as_list(events), "description": description}
        check_webhook_create(body)
        # Not idempotent and not keyed: re-sent only if it provably never reached BeatAPI.
        data = await self._client._request(
            "POST", "/v1/webhooks", json={k: v for k, v in body.items() if v is not None}, timeout=timeout
        )
        return self._client._load(data, WebhookEndpoint)

    async def get(self, webhook_id: str, *, timeout: TimeoutArg = NOT_GIVEN) -> WebhookEndpoint:
        """Get one endpoint (secret masked)."""
        data = await self._client._request("GET", f"/v1/webhooks/{path_id('webhook_id', webhook_id)}", timeout=timeout)
        return self._client._load(data, WebhookEndpoint)

    async def update(
        self,
        webhook_id: str,
        *,
        url: str | None = None,
        description: str | None = None,
        events: Sequence[str] | None = None,
        status: str | None = None,
        timeout: TimeoutArg = NOT_GIVEN,
    ) -> WebhookEndpoint:
        """Change an endpoint; only the fields given are sent."""
        path = f"/v1/webhooks/{path_id('webhook_id', webhook_id)}"
        body = {"url": url, "description": description, "status": status, "events": as_list(events)}
        check_webhook_update(body)
        data = await self._client._request(
            "PATCH", path, json={k: v for k, v in body.items() if v is not None}, timeout=timeout
        )
        return self._client._load(data, WebhookEndpoint)

    async def delete(self, webhook_id: str, *, timeout: TimeoutArg = NOT_GIVEN) -> Deleted:
        """Delete an endpoint."""
        path = f"/v1/webhooks/{path_id('webhook_id', webhook_id)}"
        # A retry that finds the endpoint gone after an answer was lost: our delete did it.
        gone = {"id": webhook_id, "deleted": True}
        data = await self._client._request("DELETE", path, timeout=timeout, done_if_gone=gone)
        return self._client._load(data, Deleted)

