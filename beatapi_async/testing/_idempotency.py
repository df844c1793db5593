"""``Idempotency-Key`` memory (NOTES: Idempotency).

Same key, same route and same body: the first answer's object comes back and
nothing is charged again. Same key with another route or body: 409
``idempotency_conflict``. Only accepted requests are remembered, so a request
refused with 402 or 429 can be retried with its key.
"""

from __future__ import annotations

import json
from typing import Any

import attrs

from .._exceptions import RequestValidationError
from .._validate import check_idempotency_key
from ._http import ApiError, bad_request


@attrs.frozen
class Remembered:
    """What a key produced: the answer's status and the id of the object it returned."""

    status: int
    object_id: str


class IdempotencyKeys:
    """Keys seen on billable POSTs, with the request each belonged to."""

    def __init__(self) -> None:
        self._seen: dict[str, tuple[str, str, Remembered]] = {}

    @staticmethod
    def key_of(headers: Any, *, required: bool) -> str | None:
        """Return the request's Idempotency-Key (checked), or None when absent and optional."""
        key = headers.get("Idempotency-Key")
        if key is None:
            if required:
                raise bad_request(
                    "The Idempotency-Key header is required.", field="Idempotency-Key", rule="is required"
                )
            return None
        try:
            check_idempotency_key(key)
        except RequestValidationError as exc:
            raise bad_request(f"Idempotency-Key {exc.rule}.", field="Idempotency-Key", rule=exc.rule) from None
        return str(key)

    @staticmethod
    def _fingerprint(body: dict[str, Any]) -> str:
        return json.dumps(body, sort_keys=True, separators=(",", ":"))

    def lookup(self, key: str | None, scope: str, body: dict[str, Any]) -> Remembered | None:
        """Return what ``key`` produced for this very request, None if new; 409 if it was another request."""
        if key is None or key not in self._seen:
            return None
        seen_scope, seen_body, remembered = self._seen[key]
        if seen_scope != scope or seen_body != self._fingerprint(body):
            raise ApiError(
                409,
                "idempotency_conflict",
                "This Idempotency-Key was already used with a different request.",
            )
        return remembered

    def remember(self, key: str | None, scope: str, body: dict[str, Any], remembered: Remembered) -> None:
        """Record what an accepted request with ``key`` produced."""
        if key is not None:
            self._seen[key] = (scope, self._fingerprint(body), remembered)

    def clear(self) -> None:
        """Forget every key."""
        self._seen.clear()
