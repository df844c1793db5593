"""Issue #17, emulator side: malformed and deeply nested JSON, oversize bodies, bounded request records."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from beatapi_async.testing import FakeBeatAPI
from beatapi_async.testing._records import BODY_KEEP_BYTES, BODY_PREFIX_BYTES

from ._support import Api

PNG = b"\x89PNG\r\n\x1a\n"


def rss_bytes() -> int | None:
    """This process's resident memory (Linux), or None elsewhere."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


async def raw_request(fake: FakeBeatAPI, head: str, body: bytes = b"") -> tuple[int, dict[str, str], bytes]:
    """Send ``head`` and ``body`` over a plain socket; return (status, headers, body) of the answer."""
    host, port = fake.base_url.removeprefix("http://").rsplit(":", 1)
    reader, writer = await asyncio.open_connection(host, int(port))
    try:
        writer.write(head.encode("latin-1") + b"\r\n" + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        headers: dict[str, str] = {}
        while (line := await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers[name.strip().lower()] = value.strip()
        payload = await asyncio.wait_for(reader.readexactly(int(headers.get("content-length", "0"))), 5)
        return int(status_line.split()[1]), headers, payload
    finally:
        writer.close()


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * 100_000 + b"]" * 100_000,
        b'{"images":' + b"[" * 200_000,
        b'{"a":' * 100_000 + b"1" + b"}" * 100_000,
        b'{"images": NaN}',
        b'{"duration": Infinity}',
        b"{not json",
        b"\xff\xfe",
        b"[]",
        b"",
    ],
)
async def test_malformed_and_deeply_nested_json_is_a_400_envelope(api: Api, raw: bytes) -> None:
    started = time.monotonic()
    for path in ("/v1/music-video/tasks", "/v1/webhooks", "/v1/realtime/sessions"):
        reply = await api.call(
            "POST", path, data=raw, headers={"Content-Type": "application/json", "Idempotency-Key": "k"}
        )
        assert reply.status == 400, (path, reply.raw[:200])
        assert reply.headers["Content-Type"].startswith("application/json")
        assert reply.error["code"] == "bad_request"
    assert time.monotonic() - started < 5


async def test_body_announced_too_large_is_refused_before_it_is_read(fake_beatapi: FakeBeatAPI) -> None:
    sixty_mb = 60 * 1024 * 1024
    before = rss_bytes()
    for _ in range(5):
        head = (
            "POST /v1/files HTTP/1.1\r\nHost: x\r\n"
            f"Authorization: Bearer {fake_beatapi.api_key}\r\n"
            f"Content-Type: image/png\r\nContent-Length: {sixty_mb}\r\n"
        )
        # Only the first few bytes are ever sent: the answer must not wait for the rest.
        status, headers, body = await raw_request(fake_beatapi, head, PNG)
        assert status == 413
        assert headers["content-type"].startswith("application/json")
        error = json.loads(body)["error"]
        assert error["code"] == "bad_request" and error["request_id"].startswith("req_")
        assert "50 MB" in error["message"]
    after = rss_bytes()
    if before is not None and after is not None:
        assert after - before < 20 * 1024 * 1024
    assert fake_beatapi.files == {}


async def test_json_bodies_are_bounded_too(fake_beatapi: FakeBeatAPI) -> None:
    head = (
        "POST /v1/webhooks HTTP/1.1\r\nHost: x\r\n"
        f"Authorization: Bearer {fake_beatapi.api_key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {8 * 1024 * 1024}\r\n"
    )
    status, _, body = await raw_request(fake_beatapi, head, b"{")
    assert status == 413 and json.loads(body)["error"]["code"] == "bad_request"


async def test_a_chunked_body_is_cut_off_at_the_limit(fake_beatapi: FakeBeatAPI) -> None:
    async def endless() -> Any:
        chunk = b"x" * 65536
        for _ in range(64):  # 4 MiB, past the 1 MiB a JSON body may have
            yield chunk

    async with (
        aiohttp.ClientSession() as session,
        session.post(
            fake_beatapi.base_url + "/v1/webhooks",
            data=endless(),
            headers={"Authorization": f"Bearer {fake_beatapi.api_key}", "Content-Type": "application/json"},
        ) as response,
    ):
        assert response.status == 413
        assert (await response.json())["error"]["code"] == "bad_request"


async def test_request_records_keep_small_bodies_and_summarise_large_ones(api: Api) -> None:
    big = PNG + b"\x00" * (512 * 1024)
    reply = await api.call("POST", "/v1/files", data=big, headers={"Content-Type": "image/png"})
    assert reply.status == 201
    record = api.fake.requests_to("POST", "/v1/files")[-1]
    assert record.size == len(big) and record.truncated
    assert record.body == big[:BODY_PREFIX_BYTES]
    assert api.fake.files[reply.data["id"]].data == big  # the upload itself is whole
    await api.create_ec(prompt="p" * 100)
    small = api.fake.requests_to("POST", "/v1/ecommerce-video/tasks")[-1]
    assert not small.truncated and small.size == len(small.body) <= BODY_KEEP_BYTES
    assert small.json["prompt"] == "p" * 100


@pytest.mark.beatapi_fake(max_recorded_requests=5)
async def test_only_the_newest_requests_are_recorded(api: Api) -> None:
    for i in range(20):
        await api.get(f"/v1/webhooks?i={i}")
    assert len(api.fake.requests) == 5
    assert [r.query["i"] for r in api.fake.requests] == ["15", "16", "17", "18", "19"]
    assert api.fake.request_count == 20
    api.fake.reset()
    assert api.fake.requests == [] and api.fake.request_count == 0


@pytest.mark.beatapi_fake(max_recorded_requests=None)
async def test_records_can_be_unbounded_for_benchmarks(api: Api) -> None:
    for _ in range(3):
        await api.get("/v1/webhooks")
    assert len(api.fake.requests) == api.fake.request_count == 3
