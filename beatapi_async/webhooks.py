"""Verify, sign and receive BeatAPI webhook deliveries.

BeatAPI signs each delivery with HMAC-SHA256, keyed with the endpoint's whole secret
(``whsec_...``), over ``timestamp + "." + raw body``; the lowercase hex digest goes in
``x-beatapi-signature`` and the unix-seconds timestamp in ``x-beatapi-timestamp``
(NOTES: Webhooks). ``verify`` and ``sign`` are pure functions; ``aiohttp_handler``
is the thin aiohttp adapter around ``verify``.

Example::

    from aiohttp import web
    from beatapi_async import webhooks

    async def on_event(event):
        if event.task is not None:
            print(event.event, event.task.id, event.task.video_url)

    app = web.Application()
    app.router.add_post("/beatapi/webhooks", webhooks.aiohttp_handler(secret, on_event=on_event))

    # or, in any framework, with the raw body bytes and the request's headers:
    event = webhooks.verify(await request.body(), request.headers, secret)

Deliveries can repeat (BeatAPI retries) and can be lost; ``GET /v1/tasks/{id}``
stays the source of truth, so keep polling as the fallback.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import inspect
import json
import math
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, Final, Protocol, cast

import cattrs
from aiohttp import web

from . import _rules as R
from ._convert import structure
from ._exceptions import WebhookVerificationError
from ._logging import get_logger, remember_secret
from ._models import WebhookEvent

__all__ = ["SupportsNotify", "aiohttp_handler", "sign", "verify"]

logger = get_logger(__name__)

DEDUPE_CAPACITY: Final = 10_000
"""How many recent event ids ``aiohttp_handler`` remembers to drop repeated deliveries."""

# Whole unix seconds, ASCII digits only: int() alone would also take " 12", "+12",
# "1_2" and non-ASCII digits, none of which BeatAPI sends. 15 digits bound the
# parse; anything that large is far outside any window anyway.
_TIMESTAMP = re.compile(r"[0-9]{1,15}")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
# Several signatures may share the header (e.g. "v1=<hex>, v1=<hex>"). An empty
# token (a stray separator) is malformed, never skipped: the header must be exactly
# what BeatAPI sent.
_SIGNATURE_SEPARATOR = re.compile(r"\s*,\s*|\s+")
_MAX_SIGNATURES: Final = 16
_MAX_REASON: Final = 300


class SupportsNotify(Protocol):
    """Anything with ``await notify(event)``, such as ``AsyncBeatAPI``."""

    def notify(self, event: WebhookEvent, /) -> Awaitable[object]:
        """Tell waiters that the task named by a verified event has changed."""
        ...


def verify(
    payload: bytes | bytearray | memoryview,
    headers: Mapping[str, str] | Any,
    secret: str | Sequence[str],
    *,
    tolerance: float = R.SIGNATURE_TOLERANCE_SECONDS,
    now: float | None = None,
) -> WebhookEvent:
    """Check a delivery's signature and timestamp, then load its body as an event.

    Args:
        payload: The raw request body, exactly as received (not decoded, not parsed).
        headers: The request's headers: any mapping (names in any case, e.g. a dict
            or aiohttp's ``CIMultiDictProxy``) or an iterable of ``(name, value)`` pairs.
        secret: The endpoint's secret, or several during rotation (any may match).
        tolerance: Seconds the timestamp may differ from ``now``, in either direction.
        now: The current unix time; ``time.time()`` when None.

    Raises:
        WebhookVerificationError: The delivery is not an authentic, fresh BeatAPI
            event; ``reason`` says why. Nothing else is raised for a bad delivery.
        ValueError: ``tolerance`` or ``now`` is not a finite number (a programming error).
    """
    _check_window_args(tolerance, now)
    body = _raw_body(payload)
    secrets = _secrets(secret)
    timestamp = _single_header(headers, R.HEADER_TIMESTAMP)
    if not _TIMESTAMP.fullmatch(timestamp):
        raise WebhookVerificationError(f"the {R.HEADER_TIMESTAMP} header is not whole unix seconds")
    candidates = _signature_candidates(_header_values(headers, R.HEADER_SIGNATURE))

    # The signature is checked before anything in the body is trusted or parsed.
    # compare_digest over every (secret, candidate) pair: constant time, and no
    # early exit that would tell which secret or candidate came close.
    matched = False
    for key in secrets:
        expected = _digest(body, key, timestamp).encode("ascii")
        for candidate in candidates:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise WebhookVerificationError(
            "signature mismatch: the body, timestamp or secret differs from what BeatAPI signed"
        )

    # Checked after the signature, so a stale answer is only ever given for a
    # delivery BeatAPI really sent: a replay, or this machine's clock is off.
    skew = (time.time() if now is None else now) - int(timestamp)
    if skew > tolerance:
        raise WebhookVerificationError(f"timestamp too old: {skew:.0f} s ago, more than {tolerance:g} s")
    if -skew > tolerance:
        raise WebhookVerificationError(
            f"timestamp too far in the future: {-skew:.0f} s ahead, more than {tolerance:g} s; check the clock"
        )

    event = _load_event(body)
    # x-beatapi-event is not covered by the signature: trust it only if it agrees.
    header_event = _optional_header(headers, R.HEADER_EVENT)
    if header_event is not None and header_event != event.event:
        raise WebhookVerificationError(f"the {R.HEADER_EVENT} header does not match the body's event")
    return event


def sign(payload: bytes | bytearray | memoryview, secret: str, *, timestamp: int | None = None) -> dict[str, str]:
    """Sign a body as BeatAPI does and return the delivery's headers.

    The headers are ``x-beatapi-timestamp`` (``timestamp``, default now),
    ``x-beatapi-signature``, ``x-beatapi-event`` (when the body is a JSON object
    with a string ``event``) and ``content-type``. Used by the emulator for its
    deliveries and by tests to make them.

    Raises:
        TypeError: ``payload`` is not bytes or ``secret`` is not a string.
        ValueError: ``secret`` is empty or ``timestamp`` is negative.
    """
    if not isinstance(payload, (bytes, bytearray, memoryview)):
        raise TypeError(f"payload must be the raw body bytes, not {type(payload).__name__}")
    if not isinstance(secret, str):
        raise TypeError(f"secret must be a str, not {type(secret).__name__}")
    if not secret:
        raise ValueError("secret must not be empty")
    if timestamp is None:
        timestamp = int(time.time())
    if isinstance(timestamp, bool) or not isinstance(timestamp, int) or timestamp < 0:
        raise ValueError("timestamp must be whole, non-negative unix seconds")
    body = bytes(payload)
    stamp = str(timestamp)
    headers = {
        R.HEADER_TIMESTAMP: stamp,
        R.HEADER_SIGNATURE: _digest(body, secret, stamp),
    }
    event = _event_name(body)
    if event is not None:
        headers[R.HEADER_EVENT] = event
    headers["content-type"] = "application/json"
    return headers


def aiohttp_handler(
    secret: str | Sequence[str],
    *,
    on_event: Callable[[WebhookEvent], object] | None = None,
    client: SupportsNotify | None = None,
    tolerance: float = R.SIGNATURE_TOLERANCE_SECONDS,
    dedupe: bool = True,
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """Return an aiohttp request handler that receives BeatAPI deliveries.

    Mount it with ``app.router.add_post("/beatapi/webhooks", aiohttp_handler(secret))``.
    For each delivery the handler reads the raw body, ``verify``-s it and answers:

    - 400 with ``{"error": {"code": "invalid_signature", "message": ...}}`` for a
      delivery that fails verification;
    - 200 once the event is handled: ``client.notify(event)`` is awaited (waiters
      on the task check it at once) and then ``on_event(event)`` is called, sync or
      async. Keep ``on_event`` quick (BeatAPI waits for the answer) or hand the
      work to a queue;
    - 500 when ``on_event`` raises, so that BeatAPI retries the delivery later.
      A failing ``notify`` is only logged: polling remains the fallback.

    With ``dedupe`` (the default) the ids of the last ``DEDUPE_CAPACITY`` handled
    events are remembered, and a repeated delivery of one (a retry) is answered 200
    without calling ``on_event`` again. An event whose handling failed is not
    remembered, so its retry is handled. Events without an id are never dropped.

    Raises:
        WebhookVerificationError: ``secret`` is empty (raised here, at startup,
            rather than on every delivery).
        ValueError: ``tolerance`` is not a finite, non-negative number.
    """
    secrets = _secrets(secret)
    remember_secret(*secrets)
    _check_window_args(tolerance, None)
    recent: OrderedDict[str, None] = OrderedDict()
    # Deliveries of one event that arrive while it is being handled wait for that
    # handling to finish, then count as duplicates only if it succeeded.
    in_flight: dict[str, asyncio.Event] = {}

    async def handle(event: WebhookEvent) -> web.Response:
        if client is not None:
            try:
                await client.notify(event)
            except Exception:
                logger.exception("webhook %s: client.notify failed; polling remains the fallback", event.id)
        if on_event is not None:
            try:
                result = on_event(event)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                logger.exception("webhook %s: on_event raised; answering 500 so BeatAPI retries", event.id)
                return _error(500, "handler_error", "the event handler failed; deliver again later")
        return web.json_response({"received": True})

    async def handler(request: web.Request) -> web.Response:
        body = await request.read()
        try:
            event = verify(body, request.headers, secrets, tolerance=tolerance)
        except WebhookVerificationError as exc:
            logger.warning("webhook rejected: %s", exc.reason)
            return _error(400, "invalid_signature", exc.reason)

        key = event.id
        if not dedupe or key is None:
            return await handle(event)
        while True:
            if key in recent:
                recent.move_to_end(key)
                return web.json_response({"received": True, "duplicate": True})
            pending = in_flight.get(key)
            if pending is None:
                break
            await pending.wait()
        done = in_flight[key] = asyncio.Event()
        try:
            response = await handle(event)
            if response.status < 300:
                recent[key] = None
                if len(recent) > DEDUPE_CAPACITY:
                    recent.popitem(last=False)
            return response
        finally:
            del in_flight[key]
            done.set()

    return handler


# -- helpers -------------------------------------------------------------------------


def _digest(body: bytes, secret: str, timestamp: str) -> str:
    message = timestamp.encode("ascii") + b"." + body
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def _check_window_args(tolerance: float, now: float | None) -> None:
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not math.isfinite(tolerance):
        raise ValueError("tolerance must be a finite number of seconds")
    if tolerance < 0:
        raise ValueError("tolerance must not be negative")
    if now is not None and (isinstance(now, bool) or not isinstance(now, (int, float)) or not math.isfinite(now)):
        raise ValueError("now must be a finite unix time")


def _raw_body(payload: object) -> bytes:
    if isinstance(payload, (bytes, bytearray, memoryview)):
        return bytes(payload)
    if isinstance(payload, str):
        raise WebhookVerificationError(
            "payload is a str: pass the raw request body bytes (e.g. await request.read()); "
            "decoding can change the bytes that were signed"
        )
    if isinstance(payload, (Mapping, list)):
        raise WebhookVerificationError(
            "payload is parsed JSON: pass the raw request body bytes (e.g. await request.read()); "
            "serializing it again does not give back the bytes that were signed"
        )
    raise WebhookVerificationError(f"payload must be the raw request body bytes, not {type(payload).__name__}")


def _secrets(secret: object) -> tuple[str, ...]:
    # A str is itself a Sequence[str]: test for it first.
    found = (secret,) if isinstance(secret, str) else secret
    if isinstance(found, (bytes, bytearray)) or not isinstance(found, (Sequence, frozenset, set)):
        raise WebhookVerificationError(f"secret must be a str or a list of str, not {type(secret).__name__}")
    secrets = tuple(found)
    if not secrets:
        raise WebhookVerificationError("no webhook secret given")
    for item in secrets:
        # Only the type is named: a misplaced value could itself be a secret.
        if not isinstance(item, str):
            raise WebhookVerificationError(f"each webhook secret must be a str, not {type(item).__name__}")
        if not item:
            raise WebhookVerificationError("a webhook secret is empty")
    return secrets


def _header_items(headers: object) -> Iterable[tuple[object, object]]:
    try:
        if isinstance(headers, (str, bytes, bytearray)):
            raise TypeError
        items = getattr(headers, "items", None)
        # Mappings and multidicts (every value of a repeated header), or raw
        # (name, value) pairs as ASGI servers give them.
        # A non-iterable fails below and is reported as "headers must be a mapping".
        pairs = items() if callable(items) else cast("Iterable[Any]", headers)
        result: list[tuple[object, object]] = []
        for pair in pairs:
            name, value = pair
            result.append((name, value))
        return result
    except WebhookVerificationError:
        raise
    except Exception:
        raise WebhookVerificationError(
            f"headers must be a mapping of header names to values, not {type(headers).__name__}"
        ) from None


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode("latin-1")  # HTTP header bytes (RFC 9110)
    return None


def _header_values(headers: object, name: str) -> list[str]:
    values = []
    for key, value in _header_items(headers):
        key_text = _text(key)
        if key_text is None or key_text.lower() != name:
            continue
        text = _text(value)
        if text is None:
            raise WebhookVerificationError(f"the {name} header is not text")
        values.append(text)
    return values


def _optional_header(headers: object, name: str) -> str | None:
    values = set(_header_values(headers, name))
    if len(values) > 1:
        raise WebhookVerificationError(f"several different {name} headers")
    return values.pop() if values else None


def _single_header(headers: object, name: str) -> str:
    value = _optional_header(headers, name)
    if value is None:
        raise WebhookVerificationError(f"the {name} header is missing")
    return value


def _signature_candidates(values: list[str]) -> list[bytes]:
    if not values:
        raise WebhookVerificationError(f"the {R.HEADER_SIGNATURE} header is missing")
    candidates = []
    for value in values:
        for token in _SIGNATURE_SEPARATOR.split(value):
            # BeatAPI sends the bare hex digest; a "v1=" scheme prefix is accepted too.
            digest = token[3:] if token.startswith("v1=") else token
            if not _HEX_DIGEST.fullmatch(digest):
                raise WebhookVerificationError(
                    f"the {R.HEADER_SIGNATURE} header is malformed: expected 64 hex characters (HMAC-SHA256)"
                )
            candidates.append(digest.lower().encode("ascii"))
    if len(candidates) > _MAX_SIGNATURES:
        raise WebhookVerificationError(f"the {R.HEADER_SIGNATURE} header holds too many signatures")
    return candidates


def _load_event(body: bytes) -> WebhookEvent:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise WebhookVerificationError("the body is not valid JSON") from None
    if not isinstance(data, dict):
        raise WebhookVerificationError("the body is not a webhook event: expected a JSON object")
    try:
        return structure(data, WebhookEvent)
    except cattrs.BaseValidationError as exc:
        detail = "; ".join(cattrs.transform_error(exc))
    except Exception as exc:  # a hook's TypeError/ValueError, or worse: never let it escape
        detail = str(exc) or type(exc).__name__
    raise WebhookVerificationError(f"the body is not a valid webhook event: {detail}"[:_MAX_REASON])


def _event_name(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    event = data.get("event") if isinstance(data, dict) else None
    # Only a value that can travel in an HTTP header as it is.
    if isinstance(event, str) and event.isascii() and event.isprintable() and event:
        return event
    return None


def _error(status: int, code: str, message: str) -> web.Response:
    return web.json_response({"error": {"code": code, "message": message}}, status=status)
