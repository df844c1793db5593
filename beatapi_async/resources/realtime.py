"""``client.realtime``: short-lived browser sessions (give the browser only ``client_secret``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from .. import _models
from .._options import call_options
from .._validate import check_realtime_session, path_id
from ._common import Resource, as_list, new_idempotency_key

if TYPE_CHECKING:
    from .._models import RealtimeSession
    from .._options import BodyOptions, RequestOptions, Unpack
    from .._params import RealtimeDuration

_FIELDS = ("max_duration_seconds", "allowed_origins", "metadata")


class Realtime(Resource):
    """``/v1/realtime/sessions``."""

    async def create_session(
        self,
        *,
        max_duration_seconds: RealtimeDuration,
        allowed_origins: Sequence[str],
        metadata: Mapping[str, str] | None = None,
        idempotency_key: str | None = None,
        **options: Unpack[BodyOptions],
    ) -> RealtimeSession:
        """Create a session (billed; one Idempotency-Key per call, reused on retries).

        If your code fails after this returns, close the session: one that never went
        active is refunded.
        """
        body = {
            "max_duration_seconds": max_duration_seconds,
            "allowed_origins": as_list(allowed_origins),
            "metadata": dict(metadata) if isinstance(metadata, Mapping) else metadata,
        }
        check_realtime_session(body)
        checked = call_options(options, body_fields=_FIELDS)
        data = await self._client._request(
            "POST",
            "/v1/realtime/sessions",
            json={k: v for k, v in body.items() if v is not None},
            idempotency_key=idempotency_key or new_idempotency_key(),
            options=checked,
        )
        return self._client._load(data, _models.RealtimeSession)

    async def get_session(self, session_id: str, **options: Unpack[RequestOptions]) -> RealtimeSession:
        """Get a session."""
        path = f"/v1/realtime/sessions/{path_id('session_id', session_id)}"
        data = await self._client._request("GET", path, options=call_options(options))
        return self._client._load(data, _models.RealtimeSession)

    async def close_session(self, session_id: str, **options: Unpack[RequestOptions]) -> RealtimeSession:
        """Close a session (idempotent; releases capacity, refunds one that never went active)."""
        path = f"/v1/realtime/sessions/{path_id('session_id', session_id)}"
        data = await self._client._request("DELETE", path, options=call_options(options))
        return self._client._load(data, _models.RealtimeSession)
