"""The error tree: attributes, str() and repr() of every error."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from beatapi_async import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BeatAPIError,
    ConcurrencyLimitError,
    InvalidResponseError,
    RateLimitError,
    RequestValidationError,
    ServiceUnavailableError,
    Task,
    TaskFailedError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from beatapi_async._exceptions import error_class


def test_status_error_fields_and_str() -> None:
    e = RateLimitError(
        "Too many polls.",
        status=429,
        code="rate_limit_exceeded",
        request_id="req_9",
        retry_after=12.0,
        retryable=True,
        details={"limit": 120},
    )
    assert (e.status, e.code, e.message, e.request_id, e.retry_after, e.retryable, e.details) == (
        429,
        "rate_limit_exceeded",
        "Too many polls.",
        "req_9",
        12.0,
        True,
        {"limit": 120},
    )
    assert str(e) == "429 rate_limit_exceeded: Too many polls. (request_id=req_9)"
    assert "req_9" in repr(e) and "RateLimitError" in repr(e)


def test_str_without_request_id() -> None:
    e = BadRequestError("bad", status=400, code="bad_request")
    assert str(e) == "400 bad_request: bad (request_id=none)"


def test_error_class_table() -> None:
    assert error_class(429, "user_concurrency_exceeded") is ConcurrencyLimitError
    assert error_class(429, "rate_limit_exceeded") is RateLimitError
    assert error_class(429, None) is RateLimitError
    assert error_class(503, None) is ServiceUnavailableError
    assert error_class(418, None) is APIStatusError


def test_connection_errors() -> None:
    assert APIConnectionError().sent is True
    assert APIConnectionError("refused", sent=False).sent is False
    t = APITimeoutError()
    assert isinstance(t, APIConnectionError) and isinstance(t, TimeoutError)


def test_invalid_response_str() -> None:
    e = InvalidResponseError("expected data", status=200, request_id="req_2")
    assert str(e) == "200 invalid_response: expected data (request_id=req_2)"
    assert str(InvalidResponseError("x")) == "invalid_response: x (request_id=none)"


def test_request_validation_error() -> None:
    e = RequestValidationError("images", "must contain 1-7 items")
    assert isinstance(e, ValueError) and isinstance(e, BeatAPIError)
    assert (e.field, e.rule) == ("images", "must contain 1-7 items")
    assert (e.code, e.request_id) == ("validation_error", None)
    assert str(e) == "validation_error: images: must contain 1-7 items (request_id=none)"


def test_task_failed_error() -> None:
    task = Task(
        id="task_1", status="failed", error_code="processing_failed", error_message="No output.", request_id="req_f"
    )
    e = TaskFailedError(task)
    assert e.task is task and e.code == "processing_failed"
    assert str(e) == "task task_1 failed: processing_failed: No output. (request_id=req_f)"


def test_wait_timeout_error() -> None:
    task = Task(id="task_1", status="processing", created_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    e = WaitTimeoutError("task_1", last_task=task, elapsed=3.25)
    assert isinstance(e, TimeoutError)
    assert (e.task_id, e.last_task, e.elapsed) == ("task_1", task, 3.25)
    assert "task_1" in str(e) and "processing" in str(e)


def test_webhook_verification_error() -> None:
    e = WebhookVerificationError("signature mismatch")
    assert e.reason == "signature mismatch" and e.code == "webhook_invalid" and e.request_id is None
    assert str(e) == "webhook_invalid: signature mismatch (request_id=none)"


def test_missing_key_error_is_authentication_error() -> None:
    e = AuthenticationError("No API key: set BEATAPI_API_KEY", status=None, code="missing_api_key")
    assert str(e).startswith("missing_api_key: ")


@pytest.mark.parametrize("cls", [BeatAPIError, APIConnectionError, InvalidResponseError])
def test_plain_errors_str_is_message(cls: type[BeatAPIError]) -> None:
    e = cls("something")
    assert "something" in str(e)


def test_task_failed_error_without_code_is_task_failed() -> None:
    e = TaskFailedError(Task(id="task_2", status="failed"))
    assert (e.code, e.request_id) == ("task_failed", None)
    assert str(e) == "task task_2 failed: task_failed: The task failed. (request_id=none)"


def test_wait_timeout_error_code_and_last_request_id() -> None:
    task = Task(id="task_1", status="processing", request_id="req_w")
    e = WaitTimeoutError("task_1", last_task=task, elapsed=1.0)
    assert (e.code, e.request_id) == ("wait_timeout", "req_w")
    assert str(e).startswith("wait_timeout: task task_1 still processing") and str(e).endswith("(request_id=req_w)")
    assert WaitTimeoutError("t", last_task=None, elapsed=0.0).request_id is None


def test_connection_and_timeout_codes() -> None:
    assert (APIConnectionError().code, APIConnectionError().request_id) == ("connection_error", None)
    assert APITimeoutError().code == "timeout"
    assert str(APITimeoutError("slow")) == "timeout: slow (request_id=none)"


def test_invalid_response_code() -> None:
    e = InvalidResponseError("x", status=200, request_id="req_3")
    assert (e.code, e.request_id) == ("invalid_response", "req_3")


def test_status_error_without_code_gets_one() -> None:
    assert APIStatusError("teapot", status=418).code == "http_418"
    assert str(APIStatusError("teapot", status=418)) == "418 http_418: teapot (request_id=none)"
    assert APIStatusError("odd", status=None).code == "api_error"


def test_base_error_code_is_declared_and_settable() -> None:
    e = BeatAPIError("the client was closed", code="client_closed")
    assert (e.code, e.request_id) == ("client_closed", None)
    assert str(e) == "client_closed: the client was closed (request_id=none)"
    assert BeatAPIError("x").code == "beatapi_error"
    assert "client_closed" in repr(e)


@pytest.mark.parametrize(
    "error",
    [
        BeatAPIError("m"),
        RateLimitError("m", status=429, code="rate_limit_exceeded", request_id="r"),
        APIConnectionError(),
        APITimeoutError(),
        InvalidResponseError("m"),
        RequestValidationError("f", "r"),
        TaskFailedError(Task(id="t", status="failed")),
        WaitTimeoutError("t", last_task=None, elapsed=0),
        WebhookVerificationError("r"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_every_error_has_a_code_and_a_request_id(error: BeatAPIError) -> None:
    # ``except BeatAPIError as e: e.code`` must work for every error the SDK raises.
    assert isinstance(error.code, str) and error.code
    assert error.request_id is None or isinstance(error.request_id, str)
    assert error.code in str(error) and "request_id=" in str(error)


async def test_closed_client_error_has_code_client_closed() -> None:
    from beatapi_async import AsyncBeatAPI

    client = AsyncBeatAPI(api_key="sk_test_closed", base_url="http://127.0.0.1:9")
    await client.aclose()
    with pytest.raises(BeatAPIError) as info:
        await client.tasks.get("task_1")
    assert (info.value.code, info.value.request_id) == ("client_closed", None)
