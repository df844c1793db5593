"""Hostile or broken answers (SDK.md): every call ends in bounded time and memory, with a typed error."""

from __future__ import annotations

import asyncio
import json
import os
import time
import zlib
from collections.abc import Callable
from typing import Any

import aiohttp
import anyio
import pytest

from beatapi_async import (
    APITimeoutError,
    AsyncBeatAPI,
    BadRequestError,
    InsufficientCreditsError,
    InvalidResponseError,
    PollPolicy,
    RequestValidationError,
    ServiceUnavailableError,
    Timeouts,
)
from beatapi_async._protocol import Response
from beatapi_async._retry import clamp_poll_hint, clamp_retry_after

from ._hostile import HostileServer, gzip_bomb, head, peak_rss
from ._loopback import API_KEY, LoopbackBeatAPI, error, ok, task
from ._memory import MemoryTransport, task_body

MB = 2**20
MEMORY_BOUND = 50 * MB  # RSS growth allowed for one hostile call (the default cap is 16 MiB)
TIME_BOUND = 5.0  # generous: each of these ends in well under a second when it works


def client_for(url: str, **options: Any) -> AsyncBeatAPI:
    options.setdefault("timeout", Timeouts(connect=2, read=2, total=10))
    return AsyncBeatAPI(API_KEY, base_url=url, **options)


async def timed(call: Callable[[], Any]) -> tuple[BaseException, float]:
    started = time.monotonic()
    with anyio.fail_after(TIME_BOUND * 2):
        try:
            await call()
        except Exception as exc:
            return exc, time.monotonic() - started
    raise AssertionError("the call succeeded")


# -- size: endless, huge, gzip bomb -----------------------------------------------------


async def test_endless_chunked_body_is_refused_at_the_cap_without_retry() -> None:
    chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * (64 * 1024))

    async def endless(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", "Transfer-Encoding: chunked"))
        while True:
            writer.write(chunk)
            await writer.drain()

    async with HostileServer(endless) as server, client_for(server.url) as client:
        with peak_rss() as peak:
            exc, elapsed = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, InvalidResponseError) and "max_response_bytes" in str(exc)
    assert server.requests == 1  # no retry: the next answer would be as big
    assert elapsed < TIME_BOUND
    assert peak.growth < MEMORY_BOUND, f"grew {peak.growth / MB:.0f} MB"


async def test_huge_body_is_refused_from_its_content_length_unread() -> None:
    async def huge(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", f"Content-Length: {500 * MB}"))
        writer.write(b'{"data": "' + b"x" * MB)  # then it would send the other 499 MB

    async with HostileServer(huge) as server, client_for(server.url) as client:
        with peak_rss() as peak:
            exc, elapsed = await timed(lambda: client.workflows.list())
    assert isinstance(exc, InvalidResponseError) and exc.retryable is False
    assert str(500 * MB) not in str(exc) and "16777216 bytes" in str(exc)
    assert server.requests == 1 and elapsed < TIME_BOUND
    assert peak.growth < MEMORY_BOUND


async def test_error_answers_are_bounded_too() -> None:
    async def huge_error(writer: asyncio.StreamWriter) -> None:
        writer.write(head("503 Service Unavailable", f"Content-Length: {64 * MB}"))

    async with HostileServer(huge_error) as server, client_for(server.url, max_response_bytes=MB) as client:
        exc, _ = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, InvalidResponseError) and "1048576 bytes" in str(exc)
    assert server.requests == 1


@pytest.fixture(scope="module")
def bomb() -> bytes:
    return gzip_bomb(256 * MB)  # ~250 KB on the wire


async def test_gzip_bomb_is_refused_while_it_inflates(bomb: bytes) -> None:
    async def send_bomb(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(bomb)}") + bomb)

    async with HostileServer(send_bomb) as server, client_for(server.url) as client:
        with peak_rss() as peak:
            exc, elapsed = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, InvalidResponseError) and "max_response_bytes" in str(exc)
    assert server.requests == 1 and elapsed < TIME_BOUND
    assert peak.growth < MEMORY_BOUND, f"grew {peak.growth / MB:.0f} MB"


