"""The retry policy: what is retried, how long it waits, and idempotency keys (aioresponses)."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import aiohttp
import anyio
import pytest
from aioresponses import aioresponses

from beatapi_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncBeatAPI,
    BadRequestError,
    ConcurrencyLimitError,
    ConflictError,
    InternalServerError,
    RateLimitError,
    RequestValidationError,
    ServiceUnavailableError,
)
from beatapi_async._exceptions import APIStatusError, InvalidResponseError
from beatapi_async._retry import BACKOFF_BASE, BACKOFF_MAX, backoff, should_retry

from ._helpers import AUDIO, IMG, MOCK_BASE, MOCK_KEY, Sleeps, calls, error_body
from ._loopback import session, task, webhook

TASK_URL = f"{MOCK_BASE}/v1/tasks/task_1"
MV_URL = f"{MOCK_BASE}/v1/music-video/tasks"


def refused() -> aiohttp.ClientConnectorError:
    key = SimpleNamespace(host="api.beatapi.io", port=443, ssl=True, is_ssl=True)
    return aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))  # type: ignore[arg-type]


def fail(m: aioresponses, url: str, status: int, code: str, method: str = "GET", **kw: Any) -> None:
    headers, repeat = kw.pop("headers", None), kw.pop("repeat", False)
    m.add(url, method, status=status, payload=error_body(code, **kw), headers=headers, repeat=repeat)


# -- safe calls ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"), [(502, "bad_gateway"), (503, "processing_unavailable"), (504, "gateway_timeout")]
)
async def test_get_retried_on_5xx(
    client: AsyncBeatAPI, mocked: aioresponses, sleeps: Sleeps, status: int, code: str
) -> None:
    fail(mocked, TASK_URL, status, code)
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    assert (await client.tasks.get("task_1")).id == "task_1"
    assert len(calls(mocked)) == 2 and len(sleeps.delays) == 1


@pytest.mark.parametrize(
    "exc", [refused(), aiohttp.ServerDisconnectedError(), aiohttp.ClientOSError(104, "reset"), TimeoutError()]
)
async def test_get_retried_on_network_errors(client: AsyncBeatAPI, mocked: aioresponses, exc: Exception) -> None:
    mocked.get(TASK_URL, exception=exc)
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    assert (await client.tasks.get("task_1")).id == "task_1"
    assert len(calls(mocked)) == 2


async def test_rate_limit_honours_retry_after(client: AsyncBeatAPI, mocked: aioresponses, sleeps: Sleeps) -> None:
    fail(mocked, TASK_URL, 429, "rate_limit_exceeded", headers={"Retry-After": "7"})
    fail(mocked, TASK_URL, 429, "rate_limit_exceeded", retry_after_seconds=60)  # up to max_retry_wait
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    await client.tasks.get("task_1")
    assert len(sleeps.delays) == 2
    assert sleeps.delays[0] >= 7 and sleeps.delays[1] == 60


async def test_retry_after_past_max_retry_wait_raises_at_once(
    client: AsyncBeatAPI, mocked: aioresponses, sleeps: Sleeps
) -> None:
    fail(mocked, TASK_URL, 503, "service_unavailable", headers={"Retry-After": "1000000000"})
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    with pytest.raises(ServiceUnavailableError) as caught:
        await client.tasks.get("task_1")
    assert caught.value.retry_after == 1e9  # the caller sees what was asked, and decides
    assert sleeps.delays == []
    assert len(calls(mocked)) == 1


async def test_retry_after_beyond_deadline_raises_at_once(
    client: AsyncBeatAPI, mocked: aioresponses, sleeps: Sleeps
) -> None:
    fail(mocked, TASK_URL, 429, "rate_limit_exceeded", headers={"Retry-After": "30"})
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    started = anyio.current_time()
    with anyio.fail_after(5):
        with pytest.raises(RateLimitError) as info:
            await client.tasks.get("task_1")
    assert anyio.current_time() - started < 1
    assert info.value.retry_after == 30
    assert sleeps.delays == [] and len(calls(mocked)) == 1


async def test_retry_within_deadline_goes_ahead(client: AsyncBeatAPI, mocked: aioresponses, sleeps: Sleeps) -> None:
    fail(mocked, TASK_URL, 429, "rate_limit_exceeded", headers={"Retry-After": "1"})
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    with anyio.fail_after(30):
        await client.tasks.get("task_1")
    assert len(sleeps.delays) == 1 and sleeps.delays[0] >= 1


async def test_max_retries_bounded(mocked: aioresponses, sleeps: Sleeps) -> None:
    fail(mocked, TASK_URL, 503, "processing_unavailable", repeat=True)
    async with AsyncBeatAPI(MOCK_KEY, max_retries=2, retry_sleep=sleeps) as c:
        with pytest.raises(ServiceUnavailableError):
            await c.tasks.get("task_1")
    assert len(calls(mocked)) == 3 and len(sleeps.delays) == 2


async def test_default_max_retries_is_three(client: AsyncBeatAPI, mocked: aioresponses, sleeps: Sleeps) -> None:
    mocked.get(TASK_URL, status=503, body="busy", repeat=True)
    with pytest.raises(ServiceUnavailableError):
        await client.tasks.get("task_1")
    assert len(calls(mocked)) == 4


async def test_zero_retries(mocked: aioresponses) -> None:
    fail(mocked, TASK_URL, 503, "processing_unavailable")
    async with AsyncBeatAPI(MOCK_KEY, max_retries=0) as c:
        with pytest.raises(ServiceUnavailableError):
            await c.tasks.get("task_1")
    assert len(calls(mocked)) == 1


def test_backoff_is_exponential_with_jitter() -> None:
    for attempt in range(1, 10):
        ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (attempt - 1))
        assert backoff(attempt, lambda: 0.0) == ceiling / 2
        assert backoff(attempt, lambda: 1.0) == ceiling
    assert backoff(30) <= BACKOFF_MAX


async def test_backoff_delays_grow(client: AsyncBeatAPI, mocked: aioresponses, sleeps: Sleeps) -> None:
    mocked.get(TASK_URL, status=502, body="", repeat=True)
    with pytest.raises(InternalServerError):
        await client.tasks.get("task_1")
    assert len(sleeps.delays) == 3
    for n, delay in enumerate(sleeps.delays, start=1):
        ceiling = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** (n - 1))
        assert ceiling / 2 <= delay <= ceiling


async def test_retryable_false_stops(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    fail(mocked, TASK_URL, 503, "processing_unavailable", retryable=False)
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    with pytest.raises(ServiceUnavailableError):
        await client.tasks.get("task_1")
    assert len(calls(mocked)) == 1


async def test_retryable_true_overrides_status(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    fail(mocked, TASK_URL, 500, "internal_error", retryable=True)
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    await client.tasks.get("task_1")
    assert len(calls(mocked)) == 2


@pytest.mark.parametrize("status", [400, 401, 402, 403, 404, 409])
@pytest.mark.parametrize("retryable", [None, True])
async def test_client_errors_never_retried(
    client: AsyncBeatAPI, mocked: aioresponses, status: int, retryable: bool | None
) -> None:
    extra = {} if retryable is None else {"retryable": retryable}
    fail(mocked, TASK_URL, status, "some_error", **extra)
    mocked.get(TASK_URL, payload={"data": task("task_1")})
    with pytest.raises(APIStatusError) as info:
        await client.tasks.get("task_1")
    assert info.value.status == status and len(calls(mocked)) == 1


def test_should_retry_table() -> None:
    def e(status: int, code: str = "x", retryable: bool | None = None) -> APIStatusError:
        from beatapi_async._exceptions import error_class

        return error_class(status, code)("m", status=status, code=code, retryable=retryable)

    assert should_retry(e(503), replayable=True)
    assert not should_retry(e(503), replayable=False)
    assert should_retry(e(429, "rate_limit_exceeded"), replayable=False)  # nothing was done
    assert not should_retry(e(429, "user_concurrency_exceeded"), replayable=True)
    assert not should_retry(e(429, "user_concurrency_exceeded", True), replayable=True)
    assert not should_retry(e(500), replayable=True)
    assert should_retry(e(500, retryable=True), replayable=True)
    assert not should_retry(e(500, retryable=True), replayable=False)
    assert should_retry(APIConnectionError(sent=False), replayable=False)
    assert not should_retry(APIConnectionError(sent=True), replayable=False)
    assert should_retry(APIConnectionError(sent=True), replayable=True)
    assert not should_retry(InvalidResponseError("x"), replayable=False)
    assert not should_retry(RequestValidationError("f", "r"), replayable=True)
    assert not should_retry(ValueError(), replayable=True)


# -- billable POSTs and idempotency keys -----------------------------------------------------


def keys(m: aioresponses, url_part: str) -> list[str | None]:
    return [kw["headers"].get("Idempotency-Key") for _, url, kw in calls(m, "POST") if url_part in url]


async def test_create_retried_with_same_key(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    fail(mocked, MV_URL, 503, "processing_unavailable", method="POST")
    mocked.post(MV_URL, status=201, payload={"data": task()})
    t = await client.music_video.create(images=[IMG], audio_url=AUDIO)
    assert t.id == "task_8K2qA"
    sent = keys(mocked, "/music-video/tasks")
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1]
    bodies = [kw["data"] for _, _, kw in calls(mocked, "POST")]
    assert bodies[0] == bodies[1]


async def test_create_retried_after_lost_answer(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    # The create may have reached BeatAPI; the same key makes the re-send safe.
    mocked.post(MV_URL, exception=aiohttp.ServerDisconnectedError())
    mocked.post(MV_URL, status=201, payload={"data": task()})
    await client.music_video.create(images=[IMG], audio_url=AUDIO)
    sent = keys(mocked, "/music-video/tasks")
    assert len(sent) == 2 and sent[0] == sent[1]


async def test_each_logical_call_has_its_own_key(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.post(MV_URL, status=201, payload={"data": task()}, repeat=True)
    await client.music_video.create(images=[IMG], audio_url=AUDIO)
    await client.music_video.create(images=[IMG], audio_url=AUDIO)
    first, second = keys(mocked, "/music-video/tasks")
    assert first and second and first != second


async def test_callers_idempotency_key(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    url = f"{MOCK_BASE}/v1/ecommerce-video/tasks"
    fail(mocked, url, 502, "bad_gateway", method="POST")
    mocked.post(url, status=201, payload={"data": task(workflow="ecommerce-video")})
    await client.ecommerce_video.create(images=[IMG], duration=15, idempotency_key="order-42-ad")
    assert keys(mocked, "/ecommerce-video/") == ["order-42-ad", "order-42-ad"]


async def test_idempotency_key_too_long(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    with pytest.raises(RequestValidationError, match="idempotency_key"):
        await client.music_video.create(images=[IMG], audio_url=AUDIO, idempotency_key="k" * 129)
    with pytest.raises(RequestValidationError, match="idempotency_key"):
        await client.realtime.create_session(
            max_duration_seconds=60, allowed_origins=["https://a.example"], idempotency_key="bad\nkey"
        )
    assert calls(mocked) == []
    mocked.post(MV_URL, status=201, payload={"data": task()})
    await client.music_video.create(images=[IMG], audio_url=AUDIO, idempotency_key="k" * 128)


@pytest.mark.parametrize(
    ("call", "url", "answer"),
    [
        (
            lambda c: c.music_video.edit_shot("task_1", "shot_1", prompt="brighter"),
            f"{MOCK_BASE}/v1/music-video/tasks/task_1/shots/shot_1/edit",
            task("task_1", "editing"),
        ),
        (
            lambda c: c.music_video.compose("task_1", ["shot_1", "shot_2"]),
            f"{MOCK_BASE}/v1/music-video/tasks/task_1/compose",
            task("task_1", "composing"),
        ),
        (
            lambda c: c.realtime.create_session(max_duration_seconds=60, allowed_origins=["https://app.example.com"]),
            f"{MOCK_BASE}/v1/realtime/sessions",
            session(secret="brt_live_x"),
        ),
    ],
)
async def test_billable_posts_keyed_and_retried(
    client: AsyncBeatAPI, mocked: aioresponses, call: Any, url: str, answer: Any
) -> None:
    fail(mocked, url, 503, "processing_unavailable", method="POST")
    mocked.post(url, status=202, payload={"data": answer})
    await call(client)
    sent = keys(mocked, url.removeprefix(MOCK_BASE))
    assert len(sent) == 2 and sent[0] and sent[0] == sent[1]


async def test_idempotency_conflict_not_retried(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    fail(mocked, f"{MOCK_BASE}/v1/realtime/sessions", 409, "idempotency_conflict", method="POST")
    with pytest.raises(ConflictError):
        await client.realtime.create_session(max_duration_seconds=60, allowed_origins=["https://app.example.com"])
    assert len(calls(mocked)) == 1


async def test_concurrency_limit_not_retried(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    fail(mocked, MV_URL, 429, "user_concurrency_exceeded", method="POST", retry_after_seconds=30, retryable=True)
    with pytest.raises(ConcurrencyLimitError) as info:
        await client.music_video.create(images=[IMG], audio_url=AUDIO)
    assert info.value.retry_after == 30 and len(calls(mocked)) == 1


async def test_bad_request_on_create_not_retried(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    fail(mocked, MV_URL, 400, "bad_request", method="POST")
    with pytest.raises(BadRequestError):
        await client.music_video.create(images=[IMG], audio_url=AUDIO)
    assert len(calls(mocked)) == 1


# -- unkeyed POST: webhook create --------------------------------------------------------------

HOOKS = f"{MOCK_BASE}/v1/webhooks"


async def test_webhook_create_not_retried_after_503(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    fail(mocked, HOOKS, 503, "processing_unavailable", method="POST")
    mocked.post(HOOKS, status=201, payload={"data": webhook()})
    with pytest.raises(ServiceUnavailableError):
        await client.webhooks.create(url="https://example.com/hook")
    assert len(calls(mocked)) == 1
    assert keys(mocked, "/v1/webhooks") == [None]


async def test_webhook_create_not_retried_after_lost_answer(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.post(HOOKS, exception=aiohttp.ServerDisconnectedError())
    mocked.post(HOOKS, status=201, payload={"data": webhook()})
    with pytest.raises(APIConnectionError):
        await client.webhooks.create(url="https://example.com/hook")
    assert len(calls(mocked)) == 1


async def test_webhook_create_retried_when_never_sent(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.post(HOOKS, exception=refused())
    mocked.post(HOOKS, status=201, payload={"data": webhook(secret="whsec_once")})
    hook = await client.webhooks.create(url="https://example.com/hook", events=["task.failed"])
    assert hook.secret == "whsec_once"
    assert len(calls(mocked)) == 2


async def test_webhook_create_retried_after_connect_timeout(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.post(HOOKS, exception=aiohttp.ConnectionTimeoutError())
    mocked.post(HOOKS, status=201, payload={"data": webhook()})
    await client.webhooks.create(url="https://example.com/hook")
    assert len(calls(mocked)) == 2


async def test_webhook_create_not_retried_after_read_timeout(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.post(HOOKS, exception=aiohttp.SocketTimeoutError())
    with pytest.raises(APITimeoutError) as info:
        await client.webhooks.create(url="https://example.com/hook")
    assert info.value.sent is True and len(calls(mocked)) == 1


async def test_webhook_create_rate_limited_is_retried(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    # 429 rate_limit_exceeded means nothing was done: safe to send again.
    fail(mocked, HOOKS, 429, "rate_limit_exceeded", method="POST", headers={"Retry-After": "2"})
    mocked.post(HOOKS, status=201, payload={"data": webhook()})
    await client.webhooks.create(url="https://example.com/hook")
    assert len(calls(mocked)) == 2


async def test_safe_non_get_calls_are_retried(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    hook = f"{HOOKS}/wh_1"
    for method, answer in (("PATCH", webhook("wh_1")), ("DELETE", {"id": "wh_1", "deleted": True})):
        fail(mocked, hook, 503, "processing_unavailable", method=method)
        mocked.add(hook, method, payload={"data": answer})
    media = f"{MOCK_BASE}/v1/music-video/tasks/task_1/shots/shot_1/media"
    fail(mocked, media, 502, "bad_gateway", method="POST")
    mocked.post(media, payload={"data": {"shot_id": "shot_1", "media": {"url": "https://m/s.mp4"}}})
    await client.webhooks.update("wh_1", status="disabled")
    assert (await client.webhooks.delete("wh_1")).deleted is True
    assert (await client.music_video.shot_media("task_1", "shot_1")).media.url == "https://m/s.mp4"
    assert len(calls(mocked)) == 6


async def test_retries_cover_any_url(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    mocked.get(re.compile(r".*/v1/usage.*"), status=504, body="", repeat=False)
    mocked.get(re.compile(r".*/v1/usage.*"), payload={"data": {"concurrency": {"limit": 1}}})
    assert (await client.usage.get(period="7d")).concurrency.limit == 1
