"""Per-call options, ``with_options`` and ``with_raw_response``, against the emulator."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import attrs
import pytest

from beatapi_async import AsyncBeatAPI, BeatAPIError, NotFoundError, PollPolicy, RequestValidationError, Task, Timeouts
from beatapi_async.testing import FakeBeatAPI

IMG = "https://media.example.com/a.png"
AUDIO = "https://media.example.com/a.mp3"
FAST = PollPolicy(interval=0.01, max_interval=0.02, budget_per_minute=60_000)


@pytest.fixture
async def fake() -> AsyncIterator[FakeBeatAPI]:
    async with FakeBeatAPI(speed=600) as f:
        yield f


@pytest.fixture
async def client(fake: FakeBeatAPI) -> AsyncIterator[AsyncBeatAPI]:
    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=FAST, retry_sleep=_no_sleep) as c:
        yield c


async def _no_sleep(_: float) -> None:
    return None


# -- per-call options ------------------------------------------------------------------------


async def test_extra_headers_and_query_on_a_get(client: AsyncBeatAPI, fake: FakeBeatAPI) -> None:
    task = await client.ecommerce_video.create(images=[IMG], duration=10)
    await client.tasks.get(task.id, extra_headers={"X-Trace": "abc"}, extra_query={"expand": "usage", "n": 2})
    seen = fake.requests_to("GET", f"/v1/tasks/{task.id}")[-1]
    assert seen.headers["X-Trace"] == "abc"
    assert seen.query == {"expand": "usage", "n": "2"}


async def test_extra_body_is_merged_after_validation(client: AsyncBeatAPI, fake: FakeBeatAPI) -> None:
    await client.ecommerce_video.create(images=[IMG], duration=10, extra_body={"new_field": {"a": 1}})
    sent = fake.requests_to("POST", "/v1/ecommerce-video/tasks")[-1]
    assert sent.json == {"images": [IMG], "duration": 10, "new_field": {"a": 1}}


async def test_every_json_body_method_takes_extra_body(client: AsyncBeatAPI, fake: FakeBeatAPI) -> None:
    hook = await client.webhooks.create(url="https://hooks.example.com/in", extra_body={"x_new": True})
    await client.webhooks.update(hook.id, description="d", extra_body={"x_new": 2})
    await client.realtime.create_session(
        max_duration_seconds=60, allowed_origins=["https://app.example.com"], extra_body={"x_new": "y"}
    )
    bodies = [r.json for r in fake.requests if r.method in ("POST", "PATCH")]
    assert [b.get("x_new") for b in bodies] == [True, 2, "y"]


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda c: c.ecommerce_video.create(images=[IMG], duration=10, extra_body={"duration": 20}),
         "extra_body['duration']"),
        (lambda c: c.music_video.create(images=[IMG], audio_url=AUDIO, extra_body={"prompt": "p"}),
         "extra_body['prompt']"),
        (lambda c: c.webhooks.create(url="https://h.example.com/in", extra_body={"url": "x"}), "extra_body['url']"),
        (lambda c: c.music_video.compose("task_1", ["shot_1"], extra_body={"shot_ids": []}),
         "extra_body['shot_ids']"),
        (lambda c: c.ecommerce_video.create(images=[IMG], duration=10, extra_body={"x": object()}),
         "extra_body['x']"),
        (lambda c: c.ecommerce_video.create(images=[IMG], duration=10, extra_body={"x": float("nan")}),
         "extra_body['x']"),
        (lambda c: c.tasks.get("task_1", extra_body={"x": 1}), "extra_body"),
        (lambda c: c.tasks.get("task_1", extra_headers={"Authorization": "Bearer other"}),
         "extra_headers['Authorization']"),
        (lambda c: c.tasks.get("task_1", extra_headers={"idempotency-key": "k"}), "extra_headers['idempotency-key']"),
        (lambda c: c.tasks.get("task_1", extra_headers={"X-A": "1\r\nX-B: 2"}), "extra_headers['X-A']"),
        (lambda c: c.tasks.get("task_1", extra_headers={"bad name": "1"}), "extra_headers"),
        (lambda c: c.tasks.get("task_1", extra_headers=["X-A"]), "extra_headers"),
        (lambda c: c.usage.get(extra_query={"period": "7d"}), "extra_query['period']"),
        (lambda c: c.tasks.get("task_1", extra_query={"x": object()}), "extra_query['x']"),
        (lambda c: c.tasks.get("task_1", max_retries=-1), "max_retries"),
        (lambda c: c.tasks.get("task_1", max_retries=None), "max_retries"),
        (lambda c: c.tasks.get("task_1", retries=2), "retries"),
    ],
)
async def test_bad_options_are_refused_before_sending(
    client: AsyncBeatAPI, fake: FakeBeatAPI, call: Any, field: str
) -> None:
    with pytest.raises(RequestValidationError) as info:
        await call(client)
    assert info.value.field == field and info.value.rule
    assert fake.requests == []


async def test_per_call_max_retries_and_timeout(client: AsyncBeatAPI, fake: FakeBeatAPI) -> None:
    fake.add_fault("GET", "/v1/usage", status=503, times=5)
    with pytest.raises(BeatAPIError):
        await client.usage.get(max_retries=0)
    assert len(fake.requests_to("GET", "/v1/usage")) == 1
    usage = await client.usage.get(timeout=Timeouts(total=5), max_retries=5)
    assert usage.concurrency.limit >= 1


# -- with_options --------------------------------------------------------------------------


async def test_with_options_sets_defaults_and_shares_the_session(client: AsyncBeatAPI, fake: FakeBeatAPI) -> None:
    tuned = client.with_options(timeout=7.5, max_retries=0, extra_headers={"X-Team": "a"}, extra_query={"q": 1})
    assert tuned is not client and tuned.timeout == Timeouts(total=7.5) and tuned.max_retries == 0
    assert client.max_retries == 3 and client.timeout != tuned.timeout
    assert tuned._transport is client._transport and tuned.gate is client.gate
    assert tuned._poller() is client._poller()
    await tuned.workflows.list(extra_headers={"X-Call": "b"})
    seen = fake.requests[-1]
    assert (seen.headers["X-Team"], seen.headers["X-Call"], seen.query) == ("a", "b", {"q": "1"})
    await client.workflows.list()
    assert "X-Team" not in fake.requests[-1].headers
    # Derived from a derived client: the options add up.
    deeper = tuned.with_options(extra_headers={"X-More": "c"})
    await deeper.workflows.list()
    assert (fake.requests[-1].headers["X-Team"], fake.requests[-1].headers["X-More"]) == ("a", "c")
    with pytest.raises(RequestValidationError):
        client.with_options(extra_headers={"Authorization": "Bearer x"})
    with pytest.raises(RequestValidationError):
        client.with_options(extra_body={"x": 1})  # type: ignore[call-arg]


async def test_closing_the_derived_client_closes_nothing_shared(fake: FakeBeatAPI) -> None:
    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=FAST) as client:
        task = await client.ecommerce_video.create(images=[IMG], duration=10)
        async with client.with_options(max_retries=1) as derived:
            await derived.tasks.get(task.id)
        with pytest.raises(BeatAPIError) as info:
            await derived.tasks.get(task.id)
        assert info.value.code == "client_closed"
        done = await client.wait_for_task(task.id, timeout=10)  # the original still works
        assert done.status == "succeeded"
        other = client.with_options(max_retries=1)
    with pytest.raises(BeatAPIError) as info:
        await other.tasks.get(task.id)
    assert info.value.code == "client_closed"  # closing the original closed what it shares


async def test_waits_on_a_derived_client_use_the_shared_poller(client: AsyncBeatAPI) -> None:
    derived = client.with_options(extra_headers={"X-Team": "a"})
    task = await derived.ecommerce_video.create(images=[IMG], duration=10)
    done = await derived.wait_for_task(task, timeout=10)
    assert done.status == "succeeded" and client._scheduler is not None


# -- with_raw_response ------------------------------------------------------------------------


async def test_raw_response_of_a_get(client: AsyncBeatAPI, fake: FakeBeatAPI) -> None:
    task = await client.ecommerce_video.create(images=[IMG], duration=10)
    raw = await client.with_raw_response.tasks.get(task.id)
    assert raw.status == 200
    assert raw.headers["content-type"].startswith("application/json")
    assert raw.headers["Content-Type"] == raw.headers["content-type"]
    assert "CONTENT-TYPE" in raw.headers
    assert raw.request_id == fake.requests[-1].request_id
    assert raw.elapsed >= 0
    parsed = raw.parse()
    assert isinstance(parsed, Task) and parsed.id == task.id
    assert attrs.evolve(parsed, request_id=None) == attrs.evolve(await client.tasks.get(task.id), request_id=None)
    assert json.loads(raw.content)["data"]["id"] == task.id


async def test_raw_response_of_lists_creates_and_uploads(client: AsyncBeatAPI) -> None:
    raw = await client.with_raw_response.workflows.list()
    assert [w.id for w in raw.parse()] == [w.id for w in await client.workflows.list()]
    created = await client.with_raw_response.ecommerce_video.create(images=[IMG], duration=10)
    assert created.status in (200, 201) and created.parse().status == "queued"
    tuned = await client.with_options(max_retries=0).with_raw_response.usage.get(period="7d")
    assert tuned.parse().concurrency.limit >= 1


async def test_raw_response_raises_http_errors_as_the_plain_call(client: AsyncBeatAPI) -> None:
    with pytest.raises(NotFoundError):
        await client.with_raw_response.tasks.get("task_missing")
    with pytest.raises(RequestValidationError):
        await client.with_raw_response.ecommerce_video.create(images=[IMG], duration=5)


async def test_raw_response_defers_a_malformed_body_to_parse(client: AsyncBeatAPI, fake: FakeBeatAPI) -> None:
    fake.add_fault("GET", "/v1/usage", body=b"<html>not json</html>", content_type="text/html", times=1)
    raw = await client.with_raw_response.usage.get(max_retries=0)
    assert raw.status == 200
    with pytest.raises(BeatAPIError) as info:
        raw.parse()
    assert info.value.code == "invalid_response"


def test_raw_response_only_exposes_api_methods(client: AsyncBeatAPI) -> None:
    with pytest.raises(AttributeError):
        _ = client.with_raw_response.base_url
    with pytest.raises(AttributeError):
        _ = client.with_raw_response.tasks._client


async def test_raw_response_of_an_upload(client: AsyncBeatAPI) -> None:
    raw = await client.with_raw_response.files.upload(b"\x89PNG\r\n\x1a\n" + bytes(64), filename="x.png")
    assert raw.status in (200, 201) and raw.parse().url.startswith(client.base_url)
