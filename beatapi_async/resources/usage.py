"""``client.usage``: balance, totals and concurrency."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _models
from .._options import call_options
from .._validate import check_usage_period
from ._common import Resource

if TYPE_CHECKING:
    from .._models import Usage
    from .._options import RequestOptions, Unpack
    from .._params import UsagePeriod


class Usages(Resource):
    """``GET /v1/usage``."""

    async def get(self, *, period: UsagePeriod | None = None, **options: Unpack[RequestOptions]) -> Usage:
        """Get the account's usage; ``period`` is one of 24h, 7d, 30d, all (default: all)."""
        if period is not None:
            check_usage_period(period)
        checked = call_options(options, params=("period",))
        data = await self._client._request("GET", "/v1/usage", params={"period": period}, options=checked)
        return self._client._load(data, _models.Usage)
