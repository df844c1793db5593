"""``client.usage``: balance, totals and concurrency."""

from __future__ import annotations

from .._config import NOT_GIVEN
from .._models import Usage
from .._validate import check_usage_period
from ._common import Resource, TimeoutArg


class Usages(Resource):
    """``GET /v1/usage``."""

    async def get(self, *, period: str | None = None, timeout: TimeoutArg = NOT_GIVEN) -> Usage:
        """Get the account's usage; ``period`` is one of 24h, 7d, 30d, all (default: all)."""
        if period is not None:
            check_usage_period(period)
        data = await self._client._request("GET", "/v1/usage", params={"period": period}, timeout=timeout)
        return self._client._load(data, Usage)
