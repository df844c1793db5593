"""Tests for beatapi_async.webhooks: verify, sign and the aiohttp handler."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from hypothesis import assume, given
from hypothesis import strategies as st
from multidict import CIMultiDict, CIMultiDictProxy

from beatapi_async import webhooks
from beatapi_async._exceptions import BeatAPIError, WebhookVerificationError
from beatapi_async._models import Task, TaskStatus, WebhookEvent

from ._shared import FIXTURES, require

# The golden vector (issue 6): exact bytes, secret and timestamp -> signature.
SECRET = "whsec_test"
BODY = b'{"event":"task.succeeded","data":{"id":"task_123"}}'
TS = 1784187600
SIG = "ea8fe65b9f729d48f172f2b7fb4b267e6ae50ace77a9b4672d418378cd50729b"

FIXTURE = FIXTURES / "webhook-task-succeeded.json"

TASK_BODY = json.dumps(
    {
        "id": "evt_1",
        "event": "task.succeeded",
        "created_at": TS,
        "data": {"id": "task_1", "object": "task", "status": "succeeded", "created_at": TS - 60},
    }
).encode()


def golden_headers(**overrides: str) -> dict[str, str]:
    headers = {"x-beatapi-timestamp": str(TS), "x-beatapi-signature": SIG, "x-beatapi-event": "task.succeeded"}
    headers.update(overrides)
    return headers


def rejects(payload: Any, headers: Any, secret: Any = SECRET, **kwargs: Any) -> WebhookVerificationError:
    kwargs.setdefault("now", TS)
    with pytest.raises(WebhookVerificationError) as info:
        webhooks.verify(payload, headers, secret, **kwargs)
    return info.value


# -- the golden vector and sign ------------------------------------------------------


def test_golden_vector_signs_to_the_known_signature() -> None:
    headers = webhooks.sign(BODY, SECRET, timestamp=TS)
    assert headers == {
        "x-beatapi-timestamp": "1784187600",
        "x-beatapi-signature": SIG,
        "x-beatapi-event": "task.succeeded",
        "content-type": "application/json",
    }


def test_sign_matches_an_independent_hmac() -> None:
    expected = hmac.new(SECRET.encode(), f"{TS}.".encode() + BODY, hashlib.sha256).hexdigest()
    assert expected == SIG
    assert webhooks.sign(bytearray(BODY), SECRET, timestamp=TS)["x-beatapi-signature"] == SIG
    assert webhooks.sign(memoryview(BODY), SECRET, timestamp=TS)["x-beatapi-signature"] == SIG


def test_golden_vector_verifies_and_data_without_status_stays_a_mapping() -> None:
    event = webhooks.verify(BODY, golden_headers(), SECRET, now=TS)
    assert isinstance(event, WebhookEvent)
    assert event.event == "task.succeeded"
    assert event.id is None and event.created_at is None
    # Decided: a task event whose data is not a whole task (no status) still loads,
    # with data kept as the plain mapping it was; event.task is then None.
    assert event.data == {"id": "task_123"}
    assert event.task is None


def test_verify_accepts_bytearray_and_memoryview() -> None:
    assert webhooks.verify(bytearray(BODY), golden_headers(), SECRET, now=TS).event == "task.succeeded"
    assert webhooks.verify(memoryview(BODY), golden_headers(), SECRET, now=TS).event == "task.succeeded"


def test_sign_defaults_to_now_and_round_trips() -> None:
    headers = webhooks.sign(TASK_BODY, SECRET)
    event = webhooks.verify(TASK_BODY, headers, SECRET)
    assert isinstance(event.task, Task)
    assert event.task.status is TaskStatus.SUCCEEDED
    assert event.id == "evt_1"
    assert event.created_at is not None and event.created_at.timestamp() == TS


def test_sign_omits_the_event_header_when_the_body_has_none() -> None:
    assert "x-beatapi-event" not in webhooks.sign(b"not json", SECRET, timestamp=TS)
    assert "x-beatapi-event" not in webhooks.sign(b"[1, 2]", SECRET, timestamp=TS)
    assert "x-beatapi-event" not in webhooks.sign(b'{"event": 5}', SECRET, timestamp=TS)
    assert "x-beatapi-event" not in webhooks.sign(b'{"event": "a\\nb"}', SECRET, timestamp=TS)


@pytest.mark.parametrize(
    ("payload", "secret", "timestamp", "error"),
    [
        ("text", SECRET, TS, TypeError),
        (BODY, b"whsec_test", TS, TypeError),
        (BODY, "", TS, ValueError),
        (BODY, SECRET, -1, ValueError),
        (BODY, SECRET, True, ValueError),
    ],
)
def test_sign_refuses_bad_arguments(payload: Any, secret: Any, timestamp: Any, error: type[Exception]) -> None:
    with pytest.raises(error):
        webhooks.sign(payload, secret, timestamp=timestamp)


def test_fixture_delivery_verifies_into_a_task() -> None:
    body = require(FIXTURE).read_bytes()
    headers = webhooks.sign(body, "whsec_fixture", timestamp=1784188934)
    event = webhooks.verify(body, headers, "whsec_fixture", now=1784188940)
    assert event.id == "evt_example_123"
    assert event.event == "task.succeeded"
    task = event.task
    assert isinstance(task, Task)
    assert task.id == "task_8K2qA"
    assert task.is_terminal
    assert task.video_url == "https://media.example.com/outputs/task_8K2qA.mp4"
    assert task.storyboard is not None and task.storyboard.shots[0].id == "shot_example_1"


def test_unknown_event_types_still_load() -> None:
    body = b'{"id":"evt_9","event":"task.storyboard_ready","created_at":1784187600,"data":{"x":1},"new":true}'
    event = webhooks.verify(body, webhooks.sign(body, SECRET, timestamp=TS), SECRET, now=TS)
    assert event.event == "task.storyboard_ready"
    assert event.data == {"x": 1}
    assert event.extra == {"new": True}


# -- headers ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda h: {k.upper(): v for k, v in h.items()},
        lambda h: {k.title(): v for k, v in h.items()},
        lambda h: CIMultiDict(h),
        lambda h: CIMultiDictProxy(CIMultiDict({k.upper(): v for k, v in h.items()})),
        lambda h: [(k.encode(), v.encode()) for k, v in h.items()],  # raw ASGI-style pairs
    ],
    ids=["upper-dict", "title-dict", "cimultidict", "cimultidictproxy", "raw-pairs"],
)
def test_headers_are_looked_up_case_insensitively(make: Callable[[dict[str, str]], Any]) -> None:
    event = webhooks.verify(BODY, make(golden_headers()), SECRET, now=TS)
    assert event.event == "task.succeeded"


def test_signature_variants_are_accepted() -> None:
    wrong = "0" * 64
    for signature in (SIG.upper(), f"v1={SIG}", f"{wrong},{SIG}", f"{wrong} {SIG}", f"v1={wrong}, v1={SIG}"):
        assert webhooks.verify(BODY, golden_headers(**{"x-beatapi-signature": signature}), SECRET, now=TS)


def test_repeated_signature_headers_are_all_candidates() -> None:
    headers = CIMultiDict(golden_headers(**{"x-beatapi-signature": "0" * 64}))
    headers.add("X-BeatAPI-Signature", SIG)
    assert webhooks.verify(BODY, headers, SECRET, now=TS).event == "task.succeeded"


def test_the_event_header_is_optional() -> None:
    headers = golden_headers()
    del headers["x-beatapi-event"]
    assert webhooks.verify(BODY, headers, SECRET, now=TS).event == "task.succeeded"


# -- rotation --------------------------------------------------------------------------


def test_rotation_any_secret_may_match() -> None:
    assert webhooks.verify(BODY, golden_headers(), ["whsec_new", SECRET], now=TS)
    assert webhooks.verify(BODY, golden_headers(), (SECRET, "whsec_new"), now=TS)
    error = rejects(BODY, golden_headers(), ["whsec_new", "whsec_other"])
    assert "signature mismatch" in error.reason


@pytest.mark.parametrize("secret", ["", [], (), [""], [SECRET, ""], None, b"whsec_test", [b"whsec_test"], 5])
def test_a_missing_or_bad_secret_is_an_error(secret: Any) -> None:
    rejects(BODY, golden_headers(), secret)


# -- rejections --------------------------------------------------------------------------

REJECTIONS: list[tuple[str, Any, dict[str, Any], str]] = [
    ("missing timestamp", BODY, {"x-beatapi-timestamp": None}, "x-beatapi-timestamp header is missing"),
    ("missing signature", BODY, {"x-beatapi-signature": None}, "x-beatapi-signature header is missing"),
    ("non-numeric timestamp", BODY, {"x-beatapi-timestamp": "soon"}, "not whole unix seconds"),
    ("fractional timestamp", BODY, {"x-beatapi-timestamp": "1784187600.0"}, "not whole unix seconds"),
    ("negative timestamp", BODY, {"x-beatapi-timestamp": "-1784187600"}, "not whole unix seconds"),
    ("signed timestamp", BODY, {"x-beatapi-timestamp": "+1784187600"}, "not whole unix seconds"),
    ("non-ascii digits", BODY, {"x-beatapi-timestamp": "١٧٨٤١٨٧٦٠٠"}, "not whole unix seconds"),
    ("huge timestamp", BODY, {"x-beatapi-timestamp": "9" * 5000}, "not whole unix seconds"),
    ("empty timestamp", BODY, {"x-beatapi-timestamp": ""}, "not whole unix seconds"),
    ("leading zero timestamp", BODY, {"x-beatapi-timestamp": "0" + str(TS)}, "signature mismatch"),
    ("short signature", BODY, {"x-beatapi-signature": SIG[:-1]}, "malformed"),
    ("long signature", BODY, {"x-beatapi-signature": SIG + "0"}, "malformed"),
    ("non-hex signature", BODY, {"x-beatapi-signature": "z" * 64}, "malformed"),
    ("empty signature", BODY, {"x-beatapi-signature": ""}, "malformed"),
    ("other scheme", BODY, {"x-beatapi-signature": f"v0={SIG}"}, "malformed"),
    ("stray separator", BODY, {"x-beatapi-signature": f"{SIG},"}, "malformed"),
    ("too many signatures", BODY, {"x-beatapi-signature": ",".join(["0" * 64] * 16 + [SIG])}, "too many"),
    ("wrong signature", BODY, {"x-beatapi-signature": "0" * 64}, "signature mismatch"),
    ("tampered body", BODY.replace(b"123", b"124"), {}, "signature mismatch"),
    ("other timestamp", BODY, {"x-beatapi-timestamp": str(TS + 1)}, "signature mismatch"),
    ("event header mismatch", BODY, {"x-beatapi-event": "task.failed"}, "does not match the body's event"),
    ("non-text header", BODY, {"x-beatapi-signature": 5}, "not text"),
]


@pytest.mark.parametrize(("payload", "changes", "reason"), [r[1:] for r in REJECTIONS], ids=[r[0] for r in REJECTIONS])
def test_bad_deliveries_are_rejected(payload: bytes, changes: dict[str, Any], reason: str) -> None:
    headers: dict[str, Any] = golden_headers()
    for name, value in changes.items():
        if value is None:
            del headers[name]
        else:
            headers[name] = value
    assert reason in rejects(payload, headers).reason


def test_wrong_secret_is_rejected() -> None:
    assert "signature mismatch" in rejects(BODY, golden_headers(), "whsec_wrong").reason
    # The secret is used whole: without its prefix it is another key.
    assert "signature mismatch" in rejects(BODY, golden_headers(), "test").reason


def test_several_different_timestamps_are_rejected() -> None:
    headers = CIMultiDict(golden_headers())
    headers.add("X-BeatAPI-Timestamp", str(TS + 1))
    assert "several different" in rejects(BODY, headers).reason


@pytest.mark.parametrize("offset", [301, -301, 10**6, -(10**6)])
def test_the_window_is_symmetric(offset: int) -> None:
    reason = rejects(BODY, golden_headers(), now=TS + offset).reason
    assert ("too old" if offset > 0 else "in the future") in reason


@pytest.mark.parametrize("offset", [0, 300, -300, 299.5])
def test_inside_the_window_is_accepted(offset: float) -> None:
    assert webhooks.verify(BODY, golden_headers(), SECRET, now=TS + offset)


def test_tolerance_is_configurable() -> None:
    assert webhooks.verify(BODY, golden_headers(), SECRET, now=TS + 3600, tolerance=3600)
    assert "too old" in rejects(BODY, golden_headers(), now=TS + 11, tolerance=10).reason


def test_the_default_clock_rejects_an_old_vector() -> None:
    # now=None reads the real clock, which is far past 1970.
    headers = webhooks.sign(BODY, SECRET, timestamp=1)
    assert "too old" in rejects(BODY, headers, now=None).reason


@pytest.mark.parametrize("tolerance", [-1, float("nan"), float("inf")])
def test_bad_tolerance_is_a_programming_error(tolerance: float) -> None:
    with pytest.raises(ValueError):
        webhooks.verify(BODY, golden_headers(), SECRET, now=TS, tolerance=tolerance)
    with pytest.raises(ValueError):
        webhooks.aiohttp_handler(SECRET, tolerance=tolerance)


def test_signature_is_checked_before_the_body_is_parsed() -> None:
    # Not JSON, but the signature is wrong: the answer is about the signature.
    assert "signature mismatch" in rejects(b"{not json", golden_headers()).reason


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe\x00", "not valid JSON"),
        (b"", "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not valid JSON"),
        (b"1" * 5000, "not valid JSON"),
        (b"[1, 2]", "expected a JSON object"),
        (b'"task.succeeded"', "expected a JSON object"),
        (b'{"data": {}}', "not a valid webhook event"),
        (b'{"event": 5}', "not a valid webhook event"),
        (b'{"event": "task.failed", "data": [1]}', "not a valid webhook event"),
        (b'{"event": "task.failed", "data": {"id": "t", "status": 5}}', "not a valid webhook event"),
        (b'{"event": "task.failed", "created_at": "yesterday"}', "not a valid webhook event"),
    ],
)
def test_a_signed_body_that_is_not_an_event_is_rejected(body: bytes, reason: str) -> None:
    headers = webhooks.sign(body, SECRET, timestamp=TS)
    headers.pop("x-beatapi-event", None)
    assert reason in rejects(body, headers).reason


@pytest.mark.parametrize(
    ("payload", "hint"),
    [
        (BODY.decode(), "is a str"),
        (json.loads(BODY), "parsed JSON"),
        ([1], "parsed JSON"),
        (None, "NoneType"),
        (12, "int"),
    ],
)
def test_a_payload_that_is_not_raw_bytes_is_rejected(payload: Any, hint: str) -> None:
    reason = rejects(payload, golden_headers()).reason
    assert hint in reason
    assert "raw request body" in reason


@pytest.mark.parametrize("headers", [None, 5, "x-beatapi-timestamp", [1, 2], [("a", "b", "c")]])
def test_headers_that_are_not_a_mapping_are_rejected(headers: Any) -> None:
    assert "headers must be a mapping" in rejects(BODY, headers).reason


def test_errors_are_beatapi_errors_and_never_show_the_secret() -> None:
    secret = "whsec_SuperSecretValue123"
    cases: list[tuple[Any, Any, Any]] = [
        (BODY, golden_headers(), secret),
        (BODY, golden_headers(**{"x-beatapi-signature": secret}), secret),
        (BODY, golden_headers(**{"x-beatapi-timestamp": secret}), secret),
        (BODY, golden_headers(), [secret, 5]),
        (BODY, golden_headers(), [secret, ""]),
        (BODY, golden_headers(), secret.encode()),
        (secret, golden_headers(), secret),
        ({"secret": secret}, golden_headers(), secret),
        (BODY, secret, secret),
    ]
    for payload, headers, key in cases:
        error = rejects(payload, headers, key)
        assert isinstance(error, BeatAPIError)
        assert str(error).startswith("webhook_invalid: ") and error.code == "webhook_invalid"
        for text in (str(error), repr(error), error.reason, repr(error.args)):
            assert "SuperSecret" not in text


# -- property: any single-byte change is rejected ---------------------------------------


def _mutations(data: bytes) -> st.SearchStrategy[bytes]:
    """Every single-byte replacement, deletion (incl. truncation) and insertion of ``data``."""
    index = st.integers(0, len(data) - 1)
    byte = st.integers(0, 255)
    replace = st.tuples(index, byte).filter(lambda ib: data[ib[0]] != ib[1])
    return st.one_of(
        replace.map(lambda ib: data[: ib[0]] + bytes([ib[1]]) + data[ib[0] + 1 :]),
        index.map(lambda i: data[:i] + data[i + 1 :]),
        st.integers(0, len(data) - 1).map(lambda n: data[:n]),
        st.tuples(st.integers(0, len(data)), byte).map(lambda ib: data[: ib[0]] + bytes([ib[1]]) + data[ib[0] :]),
    )


@given(body=_mutations(BODY))
def test_any_single_byte_change_of_the_body_is_rejected(body: bytes) -> None:
    assume(body != BODY)
    rejects(body, golden_headers())


@given(stamp=_mutations(str(TS).encode()))
def test_any_single_byte_change_of_the_timestamp_is_rejected(stamp: bytes) -> None:
    assume(stamp != str(TS).encode())
    rejects(BODY, golden_headers(**{"x-beatapi-timestamp": stamp.decode("latin-1")}))


@given(signature=_mutations(SIG.encode()))
def test_any_single_byte_change_of_the_signature_is_rejected(signature: bytes) -> None:
    # Upper-case hex is accepted by design: a change of case only is the same digest.
    assume(signature.lower() != SIG.encode())
    rejects(BODY, golden_headers(**{"x-beatapi-signature": signature.decode("latin-1")}))


# -- the aiohttp handler on a real loopback server ---------------------------------------


class FakeClient:
    """Stands in for AsyncBeatAPI: records the events passed to notify."""

    def __init__(self, fail: bool = False) -> None:
        self.events: list[WebhookEvent] = []
        self.fail = fail

    async def notify(self, event: WebhookEvent) -> None:
        self.events.append(event)
        if self.fail:
            raise RuntimeError("client closed")


@contextlib.asynccontextmanager
async def serve(handler: Callable[[web.Request], Any]) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    app = web.Application()
    app.router.add_post("/beatapi/webhooks", handler)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        yield client


async def deliver(
    client: TestClient[web.Request, web.Application], body: bytes = TASK_BODY, **sign_kwargs: Any
) -> aiohttp.ClientResponse:
    headers = webhooks.sign(body, SECRET, **sign_kwargs)
    return await client.post("/beatapi/webhooks", data=body, headers=headers)


async def test_handler_answers_200_and_calls_sync_on_event() -> None:
    seen: list[WebhookEvent] = []
    async with serve(webhooks.aiohttp_handler(SECRET, on_event=seen.append)) as client:
        response = await deliver(client)
        assert response.status == 200
        assert await response.json() == {"received": True}
    assert [e.id for e in seen] == ["evt_1"]
    assert isinstance(seen[0].task, Task)


async def test_handler_awaits_an_async_on_event() -> None:
    seen: list[WebhookEvent] = []

    async def on_event(event: WebhookEvent) -> None:
        await asyncio.sleep(0)
        seen.append(event)

    async with serve(webhooks.aiohttp_handler(SECRET, on_event=on_event)) as client:
        assert (await deliver(client)).status == 200
    assert [e.id for e in seen] == ["evt_1"]


async def test_handler_answers_400_to_a_bad_delivery_without_the_secret() -> None:
    seen: list[WebhookEvent] = []
    async with serve(webhooks.aiohttp_handler(SECRET, on_event=seen.append)) as client:
        headers = webhooks.sign(TASK_BODY, "whsec_wrong")
        response = await client.post("/beatapi/webhooks", data=TASK_BODY, headers=headers)
        assert response.status == 400
        payload = await response.json()
        assert payload["error"]["code"] == "invalid_signature"
        assert "signature mismatch" in payload["error"]["message"]
        assert SECRET not in await response.text()

        response = await client.post("/beatapi/webhooks", data=TASK_BODY)
        assert response.status == 400
        assert "header is missing" in (await response.json())["error"]["message"]

        stale = await deliver(client, timestamp=1)
        assert stale.status == 400
    assert seen == []


async def test_handler_answers_500_when_on_event_raises_so_beatapi_retries() -> None:
    calls: list[str | None] = []

    def on_event(event: WebhookEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            raise RuntimeError("database down")

    async with serve(webhooks.aiohttp_handler(SECRET, on_event=on_event)) as client:
        failed = await deliver(client)
        assert failed.status == 500
        assert "database down" not in await failed.text()
        # The failed event was not remembered: the retry is handled.
        assert (await deliver(client)).status == 200
        assert (await deliver(client)).status == 200
    assert calls == ["evt_1", "evt_1"]


async def test_handler_drops_repeated_deliveries_of_one_event() -> None:
    calls: list[str | None] = []
    async with serve(webhooks.aiohttp_handler(SECRET, on_event=lambda e: calls.append(e.id))) as client:
        first = await deliver(client)
        retry = await deliver(client, timestamp=None)
        assert first.status == retry.status == 200
        assert await retry.json() == {"received": True, "duplicate": True}
        other = json.loads(TASK_BODY)
        other["id"] = "evt_2"
        assert (await deliver(client, json.dumps(other).encode())).status == 200
    assert calls == ["evt_1", "evt_2"]


async def test_concurrent_duplicates_wait_for_the_first_delivery() -> None:
    calls: list[str | None] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def on_event(event: WebhookEvent) -> None:
        calls.append(event.id)
        started.set()
        await release.wait()

    async with serve(webhooks.aiohttp_handler(SECRET, on_event=on_event)) as client:
        first = asyncio.create_task(deliver(client))
        second = asyncio.create_task(deliver(client))
        await started.wait()
        await asyncio.sleep(0.05)  # time for the second delivery to arrive and wait
        release.set()
        statuses = sorted([(await first).status, (await second).status])
    assert statuses == [200, 200]
    assert calls == ["evt_1"]


async def test_a_duplicate_waiting_on_a_failed_delivery_handles_the_event_itself() -> None:
    calls: list[str | None] = []
    started, release = asyncio.Event(), asyncio.Event()

    async def on_event(event: WebhookEvent) -> None:
        calls.append(event.id)
        if len(calls) == 1:
            started.set()
            await release.wait()
            raise RuntimeError("first attempt fails")

    async with serve(webhooks.aiohttp_handler(SECRET, on_event=on_event)) as client:
        first = asyncio.create_task(deliver(client))
        await started.wait()
        second = asyncio.create_task(deliver(client))
        await asyncio.sleep(0.05)
        assert not second.done()
        assert calls == ["evt_1"]
        release.set()
        assert (await first).status == 500
        assert (await second).status == 200
    assert calls == ["evt_1", "evt_1"]


async def test_dedupe_can_be_turned_off_and_events_without_id_are_never_dropped() -> None:
    calls: list[str | None] = []
    async with serve(webhooks.aiohttp_handler(SECRET, on_event=lambda e: calls.append(e.id), dedupe=False)) as client:
        assert (await deliver(client)).status == 200
        assert (await deliver(client)).status == 200
    assert calls == ["evt_1", "evt_1"]

    calls.clear()
    async with serve(webhooks.aiohttp_handler(SECRET, on_event=lambda e: calls.append(e.id))) as client:
        for _ in range(2):
            assert (await deliver(client, BODY)).status == 200
    assert calls == [None, None]


async def test_dedupe_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webhooks, "DEDUPE_CAPACITY", 2)
    calls: list[str | None] = []
    handler = webhooks.aiohttp_handler(SECRET, on_event=lambda e: calls.append(e.id))
    async with serve(handler) as client:
        for event_id in ("evt_a", "evt_b", "evt_c", "evt_a"):
            body = json.dumps({"id": event_id, "event": "task.failed"}).encode()
            assert (await deliver(client, body)).status == 200
    # evt_a was forgotten once two newer ids came in, so its redelivery is handled.
    assert calls == ["evt_a", "evt_b", "evt_c", "evt_a"]


async def test_handler_passes_the_event_to_client_notify() -> None:
    fake = FakeClient()
    seen: list[WebhookEvent] = []
    async with serve(webhooks.aiohttp_handler(SECRET, client=fake, on_event=seen.append)) as client:
        assert (await deliver(client)).status == 200
        assert (await deliver(client)).status == 200  # duplicate: not notified again
    assert [e.id for e in fake.events] == ["evt_1"]
    assert fake.events[0].task is not None and fake.events[0].task.id == "task_1"
    assert seen == fake.events


async def test_a_failing_notify_does_not_fail_the_delivery() -> None:
    fake = FakeClient(fail=True)
    seen: list[WebhookEvent] = []
    async with serve(webhooks.aiohttp_handler(SECRET, client=fake, on_event=seen.append)) as client:
        assert (await deliver(client)).status == 200
    assert len(fake.events) == len(seen) == 1


async def test_handler_accepts_rotated_secrets() -> None:
    async with serve(webhooks.aiohttp_handler(["whsec_new", SECRET])) as client:
        assert (await deliver(client)).status == 200


def test_handler_refuses_an_empty_secret_at_startup() -> None:
    with pytest.raises(WebhookVerificationError):
        webhooks.aiohttp_handler([])
    with pytest.raises(WebhookVerificationError):
        webhooks.aiohttp_handler("")
