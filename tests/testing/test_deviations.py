"""Issue #14: what clients written for BeatAPI by others (Node, curl, Python) hit, checked at the HTTP level.

Each test sends what those clients send (raw aiohttp, hand-built multipart),
not what our SDK sends, and most also check that the SDK's own rule agrees.
"""

from __future__ import annotations

from typing import Any

import pytest

from beatapi_async import AsyncBeatAPI, PollPolicy, RequestValidationError
from beatapi_async import _mime as M
from beatapi_async._validate import check_realtime_session, check_upload

from .._helpers import wav_bytes
from ._support import Api

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WAV = wav_bytes(12)
SRT = b"1\r\n00:00:00,000 --> 00:00:01,000\r\nHi\r\n"


def multipart(data: bytes, filename: str | None, content_type: str | None, boundary: str = "----node1234") -> bytes:
    """A multipart body as Node's FormData / curl -F build it (the part type is whatever they chose)."""
    disposition = 'form-data; name="file"' + (f'; filename="{filename}"' if filename is not None else "")
    head = f"--{boundary}\r\nContent-Disposition: {disposition}\r\n"
    if content_type is not None:
        head += f"Content-Type: {content_type}\r\n"
    purpose = f'--{boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\ninput\r\n'
    return purpose.encode() + head.encode() + b"\r\n" + data + f"\r\n--{boundary}--\r\n".encode()


async def post_multipart(api: Api, body: bytes, boundary: str = "----node1234") -> Any:
    headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    return await api.call("POST", "/v1/files", data=body, headers=headers)


# (content of the part, file name, part label, canonical type or None when BeatAPI refuses it)
UPLOADS = [
    (WAV, "song.wav", "application/octet-stream", "audio/wav"),  # Node FormData, curl -F
    (WAV, "song.wav", None, "audio/wav"),  # a part with no type at all
    (WAV, "song.WAV", "application/octet-stream", "audio/wav"),
    (PNG, "cover.png", "application/octet-stream", "image/png"),
    (PNG, "cover.jpg", "image/jpg", "image/jpeg"),
    (PNG, "cover.webp", "image/webp", "image/webp"),
    (WAV, "song.wav", "audio/x-wav", "audio/wav"),  # Python's mimetypes
    (WAV, "song.wav", "audio/wave", "audio/wav"),
    (WAV, "song.wav", "audio/wav; charset=binary", "audio/wav"),
    (b"ID3", "song.mp3", "audio/mp3", "audio/mpeg"),
    (b"aac", "song.m4a", "audio/x-m4a", "audio/mp4"),
    (b"aac", "song.aac", "application/octet-stream", "audio/aac"),
    (SRT, "lyrics.srt", "text/plain", "application/x-subrip"),  # Python's mimetypes for .srt
    (SRT, "lyrics.srt", "application/octet-stream", "application/x-subrip"),
    (SRT, "lyrics.txt", "text/plain", None),  # text/plain only for a .srt name
    (b"%PDF-1.4", "doc.pdf", "application/pdf", None),
    (b"%PDF-1.4", "doc.pdf", "application/octet-stream", None),
    (b"\x00\x01", None, "application/octet-stream", None),  # octet-stream and no name
    (b"\x00\x01", "blob", "application/octet-stream", None),
    (b"PK", "a.zip", "application/zip", None),
    (b"\x00", "clip.mp4", "video/mp4", None),
    (b"hi", "notes.txt", "text/plain", None),
]


@pytest.mark.parametrize(("data", "filename", "label", "expected"), UPLOADS)
async def test_multipart_parts_as_other_clients_label_them(
    api: Api, data: bytes, filename: str | None, label: str | None, expected: str | None
) -> None:
    reply = await post_multipart(api, multipart(data, filename, label))
    if expected is None:
        assert reply.status == 400, reply.body
        assert reply.error["code"] == "bad_request" and "not accepted" in reply.error["message"]
        assert api.fake.files == {}
    else:
        assert reply.status == 201, reply.body
        assert reply.data["mime_type"] == expected
        assert reply.data["key"].endswith(M.EXTENSION_BY_MIME[expected])
    # The SDK's client-side check reads the same table: it agrees on every case.
    if expected is None:
        with pytest.raises(RequestValidationError):
            check_upload(filename=filename, mime_type=label, size=len(data))
    else:
        assert check_upload(filename=filename, mime_type=label, size=len(data)) == expected


