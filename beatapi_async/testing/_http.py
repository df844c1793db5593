"""Wire helpers of the emulator: ids, envelopes, error answers, JSON numbers and times."""

from __future__ import annotations

import json
import os
from collections.abc import Collection
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from aiohttp import web

_ALPHABET = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_ID_TABLE = bytes(_ALPHABET[i % len(_ALPHABET)] for i in range(256))

# Status of each error code when a fault gives only one of the two.
STATUS_BY_CODE: dict[str, int] = {
    "bad_request": 400,
    "unauthorized": 401,
    "insufficient_credits": 402,
    "forbidden": 403,
    "not_found": 404,
    "idempotency_conflict": 409,
    "user_concurrency_exceeded": 429,
    "rate_limit_exceeded": 429,
    "internal_error": 500,
    "processing_unavailable": 503,
    "realtime_disabled": 503,
    "realtime_capacity_unavailable": 503,
}
CODE_BY_STATUS: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    405: "bad_request",
    409: "idempotency_conflict",
    429: "rate_limit_exceeded",
    503: "processing_unavailable",
}


def new_id(prefix: str, length: int = 14) -> str:
    """Return a random id like BeatAPI's (``task_8K2qA...``)."""
    # Random bytes mapped onto the alphabet (a slight bias is fine for ids).
    return prefix + os.urandom(length).translate(_ID_TABLE).decode("ascii")


def number(value: Decimal) -> int | float:
    """Return a credit amount as JSON wants it: an int when whole (the launch contract), else a float."""
    return int(value) if value == value.to_integral_value() else float(value)


def iso(ts: float | None) -> str | None:
    """Return unix seconds as ISO-8601 UTC with milliseconds (realtime sessions use these)."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class ApiError(Exception):
    """An error answer in BeatAPI's envelope, raised by handlers and rendered by the dispatcher."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        retry_after: int | None = None,
        retryable: bool | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after
        self.retryable = retryable
        self.details = details


def bad_request(message: str, **details: Any) -> ApiError:
    """Return a 400 ``bad_request`` error."""
    return ApiError(400, "bad_request", message, details=details or None)


def not_found(what: str) -> ApiError:
    """Return a 404 ``not_found`` error."""
    return ApiError(404, "not_found", f"{what} not found.")


def dumps(payload: Any) -> bytes:
    """Serialize a JSON body compactly."""
    return json.dumps(payload, separators=(",", ":")).encode()


def json_response(status: int, payload: Any, request_id: str, headers: dict[str, str] | None = None) -> web.Response:
    """Return a JSON answer carrying the request id header."""
    all_headers = {"x-request-id": request_id}
    if headers:
        all_headers.update(headers)
    return web.Response(status=status, body=dumps(payload), content_type="application/json", headers=all_headers)


def data_response(status: int, data: Any, request_id: str) -> web.Response:
    """Return ``{"data": ...}``."""
    return json_response(status, {"data": data}, request_id)


def list_response(items: list[Any], request_id: str) -> web.Response:
    """Return the contract's doubly enveloped list ``{"data": {"object": "list", "data": [...]}}``."""
    return json_response(200, {"data": {"object": "list", "data": items}}, request_id)


def error_response(error: ApiError, request_id: str) -> web.Response:
    """Return ``{"error": {...}}`` for ``error``, with Retry-After when it has one."""
    body: dict[str, Any] = {"code": error.code, "message": error.message, "request_id": request_id}
    headers: dict[str, str] = {}
    if error.retry_after is not None:
        body["retry_after_seconds"] = error.retry_after
        headers["Retry-After"] = str(error.retry_after)
    if error.retryable is not None:
        body["retryable"] = error.retryable
    if error.details:
        body["details"] = error.details
    return json_response(error.status, {"error": body}, request_id, headers)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def loads(raw: bytes) -> Any:
    """Decode a JSON request body, or raise a 400.

    Strict JSON: ``NaN``/``Infinity`` are refused, and a body nested past what
    the parser can follow (``RecursionError``) is a 400 like any malformed body,
    never a 500.
    """
    try:
        return json.loads(raw, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError):
        raise bad_request("The request body is not valid JSON.") from None
    except RecursionError:
        raise bad_request("The request body is nested too deeply.") from None


def parse_json_object(raw: bytes) -> dict[str, Any]:
    """Return the request body as a JSON object, or raise a 400."""
    if not raw.strip():
        raise bad_request("The request body must be a JSON object.")
    value = loads(raw)
    if not isinstance(value, dict):
        raise bad_request("The request body must be a JSON object.")
    return value


def request_fields(body: dict[str, Any], known: Collection[str]) -> dict[str, Any]:
    """Apply the request schemas' type rules that hold for every ``known`` field; return a copy of the body.

    No request field of the contract is nullable: an explicit ``null`` is
    refused, not read as absent. A number written ``18.0`` is an integer in
    JSON Schema, so integral floats become ints before the field rules run.
    Fields the schema does not name are kept as sent and ignored, as BeatAPI
    ignores them.
    """
    out: dict[str, Any] = {}
    for name, value in body.items():
        if name in known:
            if value is None:
                raise bad_request(
                    f"{name}: must not be null (leave the field out instead)", field=name, rule="not_null"
                )
            if isinstance(value, float) and value.is_integer():
                value = int(value)
        out[name] = value
    return out
