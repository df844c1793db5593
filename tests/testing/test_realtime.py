"""Realtime sessions: Idempotency-Key semantics, billing, close, expiry."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import pytest

from ._support import Api

BODY = {"max_duration_seconds": 60, "allowed_origins": ["https://app.example.com"], "metadata": {"customer": "c1"}}


async def create(api: Api, body: dict[str, Any] | None = None, key: str = "key-1") -> tuple[int, dict[str, Any]]:
    reply = await api.post("/v1/realtime/sessions", body or BODY, headers={"Idempotency-Key": key})
    return reply.status, reply.body


def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@pytest.mark.beatapi_fake(speed=1)
async def test_create_reserves_and_returns_the_secret_once(api: Api) -> None:
    status, body = await create(api)
    assert status == 201
    session = body["data"]
    assert session["id"].startswith("rts_") and session["object"] == "realtime.session"
    assert session["status"] == "ready"
    assert session["client_secret"].startswith("brt_live_")
    assert session["credits"] == {"reserved": 60, "settled": 0, "refunded": 0}
    assert session["connected_at"] is None and session["closed_at"] is None
    assert (parse_iso(session["expires_at"]) - parse_iso(session["created_at"])).total_seconds() == 60
    assert api.fake.credit_balance == 10_000 - 60
    got = (await api.get(f"/v1/realtime/sessions/{session['id']}")).data
    assert "client_secret" not in got
    assert got["id"] == session["id"]


@pytest.mark.beatapi_fake(speed=1)
async def test_same_key_same_body_is_the_same_session(api: Api) -> None:
    _, first = await create(api)
    status, second = await create(api)
    assert status == 201
    assert second["data"]["id"] == first["data"]["id"]
    assert second["data"]["client_secret"] == first["data"]["client_secret"]
    assert len(api.fake.sessions) == 1
    assert api.fake.credit_balance == 10_000 - 60  # reserved once
    status, other = await create(api, key="key-2")
    assert status == 201 and other["data"]["id"] != first["data"]["id"]


async def test_same_key_other_body_is_409(api: Api) -> None:
    await create(api)
    status, body = await create(api, {**BODY, "max_duration_seconds": 15})
    assert status == 409
    assert body["error"]["code"] == "idempotency_conflict"
    assert len(api.fake.sessions) == 1


@pytest.mark.parametrize(
    ("headers", "field"), [({}, "Idempotency-Key"), ({"Idempotency-Key": "k" * 129}, "Idempotency-Key")]
)
async def test_idempotency_key_is_required_and_bounded(api: Api, headers: dict[str, Any], field: str) -> None:
    reply = await api.post("/v1/realtime/sessions", BODY, headers=headers)
    assert reply.status == 400
    assert reply.error["details"]["field"] == field
    assert api.fake.sessions == {}
    ok = await api.post("/v1/realtime/sessions", BODY, headers={"Idempotency-Key": "k" * 128})
    assert ok.status == 201


@pytest.mark.parametrize(
    "body",
    [
        {"max_duration_seconds": 30, "allowed_origins": ["https://a.example.com"]},
        {"max_duration_seconds": 60, "allowed_origins": []},
        {"max_duration_seconds": 60, "allowed_origins": ["https://a.example.com/path"]},
        {"max_duration_seconds": 60, "allowed_origins": [f"https://a{i}.example.com" for i in range(11)]},
        {"max_duration_seconds": 60, "allowed_origins": ["https://a.example.com"], "metadata": {"k": "v" * 257}},
    ],
)
async def test_create_is_validated(api: Api, body: dict[str, Any]) -> None:
    status, reply = await create(api, body)
    assert status == 400
    assert reply["error"]["code"] == "bad_request"


@pytest.mark.beatapi_fake(speed=1)
async def test_close_refunds_an_unused_session_and_is_idempotent(api: Api) -> None:
    _, body = await create(api)
    session_id = body["data"]["id"]
    closed = await api.call("DELETE", f"/v1/realtime/sessions/{session_id}")
    assert closed.status == 200
    assert closed.data["status"] == "closed" and closed.data["closed_at"] is not None
    assert closed.data["credits"] == {"reserved": 60, "settled": 0, "refunded": 60}
    again = await api.call("DELETE", f"/v1/realtime/sessions/{session_id}")
    assert again.status == 200 and again.data["closed_at"] == closed.data["closed_at"]
    assert api.fake.credit_balance == 10_000
    assert (await api.call("DELETE", "/v1/realtime/sessions/rts_nope")).status == 404


@pytest.mark.beatapi_fake(speed=1)
async def test_active_session_settles_and_counts_in_usage(api: Api) -> None:
    _, body = await create(api)
    session_id = body["data"]["id"]
    api.fake.activate_session(session_id)
    active = (await api.get(f"/v1/realtime/sessions/{session_id}")).data
    assert active["status"] == "active" and active["connected_at"] is not None
    assert active["credits"]["settled"] == 60
    usage = (await api.get("/v1/usage")).data
    assert usage["realtime"] == {"sessions": 1, "credits": 60, "active": 1}
    closed = (await api.call("DELETE", f"/v1/realtime/sessions/{session_id}")).data
    assert closed["credits"] == {"reserved": 60, "settled": 60, "refunded": 0}
    assert (await api.get("/v1/usage")).data["realtime"]["active"] == 0
    assert api.fake.credit_balance == 10_000 - 60
    kinds = [(e.kind, e.session_id) for e in api.fake.ledger]
    assert kinds == [("charge", session_id), ("settle", session_id)]


async def test_unused_session_expires_and_is_refunded(api: Api) -> None:
    _, body = await create(api)  # ready for 60 BeatAPI s = 60 ms
    await asyncio.sleep(0.08)
    expired = (await api.get(f"/v1/realtime/sessions/{body['data']['id']}")).data
    assert expired["status"] == "expired"
    assert expired["credits"]["refunded"] == 60
    assert api.fake.credit_balance == 10_000


@pytest.mark.beatapi_fake(credit_balance=59)
async def test_insufficient_credits_is_402(api: Api) -> None:
    status, body = await create(api)
    assert status == 402
    assert body["error"]["code"] == "insufficient_credits"
    # A refused request does not burn its key.
    api.fake.credit_balance = 100
    status, _ = await create(api)
    assert status == 201


async def test_disabled_realtime_is_503(api: Api) -> None:
    api.fake.realtime_enabled = False
    status, body = await create(api)
    assert status == 503
    assert body["error"]["code"] == "realtime_disabled"