async def test_raw_octet_stream_body_takes_its_type_from_the_disposition_name(api: Api) -> None:
    named = {"Content-Type": "application/octet-stream", "Content-Disposition": 'attachment; filename="song.wav"'}
    reply = await api.call("POST", "/v1/files", data=WAV, headers=named)
    assert reply.status == 201 and reply.data["mime_type"] == "audio/wav"
    assert reply.data["audio_duration_seconds"] == 12.0
    bare = await api.call("POST", "/v1/files", data=WAV, headers={"Content-Type": "application/octet-stream"})
    assert bare.status == 400 and bare.error["details"]["rule"] == "type"


async def test_curl_style_upload_through_to_a_task(api: Api) -> None:
    """A curl -F upload (octet-stream part) gives a URL a create accepts."""
    audio = (await post_multipart(api, multipart(WAV, "song.wav", "application/octet-stream"))).data
    image = (await post_multipart(api, multipart(PNG, "cover.png", None))).data
    created = await api.create_mv(images=[image["url"]], audio_url=audio["url"])
    assert created.status == 201
    assert created.data["usage"]["billable_duration_seconds"] == 12


async def test_the_sdk_still_sends_canonical_types(fake_beatapi: Any, tmp_path: Any) -> None:
    song = tmp_path / "song.wav"
    song.write_bytes(WAV)
    async with AsyncBeatAPI(api_key=fake_beatapi.api_key, base_url=fake_beatapi.base_url) as client:
        await client.files.upload(song)
        await client.files.upload(WAV, filename="voice.wav", mime_type="audio/x-wav")
        await client.files.upload(WAV, filename="voice.wav", mime_type="application/octet-stream")
    bodies = [r.body for r in fake_beatapi.requests_to("POST", "/v1/files")]
    assert len(bodies) == 3
    for body in bodies:
        assert b"Content-Type: audio/wav\r\n" in body
        assert b"x-wav" not in body and b"octet-stream" not in body


# -- realtime origins ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "origin", ["https://*.example.com", "https://*", "*", "https://app.*.example.com", "https://app.example.com:*"]
)
async def test_wildcard_origins_are_refused_by_both(api: Api, origin: str) -> None:
    body = {"max_duration_seconds": 60, "allowed_origins": ["https://app.example.com", origin]}
    reply = await api.post("/v1/realtime/sessions", body, headers={"Idempotency-Key": "k-" + origin})
    assert reply.status == 400
    assert reply.error["details"]["field"] == "allowed_origins[1]"
    assert reply.error["message"].startswith("allowed_origins[1]: must be")  # the rule, not an SDK repr
    assert api.fake.sessions == {}
    with pytest.raises(RequestValidationError) as info:
        check_realtime_session(body)
    assert info.value.field == "allowed_origins[1]"


async def test_wildcard_origin_is_refused_before_sending(fake_beatapi: Any) -> None:
    async with AsyncBeatAPI(api_key=fake_beatapi.api_key, base_url=fake_beatapi.base_url) as client:
        with pytest.raises(RequestValidationError, match="wildcard"):
            await client.realtime.create_session(max_duration_seconds=60, allowed_origins=["https://*.example.com"])
    assert fake_beatapi.requests_to("POST", "/v1/realtime/sessions") == []