async def test_gzip_answers_within_the_cap_are_decoded() -> None:
    packer = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    body = packer.compress(json.dumps({"data": task("task_gz")}).encode()) + packer.flush()

    async def gzipped(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", "Content-Encoding: gzip", f"Content-Length: {len(body)}") + body)

    async with HostileServer(gzipped) as server, client_for(server.url) as client:
        assert (await client.tasks.get("task_gz")).id == "task_gz"
    assert b"accept-encoding: gzip, deflate" in server.heads[0].lower()


async def test_a_corrupt_gzip_body_is_an_invalid_response() -> None:
    async def corrupt(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", "Content-Encoding: gzip", "Content-Length: 12") + b"not gzip at all"[:12])

    async with HostileServer(corrupt) as server, client_for(server.url) as client:
        exc, _ = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, InvalidResponseError) and server.requests == 1


# -- time: a byte at a time ---------------------------------------------------------------


def test_each_attempt_has_a_total_timeout_by_default() -> None:
    assert Timeouts() == Timeouts(connect=10, read=60, total=300)
    assert AsyncBeatAPI("sk_test_x").timeout.total == 300


async def test_a_byte_a_time_server_ends_at_the_total_timeout_without_retry() -> None:
    body = json.dumps({"data": task("task_1")}).encode()

    async def trickle(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", f"Content-Length: {len(body)}"))
        for byte in body:  # every gap is far below the read timeout
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.02)

    timeout = Timeouts(connect=1, read=0.5, total=0.6)
    async with HostileServer(trickle) as server, client_for(server.url, timeout=timeout) as client:
        exc, elapsed = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, APITimeoutError) and "total timeout" in str(exc)
    assert server.requests == 1  # not retried: the next attempt would trickle as slowly
    assert elapsed < TIME_BOUND


# -- malformed heads, deep JSON -------------------------------------------------------------


async def test_ten_thousand_headers_are_not_retried() -> None:
    body = json.dumps({"data": task("task_1")}).encode()
    many = [f"X-Junk-{i}: v" for i in range(10_000)]

    async def headers(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", *many, f"Content-Length: {len(body)}") + body)

    async with HostileServer(headers) as server, client_for(server.url) as client:
        started = time.monotonic()
        try:
            await client.tasks.get("task_1")  # aiohttp < 3.14 accepts them all: then a normal answer
        except InvalidResponseError as exc:
            assert "malformed HTTP answer" in str(exc)
    assert server.requests == 1 and time.monotonic() - started < TIME_BOUND


async def test_a_header_line_too_long_is_an_invalid_response_not_retried() -> None:
    async def long_header(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", "X-Long: " + "a" * 200_000, "Content-Length: 2") + b"{}")

    async with HostileServer(long_header) as server, client_for(server.url) as client:
        exc, _ = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, InvalidResponseError) and server.requests == 1


async def test_json_nested_100000_deep_is_an_invalid_response() -> None:
    deep = b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    async def nested(writer: asyncio.StreamWriter) -> None:
        writer.write(head("200 OK", f"Content-Length: {len(deep)}") + deep)

    async with HostileServer(nested) as server, client_for(server.url) as client:
        exc, _ = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, InvalidResponseError) and "nested too deeply" in str(exc)
    assert server.requests == 1


async def test_deep_json_in_an_error_answer_still_gives_the_typed_error() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000

    async def nested(writer: asyncio.StreamWriter) -> None:
        writer.write(head("400 Bad Request", f"Content-Length: {len(deep)}") + deep)

    async with HostileServer(nested) as server, client_for(server.url) as client:
        exc, _ = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, BadRequestError) and exc.status == 400


