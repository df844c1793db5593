"""The error tree of beatapi-async.

Every error the public API raises is a ``BeatAPIError``::

    BeatAPIError
    ├── APIStatusError                 an HTTP error answer (status, code, message, request_id, ...)
    │   ├── BadRequestError            400
    │   ├── AuthenticationError        401 (and a missing API key, status None)
    │   ├── InsufficientCreditsError   402
    │   ├── PermissionDeniedError      403
    │   ├── NotFoundError              404
    │   ├── ConflictError              409 (e.g. idempotency_conflict)
    │   ├── RateLimitError             429 rate_limit_exceeded
    │   ├── ConcurrencyLimitError      429 user_concurrency_exceeded
    │   ├── ServiceUnavailableError    503
    │   └── InternalServerError        other 5xx
    ├── APIConnectionError             the request or its answer was lost on the way
    │   └── APITimeoutError            ... because a timeout ran out (also a TimeoutError)
    ├── InvalidResponseError           a 2xx that is not JSON or has the wrong shape
    ├── RequestValidationError         bad input caught before sending (also a ValueError)
    ├── TaskFailedError                a waited-on task ended ``failed`` (``.task``)
    ├── WaitTimeoutError               a wait's deadline passed (also a TimeoutError)
    ├── WebhookVerificationError       a webhook delivery failed verification
    └── CoordinationError              the fleet's coordinator (Redis) is unreachable or too slow

Every error has ``code`` (a short string: BeatAPI's error code, or the SDK's own, such
as ``client_closed``, ``validation_error``, ``wait_timeout``, ``task_failed``,
``webhook_invalid``, ``connection_error``, ``timeout``) and ``request_id`` (the last
answer's, None when no answer came). ``str(error)`` names both and never a secret.

``error_from_response`` (in ``_protocol``) is the one place that turns an HTTP answer
into an error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._models import Task


class BeatAPIError(Exception):
    """Base class of every error raised by beatapi-async.

    ``code`` is a short machine-readable string (the class default unless given);
    ``request_id`` is the id of the answer that caused the error, if one came.
    """

    code: str = "beatapi_error"
    request_id: str | None = None
    message: str

    def __init__(self, message: str, *, code: str | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.request_id = request_id

    def __str__(self) -> str:
        return f"{self.code}: {self.message} (request_id={self.request_id or 'none'})"

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code!r}, message={self.message!r}, request_id={self.request_id!r})"


class APIStatusError(BeatAPIError):
    """BeatAPI answered with an HTTP error status."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None,
        code: str | None = None,
        request_id: str | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        details: Any = None,
    ) -> None:
        # A status error built without a code (by hand, or by a proxy's answer) still has one.
        super().__init__(message, code=code or (f"http_{status}" if status else "api_error"), request_id=request_id)
        self.status = status
        self.retry_after = retry_after
        self.retryable = retryable
        self.details = details

    def __str__(self) -> str:
        head = f"{self.status} {self.code}" if self.status is not None else self.code
        return f"{head}: {self.message} (request_id={self.request_id or 'none'})"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, code={self.code!r}, "
            f"message={self.message!r}, request_id={self.request_id!r})"
        )


class BadRequestError(APIStatusError):
    """400: BeatAPI refused the request as invalid."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing, wrong or inactive."""


class InsufficientCreditsError(APIStatusError):
    """402: the account's balance does not cover the task."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this (or an edge proxy refused the request)."""


class NotFoundError(APIStatusError):
    """404: no such task, shot, webhook endpoint or session."""


class ConflictError(APIStatusError):
    """409: e.g. an Idempotency-Key reused with another body."""


class RateLimitError(APIStatusError):
    """429 ``rate_limit_exceeded``: too many requests; wait ``retry_after`` seconds."""


class ConcurrencyLimitError(APIStatusError):
    """429 ``user_concurrency_exceeded``: the account runs as many tasks as it may."""


class ServiceUnavailableError(APIStatusError):
    """503: BeatAPI is briefly unavailable."""


class InternalServerError(APIStatusError):
    """A 5xx other than 503."""


class APIConnectionError(BeatAPIError):
    """The request or its answer was lost on the network.

    ``sent`` is False when the request provably never reached the server (the
    connection could not be made), so even an unkeyed billable POST may be re-sent.
    """

    code = "connection_error"

    def __init__(self, message: str = "Connection error.", *, sent: bool = True, retryable: bool | None = None) -> None:
        super().__init__(message)  # no answer came, so no request id
        self.sent = sent
        self.retryable = retryable  # False: retrying cannot help (an answer trickled past the total timeout)


class APITimeoutError(APIConnectionError, TimeoutError):
    """A connect, read or total timeout of one request ran out."""

    code = "timeout"

    def __init__(
        self, message: str = "Request timed out.", *, sent: bool = True, retryable: bool | None = None
    ) -> None:
        super().__init__(message, sent=sent, retryable=retryable)


class InvalidResponseError(BeatAPIError):
    """BeatAPI answered 2xx with a body that is not JSON or not of the expected shape."""

    code = "invalid_response"

    def __init__(
        self, message: str, *, status: int | None = None, request_id: str | None = None, retryable: bool | None = None
    ) -> None:
        super().__init__(message, request_id=request_id)
        self.status = status
        self.retryable = retryable  # False: e.g. an answer too large to read; the next would be too

    def __str__(self) -> str:
        return f"{self.status or ''} {super().__str__()}".lstrip()


class RequestValidationError(BeatAPIError, ValueError):
    """Bad input, found before anything was sent. ``field`` and ``rule`` say what and why."""

    code = "validation_error"

    def __init__(self, field: str, rule: str) -> None:
        super().__init__(f"{field}: {rule}")
        self.field = field
        self.rule = rule


class TaskFailedError(BeatAPIError):
    """A waited-on task ended ``failed``. ``task`` is the final task as BeatAPI reported it."""

    code = "task_failed"

    def __init__(self, task: Task) -> None:
        self.task = task
        # The task's own error code says why; ``task_failed`` when BeatAPI gave none.
        super().__init__(
            task.error_message or "The task failed.", code=task.error_code or None, request_id=task.request_id
        )

    def __str__(self) -> str:
        return f"task {self.task.id} failed: {super().__str__()}"


class WaitTimeoutError(BeatAPIError, TimeoutError):
    """A wait's deadline passed; the task keeps running at BeatAPI and can be waited on again."""

    code = "wait_timeout"

    def __init__(self, task_id: str, *, last_task: Task | None, elapsed: float) -> None:
        self.task_id = task_id
        self.last_task = last_task
        self.elapsed = elapsed
        status = last_task.status if last_task is not None else "unknown"
        super().__init__(
            f"task {task_id} still {status} after {elapsed:.1f}s; "
            "it keeps running at BeatAPI and can be waited on again by id",
            request_id=last_task.request_id if last_task is not None else None,
        )


class WebhookVerificationError(BeatAPIError):
    """A webhook delivery failed verification; ``reason`` says why (never the secret)."""

    code = "webhook_invalid"

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class CoordinationError(BeatAPIError):
    """The coordinator a fleet shares (Redis) could not be reached in time; nothing billable was sent."""

    code = "coordination_error"


_BY_STATUS: Mapping[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: InsufficientCreditsError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def error_class(status: int, code: str | None) -> type[APIStatusError]:
    """Return the error class for an HTTP status and BeatAPI error code."""
    if status == 429 and code == "user_concurrency_exceeded":
        return ConcurrencyLimitError
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls
    if status >= 500:
        return InternalServerError
    return APIStatusError