# -- shot edit and compose on a succeeded Music Video; requires_action ----------------------
async def test_edit_on_a_succeeded_music_video_keeps_the_final_video_until_compose(api: Api) -> None:
    created = (await api.create_mv(duration=12)).data
    done = await api.wait_status(created["id"], "succeeded")
    final_url = done["output"]["media"][0]["url"]
    shots = done["storyboard"]["shots"]
    base = f"/v1/music-video/tasks/{done['id']}"

    api.fake.speed = 50  # the edit lasts 0.6 s: long enough to see it run
    edit = await api.post(f"{base}/shots/{shots[1]['id']}/edit", {"prompt": "Brighter", "duration": 5})
    assert edit.status == 202
    assert edit.data["status"] == "editing"
    assert edit.data["output"]["media"][0]["url"] == final_url  # the final video is still there
    api.fake.speed = 10_000
    back = await api.wait_status(done["id"], "succeeded")
    edited = back["storyboard"]["shots"][1]
    assert edited["prompt"] == "Brighter" and edited["status"] == "succeeded"
    assert edited["media"]["url"].endswith(f"/shots/{shots[1]['id']}.mp4")  # the edit is stored on the shot
    assert back["output"]["media"][0]["url"] == final_url
    assert [(e.kind, e.operation) for e in api.fake.ledger if e.task_id == done["id"]][-2:] == [
        ("charge", "edit"),
        ("settle", "edit"),
    ]
    composed = await api.post(f"{base}/compose", {"shot_ids": [s["id"] for s in shots]})
    assert composed.status == 202 and composed.data["status"] == "composing"
    final = await api.wait_status(done["id"], "succeeded")
    assert final["output"]["media"][0]["url"]
    assert final["usage"]["credits_settled"] == final["usage"]["credits_charged"]
    kinds = [(e.kind, e.operation) for e in api.fake.ledger if e.task_id == done["id"]]
    assert kinds[-2:] == [("charge", "compose"), ("settle", "compose")]


async def test_compose_refuses_a_shot_without_video(api: Api) -> None:
    created = (await api.create_mv(compose_mode="manual")).data
    ready = await api.wait_status(created["id"], "requires_action")
    shot_id = ready["storyboard"]["shots"][0]["id"]
    api.fake.set_outcome(ready["id"], "fail")
    await api.post(f"/v1/music-video/tasks/{ready['id']}/shots/{shot_id}/edit", {"prompt": "x"})
    await api.wait_status(ready["id"], "storyboard_ready")
    reply = await api.post(f"/v1/music-video/tasks/{ready['id']}/compose", {"shot_ids": [shot_id]})
    assert reply.status == 400 and reply.error["details"]["field"] == "shot_ids[0]"


async def test_manual_task_reaches_requires_action_and_wait_stops_there(fake_beatapi: Any) -> None:
    poll = PollPolicy(interval=0.005, max_interval=0.02, budget_per_minute=60_000)
    async with AsyncBeatAPI(api_key=fake_beatapi.api_key, base_url=fake_beatapi.base_url, poll=poll) as client:
        task = await client.music_video.create(
            images=["https://cdn.example.com/a.png"], audio_url="https://cdn.example.com/a.mp3", compose_mode="manual"
        )
        board = await client.wait_for_task(task, until="actionable", timeout=10)
        assert board.status == "requires_action" and board.is_actionable and not board.is_terminal
        assert fake_beatapi.tasks[task.id].status == "requires_action"  # it stays there: the user must act
        assert board.storyboard is not None
        shots = [s.id for s in board.storyboard.shots]
        await client.music_video.edit_shot(board.id, shots[0], prompt="golden hour")
        again = await client.wait_for_task(board.id, until="actionable", timeout=10)
        assert again.status == "storyboard_ready"
        await client.music_video.compose(board.id, shot_ids=shots)
        done = await client.wait_for_task(board.id, timeout=10)
        assert done.status == "succeeded" and done.video_url


# -- every error is the envelope ------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/tasks/a%0Ab", 404),  # decodes to a newline: aiohttp's router never matched it
        ("GET", "/v1/tasks/a%0D%0Ab", 404),
        ("GET", "/v1/nothing", 404),
        ("GET", "/", 404),
        ("GET", "/v1/tasks/a/b", 404),
        ("DELETE", "/v1/tasks/task_x", 405),
        ("PUT", "/v1/webhooks", 405),
        ("POST", "/v1/usage", 405),
    ],
)
async def test_unmatched_paths_and_methods_answer_the_envelope(api: Api, method: str, path: str, status: int) -> None:
    reply = await api.call(method, path)
    assert reply.status == status
    assert reply.headers["Content-Type"].startswith("application/json")
    assert set(reply.error) >= {"code", "message", "request_id"}
    assert reply.error["code"] == ("not_found" if status == 404 else "bad_request")
    if status == 405:
        assert reply.headers["Allow"]


