"""Value objects the emulator exposes to tests: its knobs and what it recorded."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Literal

import attrs
from multidict import CIMultiDict

OutcomeKind = Literal["succeed", "fail", "hang"]
OUTCOMES: tuple[OutcomeKind, ...] = ("succeed", "fail", "hang")

# What BeatAPI says for each failure code (contract: Error.code, the failed-task example).
ERROR_MESSAGES: Mapping[str, str] = {
    "processing_failed": "No usable video output was produced.",
    "processing_timeout": "Task waited too long for platform capacity.",
    "result_transfer_failed": "The result could not be transferred to BeatAPI media storage.",
}


@attrs.frozen(kw_only=True)
class Durations:
    """How long each step takes, in BeatAPI seconds (divided by ``speed`` in real time)."""

    queued: float = 5.0
    music_video: float = 120.0
    ecommerce_video: float = 90.0
    edit: float = 30.0
    compose: float = 20.0
    # How long a realtime session stays ``ready`` before it expires unused.
    session_ttl: float = 60.0
    # Audio length assumed when BeatAPI cannot measure it (a non-WAV upload, a
    # foreign audio_url) and the request gives no ``duration``.
    default_audio: float = 15.0

    @classmethod
    def coerce(cls, value: Durations | Mapping[str, float] | None) -> Durations:
        """Accept a ``Durations``, a mapping of its fields, or None (the defaults)."""
        if value is None:
            return cls()
        if isinstance(value, Durations):
            return value
        return cls(**{k: float(v) for k, v in value.items()})


@attrs.frozen(kw_only=True)
class Outcome:
    """How a task's next step ends: succeed, fail with a code, or never finish."""

    kind: OutcomeKind = "succeed"
    error_code: str = "processing_failed"
    error_message: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.kind not in OUTCOMES:
            raise ValueError(f"outcome must be one of {OUTCOMES}, not {self.kind!r}")

    @property
    def message(self) -> str:
        """The error message a failed task carries."""
        return self.error_message or ERROR_MESSAGES.get(self.error_code, "The task failed.")


@attrs.define(kw_only=True)
class Script:
    """An outcome for tasks created from now on (``match`` picks them; ``times`` counts them)."""

    outcome: Outcome
    match: Callable[[dict[str, Any]], bool] | None = None
    times: int | None = None

    def take(self, body: dict[str, Any]) -> bool:
        """Return True (and count one use) if this script applies to a create with ``body``."""
        if self.times is not None and self.times <= 0:
            return False
        if self.match is not None and not self.match(body):
            return False
        if self.times is not None:
            self.times -= 1
        return True


def _headers_repr(headers: CIMultiDict[str]) -> str:
    # Keep keys out of test output and tracebacks.
    shown = {k: ("<redacted>" if k.lower() in ("authorization", "idempotency-key") else v) for k, v in headers.items()}
    return repr(shown)


# Bodies up to this size are kept whole in a record; a larger one (an upload) keeps
# only its first BODY_PREFIX_BYTES (enough to see multipart part headers), so a
# long-running emulator does not hold a copy of every upload (issue: bounded records).
BODY_KEEP_BYTES = 64 * 1024
BODY_PREFIX_BYTES = 4 * 1024


@attrs.define(kw_only=True)
class RecordedRequest:
    """One request the emulator received (``time`` is ``time.monotonic()``; ``status`` what it answered).

    ``body`` is the whole body when it is at most ``BODY_KEEP_BYTES``; otherwise
    its first ``BODY_PREFIX_BYTES`` and ``truncated`` is True. ``size`` is the
    body's real length either way.
    """

    method: str
    path: str
    query: dict[str, str]
    headers: CIMultiDict[str] = attrs.field(repr=_headers_repr)
    body: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    size: int = 0
    json: Any = None
    time: float
    request_id: str
    status: int | None = None

    @property
    def truncated(self) -> bool:
        """Whether ``body`` is only the start of what was sent."""
        return self.size > len(self.body)

    @staticmethod
    def summarise(body: bytes) -> bytes:
        """Return what a record keeps of ``body``."""
        return body if len(body) <= BODY_KEEP_BYTES else body[:BODY_PREFIX_BYTES]


@attrs.frozen(kw_only=True)
class LedgerEntry:
    """One movement of credits.

    ``kind`` is ``charge`` (taken from the balance), ``settle`` (kept for work
    done) or ``refund`` (given back); ``operation`` says for what: ``create``,
    ``edit``, ``compose`` or ``realtime``. Tasks fill ``task_id``, realtime
    sessions ``session_id``.
    """

    kind: Literal["charge", "settle", "refund"]
    operation: Literal["create", "edit", "compose", "realtime"]
    amount: Decimal
    time: float
    task_id: str | None = None
    session_id: str | None = None


@attrs.frozen(kw_only=True)
class Delivery:
    """One webhook delivery attempt: ``status`` is the receiver's HTTP status, or ``error`` says what failed."""

    endpoint_id: str
    url: str
    event_id: str
    event: str
    task_id: str
    attempt: int
    time: float
    status: int | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the receiver answered 2xx."""
        return self.status is not None and 200 <= self.status < 300
