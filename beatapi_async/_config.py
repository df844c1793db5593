"""Client configuration: frozen value objects built once from arguments and ``BEATAPI_*`` variables."""

from __future__ import annotations

import enum
import math
import os
import sys
from collections.abc import Awaitable, Callable
from typing import Any, Final

import attrs

from ._exceptions import RequestValidationError
from ._retry import anyio_sleep
from ._validate import check_url_syntax, is_loopback_host, origin_of
from ._version import __version__

DEFAULT_BASE_URL: Final = "https://api.beatapi.io"
ENV_API_KEY: Final = "BEATAPI_API_KEY"
ENV_BASE_URL: Final = "BEATAPI_BASE_URL"
ENV_LOG: Final = "BEATAPI_LOG"
#: The largest answer body read (after decompression): JSON answers are kilobytes.
DEFAULT_MAX_RESPONSE_BYTES: Final = 16 * 2**20
#: The longest server-asked wait (Retry-After) a retry or the poller sleeps.
DEFAULT_MAX_RETRY_WAIT: Final = 60.0
USER_AGENT: Final = f"beatapi-async/{__version__} python/{sys.version_info.major}.{sys.version_info.minor}"


class _NotGiven(enum.Enum):
    NOT_GIVEN = "NOT_GIVEN"

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = _NotGiven.NOT_GIVEN
"""Sentinel for "use the client's default" in per-call options."""
NotGiven = _NotGiven


def _non_negative_or_none(_: Any, attribute: attrs.Attribute[Any], value: float | None) -> None:
    # ``not value > 0`` also refuses NaN.
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0):
        raise RequestValidationError(f"timeout.{attribute.name}", "must be a positive number of seconds or None")


@attrs.frozen
class Timeouts:
    """Per-request timeouts in seconds: connect, read (between bytes), total (one attempt). None: no limit.

    The total bounds one attempt however the server trickles its answer (a byte a
    second passes every read timeout); retries each get their own.
    """

    connect: float | None = attrs.field(default=10.0, validator=_non_negative_or_none)
    read: float | None = attrs.field(default=60.0, validator=_non_negative_or_none)
    total: float | None = attrs.field(default=300.0, validator=_non_negative_or_none)


def _positive(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:  # NaN too
        raise RequestValidationError(f"poll.{attribute.name}", "must be a positive number")


def _non_negative(_: Any, attribute: attrs.Attribute[Any], value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):  # NaN too
        raise RequestValidationError(f"poll.{attribute.name}", "must be a finite number >= 0")


@attrs.frozen
class PollPolicy:
    """How waits poll ``GET /v1/tasks/{id}``.

    ``interval`` rising to ``max_interval`` (with jitter) is each task's cadence when
    BeatAPI gives no ``poll_after_seconds`` hint; ``budget_per_minute`` caps the
    polls of all waiters of one client together (BeatAPI allows 120 per minute per
    key); ``burst`` is how many polls may go at once after a quiet spell;
    ``webhook_interval`` is the slow fallback cadence for tasks once webhooks
    have been seen to arrive (``client.notify``).
    """

    interval: float = attrs.field(default=5.0, validator=_positive)
    max_interval: float = attrs.field(default=10.0, validator=_positive)
    budget_per_minute: float = attrs.field(default=100.0, validator=_positive)
    burst: int = attrs.field(default=3, validator=_positive)
    jitter: float = attrs.field(default=0.1, validator=_non_negative)
    webhook_interval: float = attrs.field(default=60.0, validator=_positive)

    def __attrs_post_init__(self) -> None:
        if self.max_interval < self.interval:
            raise RequestValidationError("poll.max_interval", "must be at least poll.interval")


def check_base_url(url: str) -> str:
    """Return ``url`` without a trailing slash, refusing http:// except for loopback hosts."""
    check_url_syntax("base_url", url)
    origin = origin_of(url)
    if not origin:
        raise RequestValidationError("base_url", "must be an absolute http(s) URL, e.g. https://api.beatapi.io")
    scheme, _, rest = origin.partition("://")
    if scheme == "http":
        host = rest.rsplit(":", 1)[0] if not rest.startswith("[") else rest[1 : rest.index("]")]
        if not is_loopback_host(host):
            raise RequestValidationError(
                "base_url", "http:// is only allowed for loopback hosts; use https:// so the key is not sent in clear"
            )
    elif scheme != "https":
        raise RequestValidationError("base_url", "must use https://")
    return url.rstrip("/")


@attrs.frozen
class ClientConfig:
    """Everything a client needs, resolved once. The key never shows in a repr."""

    api_key: str | None = attrs.field(repr=False)
    base_url: str
    timeout: Timeouts
    max_retries: int
    poll: PollPolicy
    user_agent: str
    # How retries wait between attempts; tests pass a fast or recording coroutine.
    retry_sleep: Callable[[float], Awaitable[None]] = anyio_sleep
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT


def load_config(
    *,
    api_key: str | None,
    base_url: str | None,
    timeout: Timeouts | float | None,
    max_retries: int,
    poll: PollPolicy | None,
    user_agent: str | None,
    retry_sleep: Callable[[float], Awaitable[None]] | None = None,
    max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
    max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
    environ: Any = None,
) -> ClientConfig:
    """Resolve arguments and ``BEATAPI_*`` variables into one ``ClientConfig``."""
    env = os.environ if environ is None else environ
    key = api_key if api_key is not None else env.get(ENV_API_KEY) or None
    if key is not None and (not isinstance(key, str) or not key.strip()):
        raise RequestValidationError("api_key", "must be a non-empty string")
    if key is not None and not key.strip().isprintable():
        # A line break would split the Authorization header (aiohttp refuses it mid-request).
        raise RequestValidationError("api_key", "must not contain line breaks or control characters")
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise RequestValidationError("max_retries", "must be a whole number >= 0")
    if poll is not None and not isinstance(poll, PollPolicy):
        raise RequestValidationError("poll", "must be a PollPolicy(...) or None")
    if user_agent is not None and (not isinstance(user_agent, str) or not user_agent.isprintable()):
        raise RequestValidationError("user_agent", "must be a string without line breaks or control characters")
    if isinstance(max_response_bytes, bool) or not isinstance(max_response_bytes, int) or max_response_bytes < 1024:
        raise RequestValidationError("max_response_bytes", "must be a whole number of bytes >= 1024")
    if (
        isinstance(max_retry_wait, bool)
        or not isinstance(max_retry_wait, (int, float))
        or not 0 <= max_retry_wait < math.inf
    ):
        raise RequestValidationError("max_retry_wait", "must be a finite number of seconds >= 0")
    ua = USER_AGENT if not user_agent else f"{USER_AGENT} {user_agent}"
    return ClientConfig(
        api_key=key.strip() if key else None,
        base_url=check_base_url(base_url or env.get(ENV_BASE_URL) or DEFAULT_BASE_URL),
        timeout=to_timeouts(timeout),
        max_retries=max_retries,
        poll=poll if poll is not None else PollPolicy(),
        user_agent=ua,
        retry_sleep=retry_sleep if retry_sleep is not None else anyio_sleep,
        max_response_bytes=max_response_bytes,
        max_retry_wait=float(max_retry_wait),
    )


def to_timeouts(value: Timeouts | float | None) -> Timeouts:
    """Accept ``Timeouts``, a float (the total) or None (the defaults)."""
    if value is None:
        return Timeouts()
    if isinstance(value, Timeouts):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return Timeouts(total=float(value))
    raise RequestValidationError("timeout", "must be Timeouts(...), a number of seconds or None")
