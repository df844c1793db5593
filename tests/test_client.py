"""``AsyncBeatAPI``: construction, ``_request`` decoding and logging (keys never logged)."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aioresponses import aioresponses

from beatapi_async import (
    AsyncBeatAPI,
    InvalidResponseError,
    PollPolicy,
    RequestValidationError,
    ServiceUnavailableError,
    Timeouts,
)
from beatapi_async._client import logger as client_logger

from ._helpers import MOCK_BASE, Sleeps, error_body
from ._loopback import task

PLAIN_KEY = "plainkey-0123456789abcdef"  # no sk_ prefix: redaction must not rely on the pattern
TASK_URL = f"{MOCK_BASE}/v1/tasks/task_1"


def test_repr_and_properties() -> None:
    c = AsyncBeatAPI(
        PLAIN_KEY,
        base_url="https://api.beatapi.io/",
        timeout=Timeouts(read=5),
        max_retries=1,
        poll=PollPolicy(interval=0.05, max_interval=0.1, budget_per_minute=6000),
    )
    assert PLAIN_KEY not in repr(c) and "api.beatapi.io" in repr(c)
    assert c.base_url == "https://api.beatapi.io"
    assert c.timeout == Timeouts(read=5) and c.max_retries == 1
    assert c.poll_policy.interval == 0.05
    for name in ("workflows", "usage", "files", "tasks", "music_video", "ecommerce_video", "webhooks", "realtime"):
        assert getattr(c, name) is not None


async def test_wrong_shape_message_is_redacted(mocked: aioresponses) -> None:
    mocked.get(
        TASK_URL, payload={"data": {"id": "task_1", "status": "queued", "usage": {"credits_charged": PLAIN_KEY}}}
    )
    async with AsyncBeatAPI(PLAIN_KEY) as c:
        with pytest.raises(InvalidResponseError, match="credits_charged") as info:
            await c.tasks.get("task_1")
    assert PLAIN_KEY not in str(info.value)


async def test_logging_of_a_run_with_failures(mocked: aioresponses, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="beatapi_async")
    mocked.get(
        TASK_URL,
        status=503,
        payload=error_body("processing_unavailable", f"key {PLAIN_KEY} is busy"),
        headers={"x-request-id": "req_hdr_1"},
    )
    mocked.get(TASK_URL, status=429, payload=error_body("rate_limit_exceeded", retry_after_seconds=3))
    mocked.get(TASK_URL, payload={"data": task("task_1")}, headers={"x-request-id": "req_ok_9"})
    mocked.get(f"{MOCK_BASE}/v1/usage", status=503, body=f"<html>{PLAIN_KEY}</html>", repeat=True)
    sleeps = Sleeps()
    async with AsyncBeatAPI(PLAIN_KEY, retry_sleep=sleeps, max_retries=2) as c:
        await c.tasks.get("task_1", timeout=Timeouts(read=1))
        with pytest.raises(ServiceUnavailableError):
            await c.usage.get()

    records = [r for r in caplog.records if r.name.startswith("beatapi_async")]
    text = "\n".join(r.getMessage() for r in records)
    assert "GET /v1/tasks/task_1 -> 503" in text and "GET /v1/tasks/task_1 -> 200" in text
    assert "-> 503 processing_unavailable request_id=req_err_1 attempt=1" in text  # the body's id wins
    assert "-> 429 rate_limit_exceeded request_id=req_err_1 attempt=2" in text
    assert "request_id=req_ok_9 attempt=3" in text
    assert "retry 1 of 2" in text and "retry 2 of 2" in text and "retry 3" not in text
    assert "retrying GET /v1/tasks/task_1 in" in text
    assert any(f"in {d:.2f}s" in text for d in sleeps.delays)  # the delay is logged
    assert "GET /v1/usage -> 503" in text
    for r in caplog.records:
        blob = " ".join([r.getMessage(), str(r.msg), repr(r.args), str(r.exc_info or "")])
        assert PLAIN_KEY not in blob
    assert PLAIN_KEY not in caplog.text


async def test_log_env_turns_logging_on(monkeypatch: pytest.MonkeyPatch) -> None:
    saved = (list(client_logger.handlers), client_logger.level)
    for h in saved[0]:
        client_logger.removeHandler(h)
    try:
        monkeypatch.setenv("BEATAPI_LOG", "debug")
        AsyncBeatAPI(PLAIN_KEY)
        assert client_logger.level == logging.DEBUG and len(client_logger.handlers) == 1
        AsyncBeatAPI(PLAIN_KEY)  # a second client adds no second handler
        assert len(client_logger.handlers) == 1
    finally:
        for h in list(client_logger.handlers):
            client_logger.removeHandler(h)
        for h in saved[0]:
            client_logger.addHandler(h)
        client_logger.setLevel(saved[1])


async def test_info_level_logs_only_failures(mocked: aioresponses, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="beatapi_async")
    mocked.get(TASK_URL, status=502, body="")
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    async with AsyncBeatAPI(PLAIN_KEY, retry_sleep=Sleeps()) as c:
        await c.tasks.get("task_1")
    text = caplog.text
    assert "-> 502" in text and "retrying GET /v1/tasks/task_1" in text
    assert "-> 200" not in text  # successes are DEBUG


def test_logger_redacts_known_key_shapes(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="beatapi_async")
    client_logger.info("sent %s with %s", "Bearer sk_live_abcdef123456", {"secret": "whsec_abcdef"})
    assert "sk_live_abcdef123456" not in caplog.text and "whsec_abcdef" not in caplog.text


@pytest.mark.parametrize(
    ("args", "field"),
    [
        ({"api_key": 5}, "api_key"),
        ({"api_key": "sk_a\nX-Evil: 1"}, "api_key"),
        ({"poll": "fast"}, "poll"),
        ({"user_agent": "me\r\nX-Evil: 1"}, "user_agent"),
        ({"timeout": "slow"}, "timeout"),
    ],
)
def test_bad_arguments(args: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestValidationError, match=field):
        AsyncBeatAPI(**args)
