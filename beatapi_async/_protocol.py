"""BeatAPI's wire protocol as pure functions: build a request, read a response.

No I/O here: the transport moves bytes, these functions decide what the bytes
mean (envelopes, error mapping, Retry-After, redaction).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import attrs

from ._exceptions import APIStatusError, InvalidResponseError, RequestValidationError, error_class
from ._frozen import builder

JSON_TYPE = "application/json"

# Keys and secrets BeatAPI issues (NOTES: Conventions, Webhooks, Realtime).
_SECRET = re.compile(r"\b(sk|whsec|brt_live|brt)_[A-Za-z0-9_\-]{3,}")
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")

# Default codes for error answers without a JSON body (an edge proxy's HTML).
_DEFAULT_CODES = {
    400: "bad_request",
    401: "unauthorized",
    402: "insufficient_credits",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    429: "rate_limit_exceeded",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


@attrs.frozen(kw_only=True)
class Request:
    """One HTTP request, ready for the transport. ``body_factory`` makes a fresh body per attempt."""

    method: str
    url: str
    path: str
    headers: Mapping[str, str] = attrs.field(repr=False)
    body: bytes | None = None
    body_factory: Callable[[], Any] | None = None


@attrs.frozen(kw_only=True)
class Response:
    """One HTTP answer as the transport saw it; headers are looked up by lower-case name.

    (aiohttp's transport passes its case-insensitive mapping; a double may pass a dict
    with lower-case names.)
    """

    status: int
    headers: Mapping[str, str]
    body: bytes


# What the client and the transport build on every call, fields in order (see ``_frozen``).
new_request: Callable[[str, str, str, Mapping[str, str], bytes | None, Callable[[], Any] | None], Request] = builder(
    Request
)
new_response: Callable[[int, Mapping[str, str], bytes], Response] = builder(Response)


def redact(text: str, *secrets: str | None) -> str:
    """Mask BeatAPI keys and secrets (and the given strings) in ``text``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "[REDACTED]")
    return _SECRET.sub(lambda m: f"{m.group(1)}_[REDACTED]", text)


def build_url(base_url: str, path: str, params: Mapping[str, Any] | None = None) -> str:
    """Join the base URL, an already-encoded path and query parameters (None values dropped)."""
    url = base_url + path
    if params:
        query = urlencode({k: v for k, v in params.items() if v is not None})
        if query:
            url = f"{url}?{query}"
    return url


def encode_json(body: Any) -> bytes:
    """Encode a request body as compact UTF-8 JSON; text that is not valid Unicode is refused."""
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    except UnicodeEncodeError:  # a lone surrogate, e.g. from a badly decoded file name
        field = _invalid_text_at(body, "") or "body"
        raise RequestValidationError(field, "text must be valid Unicode (it contains a lone surrogate)") from None


def _invalid_text_at(value: Any, path: str) -> str | None:
    """The field (``prompt``, ``images[2]``, ``metadata['k']``) holding text UTF-8 cannot encode."""
    if isinstance(value, str):
        try:
            value.encode()
        except UnicodeEncodeError:
            return path or "body"
        return None
    if isinstance(value, Mapping):
        for key, item in value.items():
            here = str(key) if not path else f"{path}[{key!r}]"
            found = _invalid_text_at(key, here) or _invalid_text_at(item, here)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            found = _invalid_text_at(item, f"{path}[{i}]")
            if found:
                return found
    return None


def request_id_of(headers: Mapping[str, str]) -> str | None:
    """Return the request id a response header carries, if any."""
    return headers.get("x-request-id") or headers.get("request-id")


def parse_retry_after(headers: Mapping[str, str], body_value: Any = None) -> float | None:
    """Seconds to wait from ``retry_after_seconds`` or ``Retry-After`` (seconds or an HTTP date)."""
    candidates: list[float] = []
    if isinstance(body_value, (int, float)) and not isinstance(body_value, bool) and 0 <= body_value < math.inf:
        candidates.append(float(body_value))
    raw = headers.get("retry-after")
    if raw:
        raw = raw.strip()
        try:
            seconds = float(raw)
            if math.isfinite(seconds):  # "inf" or "nan" would mean waiting forever or not at all
                candidates.append(max(0.0, seconds))
        except ValueError:
            try:
                when = parsedate_to_datetime(raw)
                date = parsedate_to_datetime(headers["date"]) if "date" in headers else None
            except (TypeError, ValueError, IndexError, KeyError):
                when = None
            if when is not None:
                import time

                now = date.timestamp() if date is not None else time.time()
                candidates.append(max(0.0, when.timestamp() - now))
    return max(candidates) if candidates else None


