"""Transport behaviour with aioresponses (headers, paths, errors) and a few real loopback sockets."""

from __future__ import annotations

import asyncio
import gc
import re
import socket
import sys
import warnings
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses
from yarl import URL

from beatapi_async import (
    AiohttpTransport,
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncBeatAPI,
    AuthenticationError,
    BeatAPIError,
    InternalServerError,
    InvalidResponseError,
    PermissionDeniedError,
    RequestValidationError,
    Timeouts,
    Transport,
    __version__,
)

from ._helpers import MOCK_BASE, MOCK_KEY, STATUS_CASES, calls, error_body
from ._loopback import API_KEY, LoopbackBeatAPI, ok, task

PY = f"{sys.version_info.major}.{sys.version_info.minor}"
TASK_URL = f"{MOCK_BASE}/v1/tasks/task_1"


def headers_of(m: aioresponses, method: str = "GET") -> dict[str, str]:
    (_, _, kwargs), *_ = calls(m, method)
    return dict(kwargs["headers"])


# -- headers ----------------------------------------------------------------------------


async def test_headers_on_authed_call(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    await client.tasks.get("task_1")
    h = headers_of(mocked)
    assert h["Authorization"] == f"Bearer {MOCK_KEY}"
    assert h["Accept"] == "application/json"
    assert h["User-Agent"] == f"beatapi-async/{__version__} python/{PY}"
    assert "Content-Type" not in h  # a GET has no body


async def test_user_agent_suffix(mocked: aioresponses) -> None:
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    async with AsyncBeatAPI(MOCK_KEY, user_agent="acme-worker/2.0") as c:
        await c.tasks.get("task_1")
    assert headers_of(mocked)["User-Agent"] == f"beatapi-async/{__version__} python/{PY} acme-worker/2.0"


async def test_workflows_are_anonymous(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.get(f"{MOCK_BASE}/v1/workflows", payload={"data": {"object": "list", "data": []}})
    assert await client.workflows.list() == []
    h = headers_of(mocked)
    assert "Authorization" not in h and h["User-Agent"].startswith("beatapi-async/")


async def test_workflows_need_no_key(mocked: aioresponses, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEATAPI_API_KEY", raising=False)
    mocked.get(f"{MOCK_BASE}/v1/workflows", payload={"data": {"object": "list", "data": []}})
    async with AsyncBeatAPI() as c:
        assert await c.workflows.list() == []


async def test_missing_key_names_the_variable(mocked: aioresponses, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEATAPI_API_KEY", raising=False)
    async with AsyncBeatAPI() as c:
        with pytest.raises(AuthenticationError, match="BEATAPI_API_KEY") as info:
            await c.tasks.get("task_1")
    assert info.value.status is None and info.value.code == "missing_api_key"
    assert calls(mocked) == []


async def test_env_key_is_used(mocked: aioresponses, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BEATAPI_API_KEY", "sk_env_key_42")
    monkeypatch.setenv("BEATAPI_BASE_URL", "https://eu.beatapi.test")
    mocked.get("https://eu.beatapi.test/v1/tasks/task_1", payload={"data": task("task_1")})
    async with AsyncBeatAPI() as c:
        await c.tasks.get("task_1")
    assert headers_of(mocked)["Authorization"] == "Bearer sk_env_key_42"


# -- ids in paths ---------------------------------------------------------------------------


async def test_ids_are_percent_encoded(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.get(re.compile(r".*"), payload={"data": {"id": "rts_a/b", "status": "ready"}})
    await client.realtime.get_session("rts_a/b")
    ((_, url, _),) = calls(mocked)
    assert URL(url).raw_path == "/v1/realtime/sessions/rts_a%2Fb"


@pytest.mark.parametrize("bad", ["", "   ", None, 5, ".", ".."])
async def test_empty_id_refused_before_sending(client: AsyncBeatAPI, mocked: aioresponses, bad: Any) -> None:
    for call in (
        lambda: client.tasks.get(bad),
        lambda: client.realtime.get_session(bad),
        lambda: client.realtime.close_session(bad),
        lambda: client.webhooks.get(bad),
        lambda: client.webhooks.delete(bad),
        lambda: client.webhooks.update(bad, status="disabled"),
        lambda: client.music_video.shot_media(bad, "shot_1"),
        lambda: client.music_video.shot_media("task_1", bad),
        lambda: client.music_video.edit_shot(bad, "shot_1", prompt="x"),
        lambda: client.music_video.compose(bad, ["shot_1"]),
    ):
        with pytest.raises(RequestValidationError, match="_id"):
            await call()
    assert calls(mocked) == []


# -- error mapping ------------------------------------------------------------------------



@pytest.mark.parametrize(("status", "code", "cls"), STATUS_CASES)
async def test_every_status_maps_to_its_class(
    mocked: aioresponses, status: int, code: str, cls: type[APIStatusError]
) -> None:
    body = error_body(code, f"{code} for {MOCK_KEY}", retry_after_seconds=2, retryable=False, details={"k": 1})
    mocked.get(TASK_URL, status=status, payload=body, headers={"Retry-After": "1"})
    async with AsyncBeatAPI(MOCK_KEY, max_retries=0) as c:
        with pytest.raises(cls) as info:
            await c.tasks.get("task_1")
    e = info.value
    assert type(e) is cls
    assert (e.status, e.code, e.request_id, e.retry_after, e.retryable, e.details) == (
        status,
        code,
        "req_err_1",
        2,
        False,
        {"k": 1},
    )
    text = str(e)
    assert str(status) in text and code in text and "req_err_1" in text
    assert MOCK_KEY not in text and MOCK_KEY not in repr(e) and MOCK_KEY not in e.message


async def test_html_error_becomes_typed(mocked: aioresponses) -> None:
    html = "<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1><p>cloudflare</p></body></html>"
    mocked.get(TASK_URL, status=502, body=html, content_type="text/html", headers={"x-request-id": "req_cf"})
    async with AsyncBeatAPI(MOCK_KEY, max_retries=0) as c:
        with pytest.raises(InternalServerError) as info:
            await c.tasks.get("task_1")
    assert info.value.status == 502 and info.value.code == "bad_gateway" and info.value.request_id == "req_cf"
    assert "502 Bad Gateway" in str(info.value)


async def test_edge_refusal_403_text(mocked: aioresponses) -> None:
    mocked.get(TASK_URL, status=403, body="error code: 1010", content_type="text/plain")
    async with AsyncBeatAPI(MOCK_KEY) as c:
        with pytest.raises(PermissionDeniedError, match="1010"):
            await c.tasks.get("task_1")
    assert len(calls(mocked)) == 1  # 403 is never retried


@pytest.mark.parametrize(
    "body", [b"<html>ok</html>", b"", b"[]", b'{"task": {}}', b'{"data": "task_1"}', b'{"data": {"id": 5}}']
)
async def test_bad_2xx_is_invalid_response(mocked: aioresponses, body: bytes) -> None:
    mocked.get(TASK_URL, status=200, body=body)
    async with AsyncBeatAPI(MOCK_KEY, max_retries=0) as c:
        with pytest.raises(InvalidResponseError):
            await c.tasks.get("task_1")


async def test_bad_list_is_invalid_response(mocked: aioresponses) -> None:
    mocked.get(f"{MOCK_BASE}/v1/webhooks", payload={"data": {"object": "list", "data": [{"url": "x"}]}})
    mocked.get(f"{MOCK_BASE}/v1/workflows", payload={"data": {"object": "list"}})
    async with AsyncBeatAPI(MOCK_KEY, max_retries=0) as c:
        with pytest.raises(InvalidResponseError, match="WebhookEndpoint"):
            await c.webhooks.list()
        with pytest.raises(InvalidResponseError):
            await c.workflows.list()


async def test_no_raw_exceptions_escape(mocked: aioresponses) -> None:
    raised = [
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("truncated"),
        asyncio.TimeoutError(),
        aiohttp.ClientOSError(104, "reset"),
        aiohttp.ClientConnectionError("x"),
        ConnectionResetError(),
    ]
    for exc in raised:
        mocked.get(TASK_URL, exception=exc)
    async with AsyncBeatAPI(MOCK_KEY, max_retries=0) as c:
        for exc in raised:
            with pytest.raises(APIConnectionError) as info:
                await c.tasks.get("task_1")
            assert info.value.sent is True, exc
            assert info.value.__cause__ is None or isinstance(info.value.__cause__, BeatAPIError)
    assert isinstance(APITimeoutError(), TimeoutError)


# -- sessions -----------------------------------------------------------------------------


async def test_callers_session_used_and_not_closed(server: LoopbackBeatAPI) -> None:
    async with aiohttp.ClientSession(headers={"X-Caller-Session": "yes"}) as session:
        async with AsyncBeatAPI(API_KEY, base_url=server.url, session=session) as c:
            await c.tasks.get("task_1")
        assert not session.closed
        (seen,) = server.requests
        assert seen.headers["X-Caller-Session"] == "yes"  # it went through the caller's session
        assert seen.headers["User-Agent"].startswith("beatapi-async/")  # ours, not aiohttp's default


async def test_callers_closed_session_is_our_error(mocked: aioresponses) -> None:
    session = aiohttp.ClientSession()
    await session.close()
    async with AsyncBeatAPI(MOCK_KEY, session=session, max_retries=0) as c:
        with pytest.raises(BeatAPIError, match="session"):
            await c.tasks.get("task_1")


async def test_async_with_closes_our_session(server: LoopbackBeatAPI) -> None:
    with warnings.catch_warnings():  # collect what earlier tests left, so only ours is judged
        warnings.simplefilter("ignore")
        gc.collect()
    async with AsyncBeatAPI(API_KEY, base_url=server.url) as c:
        await c.tasks.get("task_1")
    # An unclosed aiohttp session warns when collected; ours must not.
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        del c
        gc.collect()
    assert not [w for w in seen if "nclosed" in str(w.message)]


async def test_closed_client_refuses_calls(server: LoopbackBeatAPI) -> None:
    c = AsyncBeatAPI(API_KEY, base_url=server.url)
    await c.aclose()
    with pytest.raises(BeatAPIError, match="closed"):
        await c.tasks.get("task_1")
    assert server.requests == []


async def test_transport_seam(server: LoopbackBeatAPI) -> None:
    closed: list[bool] = []

    class Spy:
        def __init__(self) -> None:
            self.inner = AiohttpTransport()
            self.sent: list[str] = []

        async def send(self, request: Any, *, timeout: Timeouts) -> Any:
            self.sent.append(f"{request.method} {request.path}")
            return await self.inner.send(request, timeout=timeout)

        async def aclose(self) -> None:
            closed.append(True)
            await self.inner.aclose()

    spy = Spy()
    assert isinstance(spy, Transport)
    async with AsyncBeatAPI(API_KEY, base_url=server.url, transport=spy) as c:
        await c.usage.get()
    assert spy.sent == ["GET /v1/usage"] and closed == [True]


async def test_a_transport_sees_every_header_and_cannot_change_the_clients_own(server: LoopbackBeatAPI) -> None:
    seen: list[Any] = []

    class Spy(AiohttpTransport):
        async def send(self, request: Any, *, timeout: Timeouts) -> Any:
            seen.append(request.headers)
            return await super().send(request, timeout=timeout)

    async with AsyncBeatAPI(API_KEY, base_url=server.url, transport=Spy()) as c:
        await c.tasks.get("task_1")  # adds no header: the client's own, shared read-only
        await c.tasks.get("task_1", extra_headers={"X-Trace": "1"})  # a copy with the extra header
        await c.workflows.list()  # no key on this one
    plain, extra, anonymous = seen
    for headers in (plain, extra):
        assert headers["Authorization"] == f"Bearer {API_KEY}" and headers["Accept"] == "application/json"
        assert headers["Accept-Encoding"] == "gzip, deflate" and headers["User-Agent"].startswith("beatapi-async/")
    with pytest.raises(TypeError):
        plain["Authorization"] = "Bearer sk_test_other"
    assert extra["X-Trace"] == "1" and "X-Trace" not in plain
    assert "Authorization" not in anonymous and anonymous["Accept"] == "application/json"
    assert [r.headers.get("Authorization") for r in server.seen("GET", "/v1/tasks/task_1")] == [f"Bearer {API_KEY}"] * 2
    assert server.seen("GET", "/v1/tasks/task_1")[1].headers["X-Trace"] == "1"


# -- real sockets: refused, stalled ------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_connection_refused() -> None:
    async with AsyncBeatAPI(API_KEY, base_url=f"http://127.0.0.1:{_free_port()}", max_retries=0) as c:
        with pytest.raises(APIConnectionError) as info:
            await c.tasks.get("task_1")
    assert info.value.sent is False
    assert not isinstance(info.value, APITimeoutError)
    assert API_KEY not in str(info.value)


async def test_read_timeout_against_stalling_server(server: LoopbackBeatAPI) -> None:
    server.stall("GET", "/v1/tasks/task_1")
    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0, timeout=Timeouts(read=0.1)) as c:
        with pytest.raises(APITimeoutError) as info:
            await c.tasks.get("task_1")
    assert isinstance(info.value, TimeoutError) and info.value.sent is True


async def test_total_timeout_against_stalling_server(server: LoopbackBeatAPI) -> None:
    server.stall("GET", "/v1/usage")
    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0, timeout=0.1) as c:
        with pytest.raises(APITimeoutError):
            await c.usage.get()


async def test_per_call_timeout_overrides(server: LoopbackBeatAPI) -> None:
    server.stall("GET", "/v1/tasks/task_1")
    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0) as c:  # client default: read=60
        with pytest.raises(APITimeoutError):
            await c.tasks.get("task_1", timeout=Timeouts(read=0.1))
        server.stall("GET", "/v1/usage")
        with pytest.raises(APITimeoutError):
            await c.usage.get(timeout=0.05)

    async def slow() -> Any:
        await asyncio.sleep(0.2)
        return ok(task("task_2"))

    server.script("GET", "/v1/tasks/task_2", slow)
    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0, timeout=Timeouts(read=0.05)) as c:
        t = await c.tasks.get("task_2", timeout=Timeouts(read=5))  # the call's own timeout wins
    assert t.id == "task_2"


async def test_per_call_none_means_no_limit(server: LoopbackBeatAPI) -> None:
    async def slow() -> Any:
        await asyncio.sleep(0.15)
        return ok(task("task_3"))

    server.script("GET", "/v1/tasks/task_3", slow)
    async with AsyncBeatAPI(API_KEY, base_url=server.url, max_retries=0, timeout=0.05) as c:
        assert (await c.tasks.get("task_3", timeout=None)).id == "task_3"


# -- socket reads ----------------------------------------------------------------------------


class _Reader:
    def __init__(self, max_size: Any) -> None:
        self.max_size = max_size


def test_smaller_reads_sets_asyncio_buffers() -> None:
    from beatapi_async._connector import READ_SIZE, smaller_reads

    plain = _Reader(256 * 1024)
    smaller_reads(plain)
    assert plain.max_size == READ_SIZE
    tls = _Reader(256 * 1024)
    tls._ssl_protocol = _Reader(256 * 1024)  # type: ignore[attr-defined]
    smaller_reads(tls)
    assert tls.max_size == READ_SIZE and tls._ssl_protocol.max_size == READ_SIZE  # type: ignore[attr-defined]
    small, odd = _Reader(4096), _Reader("256k")
    for reader in (small, odd):
        smaller_reads(reader)
    assert (small.max_size, odd.max_size) == (4096, "256k")  # smaller already, or not asyncio's: left alone
    smaller_reads(None)
    smaller_reads(object())  # uvloop's transports have no max_size


async def test_new_connections_read_in_small_steps(server: LoopbackBeatAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each connection the client opens is an asyncio socket transport set to the smaller read size."""
    from beatapi_async import _connector

    seen: list[Any] = []
    real = _connector.smaller_reads

    def spy(transport: Any) -> None:
        real(transport)
        seen.append(transport)

    monkeypatch.setattr(_connector, "smaller_reads", spy)
    big = "x" * (3 * _connector.READ_SIZE + 17)  # an answer larger than one read still arrives whole
    server.script("GET", "/v1/tasks/task_big", ok({**task("task_big"), "error_message": big}))
    async with AsyncBeatAPI(API_KEY, base_url=server.url) as client:
        first = await client.tasks.get("task_big")
        await asyncio.gather(*(client.tasks.get("task_1") for _ in range(3)))
    assert first.error_message == big
    assert 1 <= len(seen) <= 4  # one per connection, not one per request
    assert all(isinstance(t, asyncio.Transport) and t.max_size == _connector.READ_SIZE for t in seen)
