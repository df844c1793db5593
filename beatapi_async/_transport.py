"""The transport seam: one ``send`` method; the aiohttp implementation moves bytes.

This is the one place where aiohttp's exceptions become ours, and where an answer's
size is bounded: a body (after decompression) larger than ``max_response_bytes`` is
refused while it streams in, so an endless or huge answer, or a gzip bomb, costs at
most that much memory.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import AsyncGenerator, Mapping
from typing import Protocol, runtime_checkable

import aiohttp

from ._config import DEFAULT_MAX_RESPONSE_BYTES, Timeouts
from ._connector import Connector
from ._deadlines import Deadlines
from ._exceptions import APIConnectionError, APITimeoutError, BeatAPIError, InvalidResponseError
from ._loops import runs_on
from ._protocol import Request, Response, new_response, request_id_of

#: The encodings this transport decodes itself (aiohttp's own decoding is unbounded).
ACCEPT_ENCODING = "gzip, deflate"
_ZLIB_AUTO = 32 + zlib.MAX_WBITS  # a zlib or a gzip header, whichever the server sent
_STEP = 256 * 1024  # inflate at most this much at a time: no large temporary beside the body


@runtime_checkable
class Transport(Protocol):
    """Sends one request and returns its answer; raises only ``BeatAPIError``."""

    async def send(self, request: Request, *, timeout: Timeouts) -> Response: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """A ``Transport`` over one reused ``aiohttp.ClientSession``.

    A session passed in is the caller's: it is used as is and never closed here; it
    belongs to the event loop it was made on. The session made here belongs to the
    running loop: used from a new loop (``asyncio.run`` twice), a new one is made there,
    and the old one is closed when its loop shuts down. It keeps no cookies.
    """

    def __init__(
        self, session: aiohttp.ClientSession | None = None, *, max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES
    ) -> None:
        self._session = session
        self._owned = session is None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop of the session made here
        self._closer: AsyncGenerator[None, None] | None = None
        self._max_bytes = max_response_bytes
        self._deadlines: Deadlines | None = None  # the attempts' total deadlines, on the loop they run on
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}
        self._last_timeout: Timeouts | None = None
        self._last_client_timeout = aiohttp.ClientTimeout()

    async def _session_here(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        session = self._session
        if not self._owned:
            assert session is not None
            bound = getattr(session, "_loop", loop)
            if bound is not loop:
                raise BeatAPIError(
                    "the aiohttp.ClientSession given to AsyncBeatAPI belongs to another event loop; make the "
                    "session on the loop that uses the client (or let the client make its own)",
                    code="session_wrong_loop",
                )
            if session.closed:  # aiohttp would raise RuntimeError
                raise BeatAPIError("the aiohttp.ClientSession given to AsyncBeatAPI is closed", code="session_closed")
            return session
        if session is not None and not session.closed and self._loop is loop:
            return session
        if session is not None and not session.closed:
            _retire(session, self._loop)
        session = self._session = aiohttp.ClientSession(
            # No skip_auto_headers: every request carries the SDK's own User-Agent, so aiohttp
            # adds none, and a skip list would cost a header copy on every request.
            connector=Connector(limit=100, ttl_dns_cache=300),  # (cheaper reads and read timer)
            cookie_jar=aiohttp.DummyCookieJar(),  # an answer's Set-Cookie is never stored or sent back
            raise_for_status=False,  # the status is ours to map
            auto_decompress=False,  # bodies are decoded in _read_body, within the size bound
        )
        self._loop = loop
        # asyncio.run (and pytest's loops) finalize async generators before closing the
        # loop: this one closes the session there, while its loop still runs.
        self._closer = _close_at_loop_end(session)
        await self._closer.__anext__()
        return session

    def _deadlines_here(self) -> Deadlines:
        loop = asyncio.get_running_loop()
        deadlines = self._deadlines
        if deadlines is None or deadlines.loop is not loop:
            deadlines = self._deadlines = Deadlines(loop)
        return deadlines

    def _client_timeout(self, timeout: Timeouts) -> aiohttp.ClientTimeout:
        # (send asks for the last one itself: the usual case, the client's one Timeouts again)
        ct = self._timeouts.get(timeout)
        if ct is None:
            # The total is ours to watch (``_deadlines``: far cheaper than aiohttp's timers).
            ct = aiohttp.ClientTimeout(total=None, sock_connect=timeout.connect, sock_read=timeout.read)
            self._timeouts[timeout] = ct
        self._last_timeout, self._last_client_timeout = timeout, ct
        return ct

    async def send(self, request: Request, *, timeout: Timeouts) -> Response:
        session, deadlines = self._session, self._deadlines
        if session is None or not self._owned or not runs_on(self._loop) or session.closed or deadlines is None:
            session = await self._session_here()
            deadlines = self._deadlines_here()
        headers = request.headers
        if "Accept-Encoding" not in headers:
            headers = {**headers, "Accept-Encoding": ACCEPT_ENCODING}
        answered = False  # the head of the answer came
        attempt = deadlines.start(timeout.total)
        try:
            data = request.body_factory() if request.body_factory is not None else request.body
            ct = self._last_client_timeout if timeout is self._last_timeout else self._client_timeout(timeout)
            if self._owned:  # made here to read bodies raw and never raise for a status (fewer arguments)
                call = session.request(
                    request.method, request.url, headers=headers, data=data, timeout=ct, allow_redirects=False
                )
            else:
                call = session.request(
                    request.method, request.url, headers=headers, data=data, timeout=ct, allow_redirects=False,
                    raise_for_status=False,  # a caller's session may say True: the status is ours to map
                    auto_decompress=False,  # decoded below, within the size bound
                )  # fmt: skip
            async with call as resp:
                answered = True
                # aiohttp's headers are looked up case-insensitively already: no lower-cased copy.
                answer_headers = resp.headers
                try:
                    length = resp.content_length
                    if length is not None and length <= self._max_bytes and "Content-Encoding" not in answer_headers:
                        body = await resp.read()  # the usual small JSON answer: read exactly, no streaming
                    else:
                        body = await _read_body(resp, answer_headers, self._max_bytes, request)
                except aiohttp.ServerTimeoutError:
                    raise APITimeoutError(f"{_what(request)}: read timeout after {timeout.read}s") from None
                return new_response(resp.status, answer_headers, body)
        except asyncio.CancelledError:
            if attempt is None or not attempt.timed_out():
                raise  # cancelled by someone else: not ours to turn into an error
            if answered:
                # The answer began but trickled past the attempt's total: the next would too.
                raise APITimeoutError(
                    f"{_what(request)}: the answer did not finish within the total timeout of {timeout.total}s",
                    retryable=False,
                ) from None
            raise APITimeoutError(f"{_what(request)}: no answer within the total timeout of {timeout.total}s") from None
        except BeatAPIError:  # ours already (APITimeoutError is a TimeoutError too: keep it as it is)
            raise
        except aiohttp.ConnectionTimeoutError:
            raise APITimeoutError(f"{_what(request)}: connect timeout after {timeout.connect}s", sent=False) from None
        except aiohttp.ServerTimeoutError:  # no byte of the answer within the read timeout
            raise APITimeoutError(f"{_what(request)}: read timeout after {timeout.read}s") from None
        except asyncio.TimeoutError:
            raise APITimeoutError(f"{_what(request)}: request timed out") from None
        except aiohttp.ClientConnectorError as exc:
            raise APIConnectionError(
                f"{_what(request)}: could not connect: {exc.os_error or exc}", sent=False
            ) from None
        except aiohttp.ClientResponseError as exc:
            # With raise_for_status=False this is an answer aiohttp could not parse
            # (e.g. too many or too long headers): a broken server, not a lost packet.
            raise InvalidResponseError(
                f"{_what(request)}: malformed HTTP answer: {exc.message}", retryable=False
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            failure = getattr(request.body_factory, "failure", None)
            if isinstance(failure, BeatAPIError):  # the body itself failed (e.g. a file truncated mid-upload)
                raise failure from None
            raise APIConnectionError(f"{_what(request)}: {type(exc).__name__}: {exc}") from None
        finally:
            if attempt is not None:
                deadlines.end(attempt)
            if request.body_factory is not None:
                # An upload body opens files per attempt; let it close them now.
                release = getattr(request.body_factory, "release", None)
                if callable(release):
                    release()

    async def aclose(self) -> None:
        session, loop, closer = self._session, self._loop, self._closer
        if not self._owned or session is None:
            return
        self._session = self._closer = None
        if session.closed:
            return
        if loop is asyncio.get_running_loop():
            await session.close()
            if closer is not None:
                await closer.aclose()
        else:
            await _close_elsewhere(session, loop)


def _what(request: Request) -> str:
    """How errors name a request (built only when one is raised)."""
    return f"{request.method} {request.path}"


def _refused(message: str, status: int, headers: Mapping[str, str]) -> InvalidResponseError:
    """An answer the transport will not take: not retried (the next attempt would be the same)."""
    return InvalidResponseError(message, status=status, request_id=request_id_of(headers), retryable=False)


def _too_large(what: str, limit: int, status: int, headers: Mapping[str, str]) -> InvalidResponseError:
    return _refused(
        f"{what}: the answer is larger than max_response_bytes ({limit} bytes); refused unread "
        "(AsyncBeatAPI(max_response_bytes=...) raises the bound)",
        status,
        headers,
    )


async def _read_body(resp: aiohttp.ClientResponse, headers: Mapping[str, str], limit: int, request: Request) -> bytes:
    """Read the body, decoding gzip/deflate, and refuse it once it passes ``limit`` bytes."""
    length = resp.content_length
    if length is not None and length > limit:
        resp.close()  # not reused: the rest of the body is never read
        raise _too_large(_what(request), limit, resp.status, headers)
    encoding = (headers.get("content-encoding") or "").strip().lower()
    plain = encoding in ("", "identity")
    if plain and length is not None:
        # The usual small JSON answer: a plain body of a known length within the bound
        # (checked above), which aiohttp reads exactly; no streaming needed.
        return await resp.read()
    what = _what(request)
    decoder = None
    if encoding in ("gzip", "x-gzip", "deflate"):
        decoder = zlib.decompressobj(_ZLIB_AUTO)
    elif not plain:
        resp.close()
        unsupported = f"{what}: unsupported Content-Encoding {encoding[:40]!r} (asked for {ACCEPT_ENCODING})"
        raise _refused(unsupported, resp.status, headers)
    body = bytearray()
    try:
        async for chunk in resp.content.iter_any():
            if decoder is None:
                body += chunk
            else:
                pending = chunk
                while pending:  # decompress at most what still fits, so a bomb never inflates
                    body += decoder.decompress(pending, min(_STEP, limit + 1 - len(body)))
                    if len(body) > limit:
                        break
                    pending = decoder.unconsumed_tail
            if len(body) > limit:
                resp.close()
                raise _too_large(what, limit, resp.status, headers)
    except zlib.error as exc:
        resp.close()
        raise _refused(f"{what}: a {encoding} body that does not decode: {exc}", resp.status, headers) from None
    return bytes(body)


async def _close_at_loop_end(session: aiohttp.ClientSession) -> AsyncGenerator[None, None]:
    """An async generator whose finalization (at the loop's ``shutdown_asyncgens``) closes ``session``."""
    try:
        yield
    finally:
        if not session.closed:
            await session.close()


def _retire(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop | None) -> None:
    """Close a session of another loop without waiting, where that loop can still run it."""
    if loop is not None and loop.is_running():
        asyncio.run_coroutine_threadsafe(session.close(), loop)
    # A loop that is closed has run its shutdown (which closed the session), or was
    # closed without one: then nothing can run its sockets' close any more.


async def _close_elsewhere(session: aiohttp.ClientSession, loop: asyncio.AbstractEventLoop | None) -> None:
    if loop is not None and loop.is_running():
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(session.close(), loop))
