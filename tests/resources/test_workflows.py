"""``client.workflows`` and ``client.usage`` over real loopback HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest

from beatapi_async import AsyncBeatAPI, AuthenticationError, RequestValidationError, Usage, Workflow

from .._loopback import LoopbackBeatAPI


async def test_workflows_list(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    workflows = await live.workflows.list()
    assert [w.id for w in workflows] == ["music-video", "ecommerce-video"]
    assert all(isinstance(w, Workflow) for w in workflows)
    assert workflows[0].name == "Music Video API"
    (seen,) = server.seen("GET", "/v1/workflows")
    assert "Authorization" not in seen.headers
    assert seen.headers["User-Agent"].startswith("beatapi-async/")
    assert seen.headers["Accept"] == "application/json"


async def test_usage_get(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    usage = await live.usage.get()
    assert isinstance(usage, Usage)
    assert usage.credit_balance == Decimal(1080) and isinstance(usage.credit_balance, Decimal)
    assert (usage.concurrency.limit, usage.concurrency.active) == (2, 1)
    assert usage.realtime is not None and usage.realtime.sessions == 3
    assert [w.workflow for w in usage.by_workflow] == ["music-video", "ecommerce-video"]
    assert server.seen("GET", "/v1/usage")[0].query == {}


@pytest.mark.parametrize("period", ["24h", "7d", "30d", "all"])
async def test_usage_period(live: AsyncBeatAPI, server: LoopbackBeatAPI, period: str) -> None:
    await live.usage.get(period=period)
    assert server.seen("GET", "/v1/usage")[0].query == {"period": period}


@pytest.mark.parametrize("period", ["1y", "", "7D", 7])
async def test_usage_bad_period(live: AsyncBeatAPI, server: LoopbackBeatAPI, period: object) -> None:
    with pytest.raises(RequestValidationError, match="period"):
        await live.usage.get(period=period)  # type: ignore[arg-type]
    assert server.requests == []


async def test_wrong_key_is_authentication_error(server: LoopbackBeatAPI) -> None:
    async with AsyncBeatAPI("sk_wrong_key_000", base_url=server.url) as c:
        with pytest.raises(AuthenticationError) as info:
            await c.usage.get()
    assert info.value.status == 401 and info.value.code == "unauthorized"
    assert len(server.requests) == 1  # 401 is not retried
