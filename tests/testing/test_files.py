"""Uploads (multipart and raw), type/size/duration checks, serving files back, using them as inputs."""

from __future__ import annotations

import io
from typing import Any

import aiohttp
import pytest

from beatapi_async import _rules as R

from .._helpers import wav_bytes
from ._support import Api

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form(
    data: bytes, filename: str | None, content_type: str | None, purpose: str | None = "input"
) -> aiohttp.FormData:
    body = aiohttp.FormData()
    if purpose is not None:
        body.add_field("purpose", purpose)
    body.add_field("file", data, filename=filename, content_type=content_type)
    return body


async def upload(api: Api, data: bytes, content_type: str, **headers: str) -> dict[str, Any]:
    reply = await api.call("POST", "/v1/files", data=data, headers={"Content-Type": content_type, **headers})
    assert reply.status == 201, reply.body
    file: dict[str, Any] = reply.data
    return file


async def test_multipart_wav_is_measured_and_served_back(api: Api) -> None:
    audio = wav_bytes(12.5)
    reply = await api.call("POST", "/v1/files", data=form(audio, "song.wav", "audio/wav"))
    assert reply.status == 201
    file = reply.data
    assert file["id"].startswith("file_") and file["object"] == "file"
    assert file["mime_type"] == "audio/wav"
    assert file["size_bytes"] == len(audio)
    assert file["audio_duration_seconds"] == 12.5
    assert file["audio_duration_source"] == "wav_header"
    assert file["purpose"] == "input"
    assert file["url"] == f"{api.fake.base_url}/{file['key']}"
    assert file["key"] == f"inputs/{file['id']}.wav"
    async with api.session.get(file["url"]) as response:  # public, like a CDN URL
        assert response.status == 200
        assert response.content_type == "audio/wav"
        assert await response.read() == audio
    assert api.fake.files[file["id"]].data == audio


async def test_raw_upload_with_content_type(api: Api) -> None:
    file = await upload(api, PNG, "image/png")
    assert file["mime_type"] == "image/png"
    assert "audio_duration_seconds" not in file
    assert file["url"].endswith(".png")


async def test_raw_wav_under_its_alias_type(api: Api) -> None:
    file = await upload(api, wav_bytes(10), "audio/x-wav")
    assert file["mime_type"] == "audio/wav"


async def test_srt_as_text_plain_only_with_an_srt_filename(api: Api) -> None:
    srt = b"1\n00:00:00,000 --> 00:00:01,000\nHello\n"
    ok = await api.call("POST", "/v1/files", data=form(srt, "lyrics.srt", "text/plain"))
    assert ok.status == 201
    assert ok.data["mime_type"] == "application/x-subrip"
    refused = await api.call("POST", "/v1/files", data=form(srt, "notes.txt", "text/plain"))
    assert refused.status == 400
    raw = await api.call("POST", "/v1/files", data=srt, headers={"Content-Type": "text/plain"})
    assert raw.status == 400
    named = await upload(api, srt, "text/plain", **{"Content-Disposition": 'attachment; filename="a.srt"'})
    assert named["mime_type"] == "application/x-subrip"


@pytest.mark.parametrize(
    ("data", "filename", "content_type", "fragment"),
    [
        (b"%PDF-1.4", "doc.pdf", "application/pdf", "not accepted"),
        (b"\x00\x01", "blob.bin", "application/octet-stream", "not accepted"),
        (b"\x00\x01", "notes.txt", "application/octet-stream", "not accepted"),
        (b"\x00\x01", "clip.mp4", "video/mp4", "not accepted"),
        (b"PK\x03\x04", "a.zip", "application/zip", "not accepted"),
        (b"hello", "a.txt", "text/plain", "not accepted"),
        (wav_bytes(5), "short.wav", "audio/wav", "10-180 seconds"),
        (wav_bytes(181, rate=1000), "long.wav", "audio/wav", "10-180 seconds"),
        (b"RIFF....WAVEjunk", "broken.wav", "audio/wav", "could not be read"),
        (b"", "empty.png", "image/png", "empty"),
    ],
)
async def test_refused_uploads(api: Api, data: bytes, filename: str, content_type: str, fragment: str) -> None:
    reply = await api.call("POST", "/v1/files", data=form(data, filename, content_type))
    assert reply.status == 400
    assert fragment in reply.error["message"]
    assert api.fake.files == {}