class _TooDeep(ValueError):
    """JSON nested past what Python's parser can follow (a hostile or broken answer)."""


_DECODER = json.JSONDecoder()


def _load_json(body: bytes) -> Any:
    try:
        if body[:1] == b"{":
            # BeatAPI's answer: a UTF-8 JSON object. Decoding it here skips json.loads's
            # encoding sniffing and wrapper; anything unusual (trailing text, another
            # encoding) falls through to json.loads, which decides as before.
            try:
                text = body.decode()
                value, end = _DECODER.raw_decode(text)
                if end == len(text):
                    return value
            except ValueError:  # (UnicodeDecodeError too)
                pass
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):  # also a number with too many digits
        return None
    except RecursionError:
        raise _TooDeep from None


def _redact_value(value: Any, secrets: tuple[str | None, ...], depth: int = 0) -> Any:
    """``value`` (decoded JSON) with keys and secrets masked in every string it holds."""
    if isinstance(value, str):
        return redact(value, *secrets)
    if depth > 32:  # deeper than any error detail BeatAPI sends: not worth keeping
        return "[TRUNCATED]"
    if isinstance(value, Mapping):
        return {redact(str(k), *secrets): _redact_value(v, secrets, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact_value(v, secrets, depth + 1) for v in value]
    return value


def _text_snippet(body: bytes, limit: int = 200) -> str:
    text = body.decode("utf-8", "replace")
    text = _SPACE.sub(" ", _TAGS.sub(" ", text)).strip()
    return text[:limit] + ("..." if len(text) > limit else "")


def error_from_response(response: Response, *, secrets: tuple[str | None, ...] = ()) -> APIStatusError:
    """Turn an HTTP error answer (JSON envelope or not) into its typed error."""
    status, headers = response.status, response.headers
    try:
        payload = _load_json(response.body)
    except _TooDeep:
        payload = None
    err = payload.get("error") if isinstance(payload, Mapping) else None
    if isinstance(err, Mapping):
        code = err.get("code") if isinstance(err.get("code"), str) else None
        message = err.get("message") if isinstance(err.get("message"), str) else None
        request_id = err.get("request_id") if isinstance(err.get("request_id"), str) else None
        retryable = err.get("retryable") if isinstance(err.get("retryable"), bool) else None
        retry_after = parse_retry_after(headers, err.get("retry_after_seconds"))
        details = err.get("details")
    else:
        code, request_id, retryable, details = None, None, None, None
        snippet = _text_snippet(response.body)
        message = f"HTTP {status} with a non-JSON body" + (f": {snippet}" if snippet else "")
        retry_after = parse_retry_after(headers)
    code = code or _DEFAULT_CODES.get(status, f"http_{status}")
    cls = error_class(status, code)
    return cls(
        redact(message or f"HTTP {status}", *secrets),
        status=status,
        code=code,
        request_id=request_id or request_id_of(headers),
        retry_after=retry_after,
        retryable=retryable,
        details=_redact_value(details, secrets) if details is not None else None,  # a server may echo the key
    )


def decode_data(response: Response, *, secrets: tuple[str | None, ...] = ()) -> Any:
    """Return the ``data`` of a 2xx answer, or raise the typed error of any other."""
    if not 200 <= response.status < 300:
        raise error_from_response(response, secrets=secrets)
    try:
        payload = _load_json(response.body)
    except _TooDeep:
        raise InvalidResponseError(
            "JSON nested too deeply to parse",
            status=response.status,
            request_id=request_id_of(response.headers),
            retryable=False,
        ) from None
    if not isinstance(payload, dict) or "data" not in payload:  # (JSON objects load as dicts)
        what = "not JSON" if payload is None else "JSON without a 'data' envelope"
        raise InvalidResponseError(
            f"expected {{'data': ...}}, got {what}", status=response.status, request_id=request_id_of(response.headers)
        )
    return payload["data"]


def unwrap_list(data: Any, *, status: int | None = None, request_id: str | None = None) -> list[Any]:
    """Return the items of a list envelope ``{"object": "list", "data": [...]}``."""
    if isinstance(data, Mapping) and isinstance(data.get("data"), list):
        return list(data["data"])
    if isinstance(data, list):  # tolerate a single envelope
        return data
    raise InvalidResponseError(
        "expected a list envelope {'object': 'list', 'data': [...]}", status=status, request_id=request_id
    )
