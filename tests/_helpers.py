"""Helpers shared by the core tests (constants, fixtures on disk, request capture)."""

from __future__ import annotations

import asyncio
import io
import json
import wave
from types import SimpleNamespace
from typing import Any

import aiohttp
from aioresponses import aioresponses

# BeatAPI's golden sample bodies live beside the project, not in it (NOTES.md).
from ._shared import FIXTURES, require

MOCK_BASE = "https://api.beatapi.io"
MOCK_KEY = "sk_test_mocked_abcdef123456"

IMG = "https://media.beatapi.io/samples/neon-singer.png"
AUDIO = "https://media.beatapi.io/samples/neon-singer-preview.mp3"


def wav_bytes(seconds: float = 12.0, rate: int = 8000) -> bytes:
    """A silent mono 8-bit WAV of ``seconds``: BeatAPI (and the emulator) bill and check its length."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(1)
        writer.setframerate(rate)
        writer.writeframes(b"\x80" * int(seconds * rate))
    return buffer.getvalue()


def fixture(name: str) -> Any:
    """Load one golden fixture, skipping the test when the shared folder is absent."""
    return json.loads(require(FIXTURES / name).read_text())


class Sleeps:
    """A retry sleep that records the delays asked for and costs no real time."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)
        await asyncio.sleep(0)


class _CompatResponse(aiohttp.ClientResponse):
    """aioresponses 0.7.9 builds responses without the ``stream_writer`` aiohttp 3.12+ requires."""

    def __init__(self, method: str, url: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream_writer", SimpleNamespace(output_size=0))
        super().__init__(method, url, **kwargs)


class Mocked(aioresponses):
    """``aioresponses`` whose canned answers work on the installed aiohttp."""

    def add(self, url: Any, method: str = "GET", **kwargs: Any) -> None:  # type: ignore[override]
        if kwargs.get("response_class") is None:
            kwargs["response_class"] = _CompatResponse
        super().add(url, method, **kwargs)


def calls(m: aioresponses, method: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """Every request aioresponses intercepted: (method, url, kwargs)."""
    return [
        (meth, str(url), call.kwargs)
        for (meth, url), seen in m.requests.items()
        for call in seen
        if method is None or meth == method
    ]


def error_body(code: str, message: str = "Something went wrong.", **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "request_id": "req_err_1", **extra}}


def _status_cases() -> list[tuple[int, str, type[Any]]]:
    from beatapi_async import (
        APIStatusError,
        AuthenticationError,
        BadRequestError,
        ConcurrencyLimitError,
        ConflictError,
        InsufficientCreditsError,
        InternalServerError,
        NotFoundError,
        PermissionDeniedError,
        RateLimitError,
        ServiceUnavailableError,
    )

    return [
        (400, "bad_request", BadRequestError),
        (401, "unauthorized", AuthenticationError),
        (402, "insufficient_credits", InsufficientCreditsError),
        (403, "forbidden", PermissionDeniedError),
        (404, "not_found", NotFoundError),
        (409, "idempotency_conflict", ConflictError),
        (429, "rate_limit_exceeded", RateLimitError),
        (429, "user_concurrency_exceeded", ConcurrencyLimitError),
        (500, "internal_error", InternalServerError),
        (502, "bad_gateway", InternalServerError),
        (503, "processing_unavailable", ServiceUnavailableError),
        (504, "gateway_timeout", InternalServerError),
        (405, "method_not_allowed", APIStatusError),
        (418, "teapot", APIStatusError),
        (422, "unprocessable", APIStatusError),
    ]


# Every documented error status (and some undocumented 4xx) with its code and error class.
STATUS_CASES = _status_cases()
