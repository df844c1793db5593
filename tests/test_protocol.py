"""The pure protocol: URLs, bodies, error mapping, Retry-After, envelopes, redaction."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beatapi_async import (
    APIStatusError,
    BadRequestError,
    InvalidResponseError,
    NotFoundError,
    ServiceUnavailableError,
)
from beatapi_async._protocol import (
    Response,
    build_url,
    decode_data,
    encode_json,
    error_from_response,
    parse_retry_after,
    redact,
    unwrap_list,
)

from ._helpers import STATUS_CASES, fixture


def resp(status: int, body: Any = b"", **headers: str) -> Response:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Response(status=status, headers={k.lower().replace("_", "-"): v for k, v in headers.items()}, body=raw)


def err(code: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": f"{code} happened", "request_id": "req_1", **extra}}


def test_build_url() -> None:
    assert build_url("https://a.io", "/v1/usage") == "https://a.io/v1/usage"
    assert build_url("https://a.io", "/v1/usage", {"period": "7d"}) == "https://a.io/v1/usage?period=7d"
    assert build_url("https://a.io", "/v1/usage", {"period": None}) == "https://a.io/v1/usage"


def test_encode_json_compact_utf8() -> None:
    assert encode_json({"prompt": "北京", "n": 1}) == '{"prompt":"北京","n":1}'.encode()


@pytest.mark.parametrize(("status", "code", "cls"), STATUS_CASES)
def test_error_mapping(status: int, code: str, cls: type[APIStatusError]) -> None:
    e = error_from_response(resp(status, err(code, retryable=False, details={"field": "images"})))
    assert type(e) is cls
    assert (e.status, e.code, e.message, e.request_id) == (status, code, f"{code} happened", "req_1")
    assert e.retryable is False
    assert e.details == {"field": "images"}
    assert str(status) in str(e) and code in str(e) and "req_1" in str(e)


def test_golden_error_fixture() -> None:
    body = fixture("api-error.json")
    e = error_from_response(resp(400, body))
    assert isinstance(e, BadRequestError)
    assert e.code == "bad_request" and e.request_id == "req_example_error"
    assert e.retry_after is None and e.retryable is None and e.details is None


def test_retry_after_from_body_and_header() -> None:
    e = error_from_response(resp(429, err("rate_limit_exceeded", retry_after_seconds=12), retry_after="3"))
    assert e.retry_after == 12
    e = error_from_response(resp(429, err("rate_limit_exceeded"), retry_after="7"))
    assert e.retry_after == 7


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    headers = {
        "retry-after": format_datetime(now + timedelta(seconds=30), usegmt=True),
        "date": format_datetime(now, usegmt=True),
    }
    assert parse_retry_after(headers) == 30
    assert parse_retry_after({"retry-after": "garbage"}) is None
    assert parse_retry_after({"retry-after": "-5"}) == 0
    assert parse_retry_after({}, True) is None  # a boolean is not a number of seconds
    assert parse_retry_after({}, "5") is None
    # Nonsense must not mean "wait forever".
    for raw in ("inf", "Infinity", "nan", "-inf"):
        assert parse_retry_after({"retry-after": raw}) is None
    assert parse_retry_after({}, float("inf")) is None
    assert parse_retry_after({}, float("nan")) is None


@pytest.mark.parametrize("status", [400, 401, 403, 404, 429, 500, 502, 503, 504])
def test_html_error_body_is_typed(status: int) -> None:
    body = b"<html><head><title>502 Bad Gateway</title></head><body><h1>error code: 1010</h1></body></html>"
    e = error_from_response(resp(status, body, x_request_id="req_edge"))
    assert e.status == status and e.code  # a default code for the status
    assert "error code: 1010" in e.message and "<" not in e.message
    assert e.request_id == "req_edge"
    assert "req_edge" in str(e)


def test_empty_and_odd_error_bodies() -> None:
    for body in (b"", b"null", b"[1,2]", b'{"error": "nope"}', b'{"error": {"code": 5}}', b"\xff\xfe"):
        e = error_from_response(resp(503, body))
        assert isinstance(e, ServiceUnavailableError)
        assert e.code == "service_unavailable"


def test_error_message_redacts_secrets() -> None:
    body = err("unauthorized")
    body["error"]["message"] = "key sk_live_abcdef123 and my-plain-key are bad; whsec_abcdef too"
    e = error_from_response(resp(401, body), secrets=("my-plain-key",))
    assert "sk_live_abcdef123" not in str(e) and "my-plain-key" not in str(e) and "whsec_abcdef" not in str(e)
    assert "[REDACTED]" in str(e)


def test_redact() -> None:
    assert redact("Bearer sk_live_ABC123def") == "Bearer sk_[REDACTED]"
    assert redact("brt_live_xyz123 whsec_abcd") == "brt_live_[REDACTED] whsec_[REDACTED]"
    assert redact("hello k3y", "k3y") == "hello [REDACTED]"
    assert redact("task_8K2qA req_abc123") == "task_8K2qA req_abc123"


def test_decode_data() -> None:
    assert decode_data(resp(200, {"data": {"a": 1}})) == {"a": 1}
    with pytest.raises(InvalidResponseError, match="not JSON") as info:
        decode_data(resp(200, b"<html>ok</html>", x_request_id="req_x"))
    assert info.value.status == 200 and info.value.request_id == "req_x"
    assert "req_x" in str(info.value)
    with pytest.raises(InvalidResponseError, match="envelope"):
        decode_data(resp(200, {"id": "task_1"}))
    with pytest.raises(InvalidResponseError):
        decode_data(resp(201, [1, 2]))
    with pytest.raises(NotFoundError):
        decode_data(resp(404, err("not_found")))


def test_unwrap_list() -> None:
    assert unwrap_list({"object": "list", "data": [1, 2]}) == [1, 2]
    assert unwrap_list([1]) == [1]
    for bad in ({"object": "list"}, "x", None, {"data": "x"}):
        with pytest.raises(InvalidResponseError):
            unwrap_list(bad)


# -- JSON decoding ----------------------------------------------------------------------------


def _reference_json(body: bytes) -> Any:
    """What the answer decodes to by json.loads alone (None: not JSON)."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None


