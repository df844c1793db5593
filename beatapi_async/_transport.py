"""The transport seam: one ``send`` method; the aiohttp implementation moves bytes.

This is the one place where aiohttp's exceptions become ours.
"""

from __future__ import annotations

import asyncio
from typing import Protocol, runtime_checkable

import aiohttp

from ._config import Timeouts
from ._exceptions import APIConnectionError, APITimeoutError, BeatAPIError
from ._protocol import Request, Response


@runtime_checkable
class Transport(Protocol):
    """Sends one request and returns its answer; raises only ``APIConnectionError``."""

    async def send(self, request: Request, *, timeout: Timeouts) -> Response: ...

    async def aclose(self) -> None: ...


class AiohttpTransport:
    """A ``Transport`` over one reused ``aiohttp.ClientSession``.

    A session passed in is the caller's: it is used as is and never closed here.
    """

    def __init__(self, session: aiohttp.ClientSession | None = None) -> None:
        self._session = session
        self._owned = session is None
        self._timeouts: dict[Timeouts, aiohttp.ClientTimeout] = {}

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or (self._owned and self._session.closed):
            # Created lazily: aiohttp wants a running event loop.
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=100, ttl_dns_cache=300), skip_auto_headers=("User-Agent",)
            )
        return self._session

    def _client_timeout(self, timeout: Timeouts) -> aiohttp.ClientTimeout:
        ct = self._timeouts.get(timeout)
        if ct is None:
            ct = aiohttp.ClientTimeout(total=timeout.total, sock_connect=timeout.connect, sock_read=timeout.read)
            self._timeouts[timeout] = ct
        return ct

    async def send(self, request: Request, *, timeout: Timeouts) -> Response:
        session = self._get_session()
        if session.closed:  # only a caller's session can be closed here; aiohttp would raise RuntimeError
            raise BeatAPIError("the aiohttp.ClientSession given to AsyncBeatAPI is closed", code="session_closed")
        data = request.body_factory() if request.body_factory is not None else request.body
        what = f"{request.method} {request.path}"
        try:
            async with session.request(
                request.method,
                request.url,
                headers=request.headers,
                data=data,
                timeout=self._client_timeout(timeout),
                allow_redirects=False,
            ) as resp:
                body = await resp.read()
                headers = {k.lower(): v for k, v in resp.headers.items()}
                return Response(status=resp.status, headers=headers, body=body)
        except aiohttp.ConnectionTimeoutError:
            raise APITimeoutError(f"{what}: connect timeout after {timeout.connect}s", sent=False) from None
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            raise APITimeoutError(f"{what}: request timed out") from None
        except aiohttp.ClientConnectorError as exc:
            raise APIConnectionError(f"{what}: could not connect: {exc.os_error or exc}", sent=False) from None
        except (aiohttp.ClientError, OSError) as exc:
            raise APIConnectionError(f"{what}: {type(exc).__name__}: {exc}") from None
        finally:
            # An upload body opens files per attempt; let it close them now.
            release = getattr(request.body_factory, "release", None)
            if callable(release):
                release()

    async def aclose(self) -> None:
        if self._owned and self._session is not None and not self._session.closed:
            await self._session.close()
