"""Fault injection: make chosen routes misbehave a given number of times.

A fault plays what an edge proxy or a flaky network does: an error answer in
BeatAPI's envelope (with or without ``retryable`` / Retry-After), a raw body
(HTML, malformed JSON), a dropped connection, or a stall. With ``after=True``
the real handler runs first, so its side effect happens (a task is created,
credits are charged) and only the answer is lost or replaced.
"""

from __future__ import annotations

import fnmatch
from typing import Any

import attrs
from aiohttp import web

from ._http import CODE_BY_STATUS, STATUS_BY_CODE, ApiError, error_response


@attrs.define(eq=False, kw_only=True)
class Fault:
    """One injected fault on ``method`` + ``path`` (a glob); fires ``times`` times (None: forever)."""

    method: str
    path: str
    status: int | None = None
    code: str | None = None
    message: str | None = None
    retryable: bool | None = None
    retry_after: int | None = None
    body: bytes | str | None = None
    content_type: str | None = None
    reset: bool = False
    stall: float = 0.0
    after: bool = False
    times: int | None = 1
    fired: int = 0

    def __attrs_post_init__(self) -> None:
        if self.body is not None and self.code is not None:
            raise ValueError("give either code (an error envelope) or body (a raw answer), not both")
        if self.times is not None and self.times < 1:
            raise ValueError("times must be at least 1 (or None for every request)")

    @property
    def exhausted(self) -> bool:
        """Whether the fault has fired its ``times``."""
        return self.times is not None and self.fired >= self.times

    def matches(self, method: str, paths: tuple[str, ...]) -> bool:
        """Whether the fault applies to a request (any of its path spellings)."""
        if self.method != "*" and self.method.upper() != method.upper():
            return False
        return any(fnmatch.fnmatchcase(p, self.path) for p in paths)

    @property
    def answers(self) -> bool:
        """Whether the fault replaces the answer (not only delays it)."""
        return self.reset or self.body is not None or self.status is not None or self.code is not None

    def response(self, request: web.Request, request_id: str) -> web.StreamResponse:
        """Return the faulty answer (a reset closes the connection first)."""
        if self.reset:
            # Closing the transport drops the connection without a status line;
            # aiohttp discards the answer it is then handed.
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=500)
        if self.body is not None:
            raw = self.body.encode() if isinstance(self.body, str) else bytes(self.body)
            content_type = self.content_type or ("text/html" if raw.lstrip().startswith(b"<") else "application/json")
            headers = {"x-request-id": request_id, "Content-Type": content_type}
            return web.Response(status=self.status or 200, body=raw, headers=headers)
        status = self.status or STATUS_BY_CODE.get(self.code or "", 500)
        code = self.code or CODE_BY_STATUS.get(status, "internal_error")
        message = self.message or f"Injected fault: {status} {code}."
        error = ApiError(status, code, message, retry_after=self.retry_after, retryable=self.retryable)
        return error_response(error, request_id)


class Faults:
    """The active faults, first added first."""

    def __init__(self) -> None:
        self.active: list[Fault] = []

    def add(self, **fields: Any) -> Fault:
        """Add a fault (fields of ``Fault``) and return it."""
        fault = Fault(**fields)
        self.active.append(fault)
        return fault

    def take(self, method: str, paths: tuple[str, ...]) -> Fault | None:
        """Return the first fault for this request, counting it as fired."""
        for fault in self.active:
            if fault.matches(method, paths):
                fault.fired += 1
                if fault.exhausted:
                    self.active.remove(fault)
                return fault
        return None

    def clear(self) -> None:
        """Remove every fault."""
        self.active.clear()