@pytest.mark.parametrize(
    "body",
    [
        b'{"data": {"a": 1}}',
        b'{"data": 1}  \r\n\t',  # trailing whitespace is still JSON
        b'{"data": 1} x',  # trailing text is not
        b'{"data": 1}{"data": 2}',
        b'\xef\xbb\xbf{"data": 1}',  # a UTF-8 byte order mark
        '{"data": "é"}'.encode("utf-16-le"),  # another encoding json.loads recognises
        '{"data": "é"}'.encode("utf-16"),
        b'{"data": "\xff"}',  # not UTF-8
        b'{"data": NaN}',
        b'{"data": 1e999}',
        b"  {\"data\": 1}",
        b"{",
        b"{}",
        b"",
        b"[1]",
    ],
)
def test_json_decoding_matches_json_loads(body: bytes) -> None:
    from beatapi_async._protocol import _load_json

    got, want = _load_json(body), _reference_json(body)
    assert json.dumps(got, sort_keys=True) == json.dumps(want, sort_keys=True)


@given(
    value=st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
        max_leaves=20,
    ),
    indent=st.sampled_from([None, 0, 2]),
    tail=st.sampled_from([b"", b" ", b"\n", b"x", b"}", b"\x00"]),
    ensure_ascii=st.booleans(),
)
def test_json_decoding_property(value: Any, indent: int | None, tail: bytes, ensure_ascii: bool) -> None:
    from beatapi_async._protocol import _load_json

    body = json.dumps({"data": value}, indent=indent, ensure_ascii=ensure_ascii).encode() + tail
    assert json.dumps(_load_json(body)) == json.dumps(_reference_json(body))


def test_json_nested_too_deep_is_invalid_response() -> None:
    body = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    with pytest.raises(InvalidResponseError, match="nested too deeply"):
        decode_data(resp(200, body))