@pytest.mark.parametrize(
    "field",
    [
        '"created_at": 1e400',
        '"created_at": 1e20',
        '"created_at": ' + "9" * 5000,
        '"usage": {"credits_reserved": 1e400}',
        '"created_at": NaN',
    ],
)
async def test_numbers_out_of_range_are_invalid_responses(field: str) -> None:
    raw = json.dumps(task_body("task_n", "processing"))[:-1] + ", " + field + "}"
    transport = MemoryTransport()
    transport.handler = lambda _: Response(status=200, headers={}, body=b'{"data": ' + raw.encode() + b"}")
    async with AsyncBeatAPI("sk_test_n", base_url="http://127.0.0.1:9", transport=transport) as client:
        with pytest.raises(InvalidResponseError):
            await client.tasks.get("task_n")


# -- server-chosen delays -----------------------------------------------------------------


def test_clamps_are_pure_and_total() -> None:
    policy = PollPolicy(interval=5, max_interval=10)
    assert clamp_poll_hint(1e9, policy) == 60
    assert clamp_poll_hint(float("inf"), policy) == 60
    assert clamp_poll_hint(float("nan"), policy) == 0.5
    assert clamp_poll_hint(0.0001, policy) == 0.5
    assert clamp_poll_hint(7, policy) == 7
    assert clamp_retry_after(1e9, 60) == 60
    assert clamp_retry_after(None, 60) == clamp_retry_after(-3, 60) == clamp_retry_after(float("nan"), 60) == 0
    assert clamp_retry_after(3, 60) == 3


FAST = PollPolicy(interval=0.01, max_interval=0.02, budget_per_minute=60_000, burst=10)


def hinted(hint: str) -> Callable[[Any], Response | None]:
    """Answer polls of ``task_h`` processing with ``poll_after_seconds`` = ``hint`` (raw JSON), then done."""
    served = [0]

    def answer(_: Any) -> Response:
        served[0] += 1
        body = task_body("task_h", "processing" if served[0] < 3 else "succeeded")
        raw = json.dumps({"data": body})[:-2] + f', "poll_after_seconds": {hint}}}}}'
        return Response(status=200, headers={}, body=raw.encode())

    return answer


@pytest.mark.parametrize("hint", ["1e9", "1e400"])
async def test_huge_poll_hints_are_clamped_and_the_wait_goes_on(hint: str) -> None:
    transport = MemoryTransport()
    transport.handler = hinted(hint)
    async with AsyncBeatAPI("sk_test_h", base_url="http://127.0.0.1:9", poll=FAST, transport=transport) as client:
        with anyio.fail_after(TIME_BOUND):
            done = await client.wait_for_task("task_h", timeout=None)  # None must not mean forever
    assert done.status == "succeeded"


async def test_a_wait_never_sleeps_past_its_own_deadline() -> None:
    transport = MemoryTransport()
    transport.hint = 1e9
    transport.script("task_d", "processing")
    async with AsyncBeatAPI("sk_test_d", base_url="http://127.0.0.1:9", poll=FAST, transport=transport) as client:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await client.wait_for_task("task_d", timeout=0.2)
    assert time.monotonic() - started < TIME_BOUND


async def test_a_429_retry_after_while_waiting_is_clamped_to_max_retry_wait() -> None:
    transport = MemoryTransport()
    limited = Response(
        status=429,
        headers={"retry-after": "1000000000"},
        body=b'{"error": {"code": "rate_limit_exceeded", "message": "slow down", "retry_after_seconds": 1e9}}',
    )
    transport.script("task_r", limited, "processing", "succeeded")
    async with AsyncBeatAPI(
        "sk_test_r", base_url="http://127.0.0.1:9", poll=FAST, transport=transport, max_retry_wait=0.05
    ) as client:
        with anyio.fail_after(TIME_BOUND):
            done = await client.wait_for_task("task_r")
    assert done.status == "succeeded" and len(transport.polls) == 3


