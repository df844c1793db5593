"""``client.realtime`` over real loopback HTTP."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from beatapi_async import AsyncBeatAPI, RealtimeSession, RequestValidationError

from .._loopback import LoopbackBeatAPI, error


async def test_create_session(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    s = await live.realtime.create_session(
        max_duration_seconds=60, allowed_origins=["https://app.example.com"], metadata={"customer_id": "cus_123"}
    )
    assert isinstance(s, RealtimeSession)
    assert s.client_secret == "brt_live_example" and "brt_live_example" not in repr(s)
    assert s.expires_at == datetime(2026, 7, 31, 15, 30, tzinfo=timezone.utc)
    (seen,) = server.seen("POST", "/v1/realtime/sessions")
    key = seen.headers["Idempotency-Key"]
    assert key and len(key) <= 128
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.json == {
        "max_duration_seconds": 60,
        "allowed_origins": ["https://app.example.com"],
        "metadata": {"customer_id": "cus_123"},
    }


async def test_create_session_retry_reuses_key(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    server.script("POST", "/v1/realtime/sessions", error(503, "realtime_capacity_unavailable"))
    await live.realtime.create_session(
        max_duration_seconds=15, allowed_origins=["https://a.example.com"], idempotency_key="session-for-order-7"
    )
    first, second = server.seen("POST")
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"] == "session-for-order-7"
    assert first.body == second.body
    assert "metadata" not in second.json  # nothing sent that was not given


async def test_get_and_close_session(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    s = await live.realtime.get_session("rts_01JEXAMPLE")
    assert s.status == "ready" and s.client_secret is None
    closed = await live.realtime.close_session("rts_01JEXAMPLE")
    assert closed.status == "closed" and closed.closed_at is not None
    assert closed.credits is not None and closed.credits.refunded == 60
    assert [(r.method, r.raw_path) for r in server.requests] == [
        ("GET", "/v1/realtime/sessions/rts_01JEXAMPLE"),
        ("DELETE", "/v1/realtime/sessions/rts_01JEXAMPLE"),
    ]


async def test_session_id_encoded(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    await live.realtime.get_session("rts_a/b")
    await live.realtime.close_session("rts_a/b")
    assert [r.raw_path for r in server.requests] == ["/v1/realtime/sessions/rts_a%2Fb"] * 2


async def test_bad_session_input_sends_nothing(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    with pytest.raises(RequestValidationError, match="max_duration_seconds"):
        await live.realtime.create_session(max_duration_seconds=30, allowed_origins=["https://a.example.com"])
    with pytest.raises(RequestValidationError, match="session_id"):
        await live.realtime.close_session("")
    assert server.requests == []
