"""Per-call request options: declared once, checked once, carried as one frozen value.

Every resource method takes ``**options: Unpack[RequestOptions]`` (``BodyOptions`` when
it sends a JSON body); ``call_options`` checks them and returns a ``CallOptions`` that
travels through ``client._request`` unchanged. ``client.with_options(...)`` stores the
same value as a client's defaults.

``Unpack`` is imported for type checkers only (``typing.Unpack`` is 3.11+, and
``typing_extensions`` is not a runtime dependency): with postponed annotations, the
``**options: Unpack[...]`` annotations are never evaluated at run time.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, TypedDict

import attrs

from ._config import NOT_GIVEN, NotGiven, Timeouts, to_timeouts
from ._exceptions import RequestValidationError

if TYPE_CHECKING:
    import sys

    if sys.version_info >= (3, 11):
        from typing import Unpack as Unpack
    else:  # for type checkers only: typing_extensions is not a runtime dependency
        from typing_extensions import Unpack as Unpack

_NO_LIMIT = Timeouts(connect=None, read=None, total=None)
# RFC 9110 token: what a header name may be.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Headers the SDK owns: the key (pass api_key=), the billable-call key (pass
# idempotency_key=), and what the transport computes from the body.
_RESERVED_HEADERS = {
    "authorization": "is set from the client's api_key and cannot be overridden",
    "idempotency-key": "use the idempotency_key= argument of a billable call",
    "content-type": "is set from the body",
    "content-length": "is set from the body",
    "transfer-encoding": "is set by the transport",
    "host": "is set from base_url",
}
QueryValue = str | int | float | bool | None


class RequestOptions(TypedDict, total=False):
    """Per-call options every resource method accepts.

    ``timeout``: this call's ``Timeouts`` (a number: the total; None: no limit).
    ``max_retries``: this call's retries. ``extra_headers`` / ``extra_query``: sent
    with the request (a query key naming one of the call's parameters is refused).
    """

    timeout: Timeouts | float | None
    max_retries: int
    extra_headers: Mapping[str, str]
    extra_query: Mapping[str, QueryValue]


class BodyOptions(RequestOptions, total=False):
    """``RequestOptions`` plus ``extra_body``, for the methods that send a JSON body.

    ``extra_body`` is merged into the body after validation, so a field BeatAPI added
    after this release can be sent; a key naming a known field is refused (use the field).
    """

    extra_body: Mapping[str, Any]


@attrs.frozen
class CallOptions:
    """Checked per-call options. ``timeout`` NOT_GIVEN / ``max_retries`` None: the client's."""

    timeout: Timeouts | NotGiven = NOT_GIVEN
    max_retries: int | None = None
    extra_headers: Mapping[str, str] = attrs.field(factory=dict)
    extra_query: Mapping[str, str] = attrs.field(factory=dict)
    extra_body: Mapping[str, Any] = attrs.field(factory=dict)

    def over(self, base: CallOptions) -> CallOptions:
        """These options on top of ``base`` (a client's defaults): given values win, headers merge."""
        if base is NO_OPTIONS:
            return self
        return CallOptions(
            timeout=base.timeout if self.timeout is NOT_GIVEN else self.timeout,
            max_retries=base.max_retries if self.max_retries is None else self.max_retries,
            extra_headers={**base.extra_headers, **self.extra_headers},
            extra_query={**base.extra_query, **self.extra_query},
            extra_body={**base.extra_body, **self.extra_body},
        )


NO_OPTIONS = CallOptions()
NO_RETRIES = CallOptions(max_retries=0)
_COMMON = ("timeout", "max_retries", "extra_headers", "extra_query")


def call_options(
    options: Mapping[str, Any],
    *,
    body_fields: Collection[str] | None = None,
    params: Collection[str] = (),
) -> CallOptions:
    """Check per-call options and return them as one ``CallOptions``.

    ``body_fields``: the JSON body's known fields (None: the call sends no JSON body,
    so ``extra_body`` is refused); ``params``: the call's own query parameters.
    """
    if not options:
        return NO_OPTIONS
    allowed = (*_COMMON, "extra_body") if body_fields is not None else _COMMON
    for name in options:
        if name not in allowed:
            if name == "extra_body":
                raise RequestValidationError("extra_body", "this call sends no JSON body")
            raise RequestValidationError(name, f"is not an option of this call (options: {', '.join(allowed)})")
    timeout: Timeouts | NotGiven = NOT_GIVEN
    if "timeout" in options:
        value = options["timeout"]
        timeout = _NO_LIMIT if value is None else to_timeouts(value)
    retries = options.get("max_retries")
    if retries is not None and (isinstance(retries, bool) or not isinstance(retries, int) or retries < 0):
        raise RequestValidationError("max_retries", "must be a whole number >= 0")
    if "max_retries" in options and retries is None:
        raise RequestValidationError("max_retries", "must be a whole number >= 0")
    return CallOptions(
        timeout=timeout,
        max_retries=retries,
        extra_headers=check_headers(options.get("extra_headers")),
        extra_query=_check_query(options.get("extra_query"), params),
        extra_body=_check_body(options.get("extra_body"), body_fields or ()),
    )


def _mapping(field: str, value: Any) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise RequestValidationError(field, "must be a mapping (a dict)")
    return value


def check_headers(value: Any) -> dict[str, str]:
    """Check ``extra_headers``: valid names and one-line values, none the SDK owns."""
    headers: dict[str, str] = {}
    for name, text in _mapping("extra_headers", value).items():
        if not isinstance(name, str) or not _TOKEN.fullmatch(name):
            raise RequestValidationError("extra_headers", f"{name!r} is not a valid header name")
        field = f"extra_headers[{name!r}]"
        reason = _RESERVED_HEADERS.get(name.lower())
        if reason is not None:
            raise RequestValidationError(field, reason)
        if not isinstance(text, str) or not text.isprintable():
            # A line break would smuggle in another header.
            raise RequestValidationError(field, "must be a string without line breaks or control characters")
        headers[name] = text
    return headers


def _check_query(value: Any, params: Collection[str]) -> dict[str, str]:
    query: dict[str, str] = {}
    for key, item in _mapping("extra_query", value).items():
        if not isinstance(key, str) or not key:
            raise RequestValidationError("extra_query", f"{key!r} is not a query parameter name")
        field = f"extra_query[{key!r}]"
        if key in params:
            raise RequestValidationError(field, f"is a parameter of this call: pass {key}= instead")
        if item is None:
            continue
        if isinstance(item, bool):
            query[key] = "true" if item else "false"
        elif isinstance(item, str) or (isinstance(item, (int, float)) and math.isfinite(item)):
            query[key] = str(item)
        else:
            raise RequestValidationError(field, "must be a string, a finite number, a bool or None")
    return query


def _check_body(value: Any, fields: Collection[str]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for key, item in _mapping("extra_body", value).items():
        if not isinstance(key, str) or not key:
            raise RequestValidationError("extra_body", f"{key!r} is not a field name")
        field = f"extra_body[{key!r}]"
        if key in fields:
            raise RequestValidationError(field, f"is a field of this request: pass {key}= instead")
        try:
            json.dumps(item, allow_nan=False)
        except (TypeError, ValueError, RecursionError):
            raise RequestValidationError(
                field, "must be JSON data (str, finite numbers, bool, None, lists and dicts of them)"
            ) from None
        body[key] = item
    return body