async def test_a_503_asking_for_years_raises_at_once_with_its_retry_after() -> None:
    async def unavailable(writer: asyncio.StreamWriter) -> None:
        body = b'{"error": {"code": "service_unavailable", "message": "later"}}'
        writer.write(head("503 Service Unavailable", "Retry-After: 1000000000", f"Content-Length: {len(body)}") + body)

    async with HostileServer(unavailable) as server, client_for(server.url) as client:  # the real sleep
        exc, elapsed = await timed(lambda: client.tasks.get("task_1"))
    assert isinstance(exc, ServiceUnavailableError) and exc.retry_after == 1e9
    assert server.requests == 1 and elapsed < TIME_BOUND


# -- options --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_response_bytes", 0),
        ("max_response_bytes", 10),
        ("max_response_bytes", 1.5),
        ("max_response_bytes", True),
        ("max_response_bytes", "16MB"),
        ("max_retry_wait", -1),
        ("max_retry_wait", float("nan")),
        ("max_retry_wait", float("inf")),
        ("max_retry_wait", "60"),
    ],
)
def test_bounds_are_validated(option: str, value: Any) -> None:
    with pytest.raises(RequestValidationError) as caught:
        AsyncBeatAPI("sk_test_x", **{option: value})
    assert caught.value.field == option


def test_bounds_have_defaults_and_can_be_changed() -> None:
    client = AsyncBeatAPI("sk_test_x")
    assert client.max_response_bytes == 16 * MB and client.max_retry_wait == 60
    other = AsyncBeatAPI("sk_test_x", max_response_bytes=64 * MB, max_retry_wait=0)
    assert other.max_response_bytes == 64 * MB and other.max_retry_wait == 0


# -- cookies, echoed keys, raise_for_status -------------------------------------------------


@pytest.fixture
async def loopback() -> Any:
    server = LoopbackBeatAPI()
    await server.start()
    yield server
    await server.close()


async def test_cookies_are_never_stored_or_sent_back(loopback: LoopbackBeatAPI) -> None:
    answer = ok(task("task_1"))
    answer.set_cookie("session", "tracked", path="/")
    loopback.script("GET", "/v1/tasks/task_1", answer)
    async with client_for(loopback.url) as client:
        await client.tasks.get("task_1")
        await client.tasks.get("task_1")
    assert all("Cookie" not in seen.headers for seen in loopback.requests)


async def test_a_key_echoed_by_the_server_is_redacted_in_details(loopback: LoopbackBeatAPI) -> None:
    echoed = {"authorization": f"Bearer {API_KEY}", "seen": [{"key": API_KEY}], API_KEY: "as a name"}
    loopback.script("GET", "/v1/tasks/task_1", error(400, "bad_request", f"bad key {API_KEY}", details=echoed))
    async with client_for(loopback.url) as client:
        with pytest.raises(BadRequestError) as caught:
            await client.tasks.get("task_1")
    err = caught.value
    for text in (json.dumps(err.details), str(err), repr(err)):
        assert API_KEY not in text
    assert err.details["authorization"] == "Bearer [REDACTED]"


@pytest.mark.parametrize(("status", "code", "cls"), [(402, "insufficient_credits", InsufficientCreditsError)])
async def test_a_raise_for_status_session_still_gives_typed_errors(
    loopback: LoopbackBeatAPI, status: int, code: str, cls: type[Exception]
) -> None:
    loopback.script("POST", "/v1/ecommerce-video/tasks", error(status, code, "no"))
    async with (
        aiohttp.ClientSession(raise_for_status=True) as session,
        client_for(loopback.url, session=session) as client,
    ):
        with pytest.raises(cls) as caught:
            await client.ecommerce_video.create(images=["https://example.com/a.png"], duration=15)
    assert getattr(caught.value, "request_id", None) == "req_err"
    assert len(loopback.seen("POST", "/v1/ecommerce-video/tasks")) == 1  # not retried


