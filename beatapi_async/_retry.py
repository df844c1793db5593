"""The one retry policy (BeatAPI's own guidance, NOTES: Retry guidance), built on tenacity.

- Safe calls (GET, PATCH, DELETE, shot media, uploads) and billable POSTs that carry
  an Idempotency-Key retry network errors, 429 ``rate_limit_exceeded``, 502/503/504.
- A POST without a key is re-sent only when it provably never reached the server.
- ``retryable`` in an error body overrides the status; 400/401/402/403/404/409 and
  429 ``user_concurrency_exceeded`` (the gate's business) are never retried.
- Waits are exponential with jitter, at least the server's Retry-After, and never
  past the caller's deadline (an anyio cancel scope): then the error is raised at once.
- A server asking for a longer wait than ``max_retry_wait`` is not obeyed by sleeping:
  the typed error is raised at once with its ``retry_after`` (a hostile or broken
  server must not park a call for years). ``retryable=False`` on any error (e.g. an
  answer too large to read) stops at once too.
"""

from __future__ import annotations

import math
import random
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    ConcurrencyLimitError,
    InvalidResponseError,
)
from ._logging import get_logger

if TYPE_CHECKING:
    from tenacity import RetryCallState

    from ._config import PollPolicy

T = TypeVar("T")
logger = get_logger("beatapi_async")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
NEVER_RETRY_STATUSES = frozenset({400, 401, 402, 403, 404, 409})
BACKOFF_BASE = 0.5
BACKOFF_MAX = 8.0


async def anyio_sleep(seconds: float) -> None:
    """``anyio.sleep``: how retries wait unless the client was given ``retry_sleep``."""
    # anyio is imported by the first retry, not with the package (import time).
    import anyio

    await anyio.sleep(seconds)


def should_retry(exc: BaseException, *, replayable: bool) -> bool:
    """Decide whether ``exc`` may be retried; ``replayable``: safe or idempotency-keyed."""
    if isinstance(exc, (APIConnectionError, InvalidResponseError)) and getattr(exc, "retryable", None) is False:
        return False  # e.g. an answer too large or too slow to read: the next one would be too
    if isinstance(exc, APIConnectionError):
        return replayable or not exc.sent
    if isinstance(exc, InvalidResponseError):
        return replayable
    if isinstance(exc, APIStatusError):
        if isinstance(exc, ConcurrencyLimitError) or exc.status in NEVER_RETRY_STATUSES:
            return False
        if exc.retryable is not None:
            return exc.retryable and (replayable or exc.status == 429)
        if exc.status == 429:
            return True  # rate limited: nothing was done, so even an unkeyed POST may go again
        return replayable and exc.status in RETRY_STATUSES
    return False


def backoff(attempt: int, rng: Callable[[], float] = random.random) -> float:
    """Exponential backoff with jitter for retry number ``attempt`` (1-based)."""
    ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2.0 ** (attempt - 1))
    return ceiling / 2 + rng() * ceiling / 2


def clamp_retry_after(retry_after: float | None, max_retry_wait: float) -> float:
    """A server-asked wait (Retry-After, ``retry_after_seconds``) bounded to ``[0, max_retry_wait]``."""
    if retry_after is None or not retry_after > 0:  # None, negative or NaN: no wait asked
        return 0.0
    return min(float(retry_after), max_retry_wait)


def clamp_poll_hint(hint: float, policy: PollPolicy) -> float:
    """A task's ``poll_after_seconds`` bounded to ``[interval / 10, max_interval * 6]``.

    A hint of ``1e9`` (or ``1e400``, infinity) would mean never polling the task again.
    """
    low, high = policy.interval / 10, policy.max_interval * 6
    if not hint > low:  # NaN too
        return low
    return min(float(hint), high)


def _asks_too_long(exc: BaseException | None, max_retry_wait: float) -> bool:
    retry_after = getattr(exc, "retry_after", None)
    return isinstance(retry_after, (int, float)) and not retry_after <= max_retry_wait


async def call_with_retries(
    send: Callable[[], Awaitable[T]],
    *,
    max_retries: int,
    replayable: bool,
    describe: str,
    sleep: Callable[[float], Awaitable[None]] = anyio_sleep,
    first_error: BaseException | None = None,
    max_retry_wait: float = math.inf,
) -> T:
    """Run ``send`` until it succeeds, may not be retried, or retries run out.

    ``max_retry_wait``: an error asking for a longer wait is raised at once; every
    other wait is at most this long.

    ``first_error``: the caller already made the first attempt (outside this loop, so
    a call that succeeds at once pays nothing for it) and it failed with this; it
    counts as attempt one.
    """
    # Imported here: only a call that failed once ever needs tenacity (and anyio's clock).
    import anyio
    from tenacity import AsyncRetrying, retry_if_exception

    attempt = send
    if first_error is not None:
        pending = [first_error]

        async def attempt() -> T:
            if pending:
                raise pending.pop()
            return await send()

    def _wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome is not None else None
        delay = backoff(state.attempt_number)
        if isinstance(exc, APIStatusError) and exc.retry_after is not None:
            delay = max(delay, exc.retry_after)
        return min(delay, max_retry_wait)

    def _stop(state: RetryCallState) -> bool:
        if state.attempt_number > max_retries:
            return True
        if _asks_too_long(state.outcome.exception() if state.outcome is not None else None, max_retry_wait):
            return True
        deadline = anyio.current_effective_deadline()
        # A wait that would outlast the caller's deadline is not worth starting.
        return not math.isinf(deadline) and anyio.current_time() + (state.upcoming_sleep or 0) >= deadline

    def _before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome is not None else None
        logger.info(
            "retrying %s in %.2fs (retry %d of %d) after %s",
            describe,
            state.upcoming_sleep,
            state.attempt_number,
            max_retries,
            exc,
        )

    retrying = AsyncRetrying(
        retry=retry_if_exception(lambda e: should_retry(e, replayable=replayable)),
        wait=_wait,
        stop=_stop,
        sleep=sleep,
        before_sleep=_before_sleep,
        reraise=True,
    )
    return await retrying(attempt)