async def test_raw_upload_without_content_type_is_octet_stream_and_refused(api: Api) -> None:
    reply = await api.call("POST", "/v1/files", data=PNG, headers={"Content-Type": "application/octet-stream"})
    assert reply.status == 400


async def test_multipart_needs_a_file_field_and_input_purpose(api: Api) -> None:
    body = aiohttp.FormData()
    body.add_field("purpose", "input")
    body.add_field("other", PNG, filename="a.png", content_type="image/png")
    reply = await api.call("POST", "/v1/files", data=body)
    assert reply.status == 400
    assert reply.error["details"]["field"] == "file"
    reply = await api.call("POST", "/v1/files", data=form(PNG, "a.png", "image/png", purpose="output"))
    assert reply.status == 400
    assert reply.error["details"]["field"] == "purpose"
    no_purpose = await api.call("POST", "/v1/files", data=form(PNG, "a.png", "image/png", purpose=None))
    assert no_purpose.status == 201


async def test_type_from_filename_when_the_part_has_none(api: Api) -> None:
    # aiohttp labels an untyped part application/octet-stream: the name decides.
    reply = await api.call("POST", "/v1/files", data=form(PNG, "photo.jpeg", None))
    assert reply.status == 201
    assert reply.data["mime_type"] == "image/jpeg"
    boundary = "XyZ"
    raw = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="photo.jpeg"\r\n\r\n'.encode()
        + PNG
        + f"\r\n--{boundary}--\r\n".encode()
    )
    reply = await api.call(
        "POST", "/v1/files", data=raw, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    assert reply.status == 201
    assert reply.data["mime_type"] == "image/jpeg"


async def test_over_50_mb_is_refused(api: Api) -> None:
    reply = await api.call(
        "POST", "/v1/files", data=io.BytesIO(b"\x00" * (R.MAX_UPLOAD_BYTES + 1)), headers={"Content-Type": "image/png"}
    )
    assert reply.status == 413  # in the envelope, like every error
    assert "50 MB" in reply.error["message"]
    assert api.fake.files == {}


async def test_mp3_length_is_estimated_and_unknown_audio_gets_the_default(api: Api) -> None:
    # One MPEG-1 Layer III header at 128 kbit/s, 44.1 kHz, then 20 s worth of bytes.
    frame = b"\xff\xfb\x90\x00"
    mp3 = frame + b"\x00" * (20 * 16000 - len(frame))
    file = await upload(api, mp3, "audio/mpeg")
    assert file["audio_duration_seconds"] == 20.0
    assert file["audio_duration_source"] == "mp3_frame_scan"
    m4a = await upload(api, b"\x00\x00\x00\x20ftypM4A ", "audio/mp4")
    assert m4a["audio_duration_seconds"] == 15.0
    assert m4a["audio_duration_source"] == "emulator_default"
    short_mp3 = frame + b"\x00" * (2 * 16000)
    reply = await api.call("POST", "/v1/files", data=short_mp3, headers={"Content-Type": "audio/mpeg"})
    assert reply.status == 400


async def test_uploaded_files_are_accepted_as_task_inputs(api: Api) -> None:
    image = await upload(api, PNG, "image/png")
    audio = await upload(api, wav_bytes(11), "audio/wav")
    srt = await upload(api, b"1\n", "application/x-subrip")
    reply = await api.create_mv(images=[image["url"]], audio_url=audio["url"], srt_url=srt["url"])
    assert reply.status == 201
    assert reply.data["usage"]["billable_duration_seconds"] == 11
    assert (await api.create_ec(images=[image["url"]])).status == 201


async def test_emulator_urls_must_be_uploads_of_the_right_type(api: Api) -> None:
    image = await upload(api, PNG, "image/png")
    reply = await api.create_mv(images=[image["url"]], audio_url=image["url"])
    assert reply.status == 400
    assert reply.error["details"]["field"] == "audio_url"
    reply = await api.create_mv(images=[f"{api.fake.base_url}/inputs/file_missing.png"])
    assert reply.status == 400
    assert reply.error["details"]["field"] == "images[0]"
    # Another loopback server is not the emulator: refused like any localhost URL.
    reply = await api.create_ec(images=["http://127.0.0.1:1/a.png"])
    assert reply.status == 400
    assert api.fake.tasks == {}
    async with api.session.get(f"{api.fake.base_url}/inputs/file_missing.png") as response:
        assert response.status == 404
