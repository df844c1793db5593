"""Fault injection: error answers, raw bodies, resets, stalls, lost answers, counts."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from ._support import Api


async def test_status_without_retryable(api: Api) -> None:
    fault = api.fake.add_fault("GET", "/v1/usage", status=503)
    reply = await api.get("/v1/usage")
    assert reply.status == 503
    assert reply.error["code"] == "processing_unavailable"
    assert "retryable" not in reply.error and "Retry-After" not in reply.headers
    assert fault.fired == 1 and api.fake.faults == []
    assert (await api.get("/v1/usage")).status == 200  # times=1: gone


async def test_status_with_retryable_retry_after_and_message(api: Api) -> None:
    api.fake.add_fault("GET", "/v1/tasks/*", status=429, retryable=True, retry_after=2, message="slow down")
    reply = await api.get("/v1/tasks/task_x")
    assert reply.status == 429
    assert reply.error == {
        "code": "rate_limit_exceeded", "message": "slow down", "request_id": reply.headers["x-request-id"],
        "retry_after_seconds": 2, "retryable": True,
    }  # fmt: skip
    assert reply.headers["Retry-After"] == "2"
    api.fake.add_fault("GET", "/v1/usage", status=500, code="internal_error", retryable=False)
    reply = await api.get("/v1/usage")
    assert reply.status == 500 and reply.error["retryable"] is False


async def test_code_alone_picks_its_status(api: Api) -> None:
    api.fake.add_fault("POST", "/v1/files", code="forbidden")
    reply = await api.post("/v1/files", {})
    assert reply.status == 403 and reply.error["code"] == "forbidden"


async def test_malformed_json_and_html_bodies(api: Api) -> None:
    api.fake.add_fault("GET", "/v1/usage", body='{"data": {"object": ')
    reply = await api.get("/v1/usage", check=False)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.body is None and reply.raw == b'{"data": {"object": '
    api.fake.add_fault("GET", "/v1/usage", status=502, body="<html><body>Bad gateway</body></html>")
    reply = await api.get("/v1/usage", check=False)
    assert reply.status == 502
    assert reply.headers["Content-Type"].startswith("text/html")
    api.fake.add_fault("GET", "/v1/usage", status=403, body=b"error code: 1010", content_type="text/plain")
    reply = await api.get("/v1/usage", check=False)
    assert (reply.status, reply.raw) == (403, b"error code: 1010")


async def test_reset_drops_the_connection(api: Api) -> None:
    api.fake.add_fault("POST", "/v1/webhooks", reset=True)
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.post("/v1/webhooks", {"url": "https://x.example.com"})
    assert api.fake.requests[-1].status is None
    assert (await api.get("/v1/usage")).status == 200


async def test_aiohttp_retries_an_idempotent_request_once_after_a_reset(api: Api) -> None:
    # aiohttp's client re-sends GET/PUT/DELETE once when the server drops the
    # connection, so a reset seen by the caller takes two faults.
    api.fake.add_fault("GET", "/v1/usage", reset=True)
    assert (await api.get("/v1/usage")).status == 200
    assert [r.status for r in api.fake.requests] == [None, 200]
    api.fake.add_fault("GET", "/v1/usage", reset=True, times=2)
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.get("/v1/usage")


async def test_stall_delays_then_answers(api: Api) -> None:
    api.fake.add_fault("GET", "/v1/usage", stall=0.2)
    timeout = aiohttp.ClientTimeout(total=0.05)
    with pytest.raises(asyncio.TimeoutError):
        async with api.session.get(
            api.fake.base_url + "/v1/usage", headers={"Authorization": f"Bearer {api.fake.api_key}"}, timeout=timeout
        ):
            pass
    api.fake.add_fault("GET", "/v1/usage", stall=0.05)
    started = time.monotonic()
    reply = await api.get("/v1/usage")
    assert reply.status == 200
    assert time.monotonic() - started >= 0.05


async def test_after_runs_the_handler_then_loses_the_answer(api: Api) -> None:
    api.fake.add_fault("POST", "/v1/ecommerce-video/tasks", status=502, after=True)
    reply = await api.create_ec()
    assert reply.status == 502
    assert len(api.fake.tasks) == 1  # the task exists and was charged
    assert api.fake.credit_balance == 10_000 - 225
    api.fake.add_fault("POST", "/v1/ecommerce-video/tasks", reset=True, after=True)
    with pytest.raises(aiohttp.ClientConnectionError):
        await api.create_ec()
    assert len(api.fake.tasks) == 2


async def test_times_method_glob_and_clear(api: Api) -> None:
    api.fake.add_fault("*", "/v1/webhooks*", status=500, times=2)
    assert (await api.get("/v1/webhooks")).status == 500
    assert (await api.post("/v1/webhooks", {"url": "https://x.example.com"})).status == 500
    assert (await api.get("/v1/webhooks")).status == 200
    forever = api.fake.add_fault("GET", "/v1/usage", status=503, times=None)
    for _ in range(3):
        assert (await api.get("/v1/usage")).status == 503
    assert forever.fired == 3 and api.fake.faults == [forever]
    api.fake.clear_faults()
    assert (await api.get("/v1/usage")).status == 200


async def test_faults_come_before_auth_and_routing(api: Api) -> None:
    api.fake.add_fault("GET", "/anything", status=503)
    assert (await api.get("/anything", auth=False)).status == 503
    api.fake.add_fault("GET", "/v1/workflows", status=429, retry_after=1)
    reply = await api.get("/v1/workflows", auth=False)
    assert reply.status == 429 and reply.headers["Retry-After"] == "1"


async def test_fault_arguments_are_checked(api: Api) -> None:
    with pytest.raises(ValueError):
        api.fake.add_fault("GET", "/v1/usage", code="internal_error", body="x")
    with pytest.raises(ValueError):
        api.fake.add_fault("GET", "/v1/usage", status=500, times=0)