async def test_a_raise_for_status_session_gives_401_typed(loopback: LoopbackBeatAPI) -> None:
    async with aiohttp.ClientSession(raise_for_status=True) as session:
        client = AsyncBeatAPI("sk_test_wrong_key_1234", base_url=loopback.url, session=session)
        with pytest.raises(Exception) as caught:
            await client.usage.get()
    assert type(caught.value).__name__ == "AuthenticationError"
    assert len(loopback.seen("GET", "/v1/usage")) == 1


# -- uploads --------------------------------------------------------------------------------


@pytest.fixture
async def client() -> Any:
    async with AsyncBeatAPI("sk_test_upload_1234", base_url="http://127.0.0.1:9") as c:
        yield c


async def test_a_directory_upload_says_it_is_a_directory(client: AsyncBeatAPI, tmp_path: Any) -> None:
    with pytest.raises(RequestValidationError, match="is a directory") as caught:
        await client.files.upload(tmp_path)
    assert caught.value.field == "file" and "no such file" not in str(caught.value)


async def test_a_fifo_upload_says_it_is_a_fifo(client: AsyncBeatAPI, tmp_path: Any) -> None:
    fifo = tmp_path / "song.mp3"
    os.mkfifo(fifo)
    with anyio.fail_after(TIME_BOUND), pytest.raises(RequestValidationError, match="FIFO") as caught:
        await client.files.upload(fifo)  # never opened: opening a FIFO would block
    assert "no such file" not in str(caught.value)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
async def test_dev_zero_is_refused_as_a_device(client: AsyncBeatAPI) -> None:
    with pytest.raises(RequestValidationError, match="is a device"):
        await client.files.upload("/dev/zero", filename="zero.mp3")
    with open("/dev/zero", "rb") as endless, peak_rss() as peak, pytest.raises(  # noqa: ASYNC230
        RequestValidationError, match="is a device"
    ):
        await client.files.upload(endless, filename="zero.mp3")
    assert peak.growth < MEMORY_BOUND


async def test_a_missing_file_still_says_no_such_file(client: AsyncBeatAPI, tmp_path: Any) -> None:
    with pytest.raises(RequestValidationError, match="no such file"):
        await client.files.upload(tmp_path / "nope.mp3")


async def test_a_file_truncated_during_upload_fails_fast(tmp_path: Any) -> None:
    path = tmp_path / "song.mp3"
    with path.open("wb") as f:  # larger than what socket buffers hold, so the read side is still on disk
        for _ in range(40):
            f.write(b"\xff" * MB)
    received = [0]

    async def slow_reader(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.readuntil(b"\r\n\r\n")
            while True:
                chunk = await reader.read(64 * 1024)
                if not chunk:
                    break
                received[0] += len(chunk)
                if path.stat().st_size:
                    os.truncate(path, 0)  # the file shrinks under the upload
                await asyncio.sleep(0.001)
        except ConnectionError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(slow_reader, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    try:
        async with AsyncBeatAPI(API_KEY, base_url=url) as client:  # default timeouts: 60 s read
            exc, elapsed = await timed(lambda: client.files.upload(path))
    finally:
        server.close()
        await server.wait_closed()
    assert isinstance(exc, RequestValidationError) and "truncated while being uploaded" in str(exc)
    assert elapsed < TIME_BOUND


async def test_a_concurrency_429_asking_for_years_does_not_stall_the_gate() -> None:
    from beatapi_async import EcommerceVideoRequest
    from beatapi_async.testing import FakeBeatAPI

    async with FakeBeatAPI(speed=1000, concurrency_limit=1, poll_limit_per_minute=None) as fake:
        fake.add_fault(
            "POST", "/v1/ecommerce-video/tasks", status=429, code="user_concurrency_exceeded", retry_after=10**9
        )
        async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=FAST, max_retry_wait=0.05) as client:
            request = EcommerceVideoRequest(images=["https://example.com/a.png"], duration=10)
            with anyio.fail_after(TIME_BOUND):
                done = await client.run_many([request, request])
    assert [t.status for t in done] == ["succeeded", "succeeded"]