# -- schema edges: explicit null refused, integral numbers accepted -------------------------
MV = {"images": ["https://cdn.example.com/a.png"], "audio_url": "https://cdn.example.com/a.mp3"}
EC = {"images": ["https://cdn.example.com/p.png"], "duration": 15}
NULLABLE_NONE = [
    ("/v1/music-video/tasks", MV, name)
    for name in (
        "images", "audio_url", "prompt", "language", "lip_sync", "lip_ref_url", "style", "quality", "aspect_ratio",
        "resolution", "add_subtitle", "subtitle_color", "srt_url", "duration", "compose_mode",
    )
] + [
    ("/v1/ecommerce-video/tasks", EC, name) for name in ("images", "duration", "prompt", "aspect_ratio", "language")
] + [
    ("/v1/webhooks", {"url": "https://example.com/h"}, name) for name in ("url", "description", "events")
] + [
    ("/v1/realtime/sessions", {"max_duration_seconds": 60, "allowed_origins": ["https://a.example.com"]}, name)
    for name in ("max_duration_seconds", "allowed_origins", "metadata")
]  # fmt: skip


@pytest.mark.parametrize(("path", "body", "field"), NULLABLE_NONE)
async def test_explicit_null_is_refused(api: Api, path: str, body: dict[str, Any], field: str) -> None:
    reply = await api.post(path, {**body, field: None}, headers={"Idempotency-Key": f"null-{field}"})
    assert reply.status == 400, reply.body
    assert reply.error["details"]["field"] == field
    assert not api.fake.tasks and not api.fake.webhook_endpoints and not api.fake.sessions


async def test_explicit_null_is_refused_on_edit_compose_and_webhook_update(api: Api) -> None:
    hook = (await api.post("/v1/webhooks", {"url": "https://example.com/h"})).data
    for field in ("url", "description", "status", "events"):
        reply = await api.call("PATCH", f"/v1/webhooks/{hook['id']}", json={field: None})
        assert reply.status == 400 and reply.error["details"]["field"] == field
    ready = await api.wait_status((await api.create_mv(compose_mode="manual")).data["id"], "requires_action")
    shot = ready["storyboard"]["shots"][0]["id"]
    base = f"/v1/music-video/tasks/{ready['id']}"
    for field in ("duration", "quality", "resolution"):
        reply = await api.post(f"{base}/shots/{shot}/edit", {"prompt": "x", field: None})
        assert reply.status == 400 and reply.error["details"]["field"] == field
    assert (await api.post(f"{base}/compose", {"shot_ids": None})).status == 400


async def test_integral_numbers_written_as_floats_are_integers(api: Api) -> None:
    ec = await api.post("/v1/ecommerce-video/tasks", {**EC, "duration": 18.0})
    assert ec.status == 201 and ec.data["usage"]["billable_duration_seconds"] == 18
    mv = await api.post("/v1/music-video/tasks", {**MV, "duration": 20.0})
    assert mv.status == 201 and mv.data["usage"]["billable_duration_seconds"] == 20
    rt = await api.post(
        "/v1/realtime/sessions",
        {"max_duration_seconds": 60.0, "allowed_origins": ["https://a.example.com"]},
        headers={"Idempotency-Key": "float"},
    )
    assert rt.status == 201 and rt.data["max_duration_seconds"] == 60
    assert isinstance(rt.data["max_duration_seconds"], int)
    for bad in (18.5, "18", True, 1e400):
        reply = await api.post("/v1/ecommerce-video/tasks", {**EC, "duration": bad})
        assert reply.status == 400, bad


async def test_the_sdk_accepts_integral_floats_too() -> None:
    from beatapi_async import EcommerceVideoRequest

    request = EcommerceVideoRequest(images=["https://cdn.example.com/p.png"], duration=18.0)  # type: ignore[arg-type]
    assert request.duration == 18
