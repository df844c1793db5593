"""``client.files.upload`` over real loopback HTTP: every source kind, MIME table, limits."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from beatapi_async import AsyncBeatAPI, File, RequestValidationError

from .._loopback import LoopbackBeatAPI, error

MP3 = b"ID3" + bytes(range(256)) * 40
FIFTY_MB = 50 * 1024 * 1024


def sent_without_chunking(server: LoopbackBeatAPI) -> None:
    for seen in server.seen("POST", "/v1/files"):
        assert int(seen.headers["Content-Length"]) == len(seen.body)
        assert "chunked" not in seen.headers.get("Transfer-Encoding", "")
        assert seen.headers["Content-Type"].startswith("multipart/form-data")


def the_part(server: LoopbackBeatAPI) -> tuple[str | None, str, bytes]:
    parts = {p.name: p for p in server.requests[-1].parts}
    assert parts["purpose"].data == b"input"
    f = parts["file"]
    return f.filename, f.content_type, f.data


async def test_upload_path_streams_with_length(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"
    path.write_bytes(MP3)
    uploaded = await live.files.upload(path)
    assert isinstance(uploaded, File)
    assert uploaded.url.startswith("https://") and uploaded.mime_type == "audio/mpeg"
    assert uploaded.size_bytes == len(MP3)
    assert the_part(server) == ("song.mp3", "audio/mpeg", MP3)
    sent_without_chunking(server)
    await live.files.upload(str(path))  # a str path too
    assert the_part(server) == ("song.mp3", "audio/mpeg", MP3)


async def test_upload_bytes_needs_filename(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    with pytest.raises(RequestValidationError, match="filename"):
        await live.files.upload(MP3)
    assert server.requests == []
    await live.files.upload(MP3, filename="voice.mp3")
    assert the_part(server) == ("voice.mp3", "audio/mpeg", MP3)
    await live.files.upload(bytearray(b"\x89PNG...."), mime_type="image/png")
    assert the_part(server)[1:] == ("image/png", b"\x89PNG....")
    sent_without_chunking(server)


@pytest.mark.parametrize(
    ("name", "mime"),
    [
        ("voice.wav", "audio/wav"),
        ("subs.srt", "application/x-subrip"),
        ("a.M4A", "audio/mp4"),
        ("p.jpg", "image/jpeg"),
        ("p.webp", "image/webp"),
        ("a.aac", "audio/aac"),
        ("p.jpeg", "image/jpeg"),
    ],
)
async def test_mime_table(live: AsyncBeatAPI, server: LoopbackBeatAPI, name: str, mime: str) -> None:
    await live.files.upload(b"data", filename=name)
    assert the_part(server)[:2] == (name, mime)


async def test_upload_binary_file_object(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    path = tmp_path / "cover.png"
    path.write_bytes(b"\x89PNG" + MP3)
    with path.open("rb") as f:
        f.read(4)  # sent from where the caller left it
        await live.files.upload(f)
        assert not f.closed  # the caller's file stays the caller's
    assert the_part(server) == ("cover.png", "image/png", MP3)
    sent_without_chunking(server)


async def test_upload_bytesio(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    buf = io.BytesIO(MP3)
    await live.files.upload(buf, filename="clip.mp3")
    assert the_part(server) == ("clip.mp3", "audio/mpeg", MP3)
    assert not buf.closed
    sent_without_chunking(server)


async def test_file_object_retried_after_503(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"
    path.write_bytes(MP3)
    server.script("POST", "/v1/files", error(503, "processing_unavailable"))
    with path.open("rb") as f:
        await live.files.upload(f)
        assert not f.closed
    first, second = server.seen("POST", "/v1/files")
    assert first.body.count(MP3) == 1 and second.body.count(MP3) == 1
    assert the_part(server)[2] == MP3
    sent_without_chunking(server)


async def test_path_retried_after_503(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"
    path.write_bytes(MP3)
    server.script("POST", "/v1/files", error(502, "bad_gateway"), error(503, "processing_unavailable"))
    await live.files.upload(path)
    assert len(server.seen("POST", "/v1/files")) == 3
    assert the_part(server)[2] == MP3


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def test_upload_async_iterator(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    server.script("POST", "/v1/files", error(503, "processing_unavailable"))  # re-sent from the spool
    await live.files.upload(chunks(MP3[:100], MP3[100:]), filename="stream.wav")
    assert the_part(server) == ("stream.wav", "audio/wav", MP3)
    assert len(server.seen("POST", "/v1/files")) == 2
    sent_without_chunking(server)
    with pytest.raises(RequestValidationError, match="filename"):
        await live.files.upload(chunks(MP3))


async def test_refused_types_send_nothing(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF")
    with pytest.raises(RequestValidationError, match="filename"):
        await live.files.upload(pdf)
    with pytest.raises(RequestValidationError, match="mime_type"):
        await live.files.upload(b"x", filename="a.mp3", mime_type="application/pdf")
    with pytest.raises(RequestValidationError, match="mime_type"):
        await live.files.upload(b"x", mime_type="video/mp4")
    with pytest.raises(RequestValidationError, match="filename"):
        await live.files.upload(b"x", filename="notes.txt")
    with pytest.raises(RequestValidationError, match="filename"):
        await live.files.upload(b"x", filename="noextension")
    with pytest.raises(RequestValidationError, match="file"):
        await live.files.upload(b"", filename="empty.mp3")
    with pytest.raises(RequestValidationError, match="file"):
        await live.files.upload(tmp_path / "missing.mp3")
    with pytest.raises(RequestValidationError, match="file"):
        await live.files.upload(tmp_path)  # a directory
    with pytest.raises(RequestValidationError, match="file"):
        await live.files.upload(12345)  # type: ignore[arg-type]
    assert server.requests == []


async def test_text_mode_file_refused(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    path = tmp_path / "subs.srt"
    path.write_text("1\n00:00:00,000 --> 00:00:01,000\nHi\n")
    with path.open("r") as f, pytest.raises(RequestValidationError, match="binary"):
        await live.files.upload(f)  # type: ignore[arg-type]
    with pytest.raises(RequestValidationError, match="binary"):
        await live.files.upload(io.StringIO("text"), filename="subs.srt")  # type: ignore[arg-type]
    assert server.requests == []


async def test_srt_as_text_plain_is_subrip(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    await live.files.upload(b"1\n", filename="subs.srt", mime_type="text/plain")
    assert the_part(server)[1] == "application/x-subrip"
    await live.files.upload(b"RIFF", filename="voice.wav", mime_type="audio/x-wav")
    assert the_part(server)[1] == "audio/wav"


async def test_fifty_mb_limit(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    big = tmp_path / "big.mp3"
    with big.open("wb") as f:
        f.truncate(FIFTY_MB + 1)  # sparse: costs no disk
    with pytest.raises(RequestValidationError, match="50 MB"):
        await live.files.upload(big)
    with big.open("rb") as f, pytest.raises(RequestValidationError, match="50 MB"):
        await live.files.upload(f)
    with pytest.raises(RequestValidationError, match="50 MB"):
        await live.files.upload(bytes(FIFTY_MB + 1), filename="big.mp3")

    async def endless() -> AsyncIterator[bytes]:
        block = bytes(1024 * 1024)
        for _ in range(51):
            yield block

    with pytest.raises(RequestValidationError, match="50 MB"):
        await live.files.upload(endless(), filename="big.mp3")
    assert server.requests == []


async def test_exactly_fifty_mb_is_accepted_by_the_check(tmp_path: Path) -> None:
    from beatapi_async._validate import check_upload

    assert check_upload(filename="a.mp3", mime_type=None, size=FIFTY_MB) == "audio/mpeg"


async def test_unreadable_sources_are_validation_errors(
    live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path
) -> None:
    path = tmp_path / "song.mp3"
    path.write_bytes(MP3)
    f = path.open("rb")
    f.close()
    with pytest.raises(RequestValidationError, match="file"):
        await live.files.upload(f)
    assert server.requests == []


async def test_file_gone_before_retry(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    path = tmp_path / "song.mp3"
    path.write_bytes(MP3)

    async def gone() -> object:
        path.unlink()
        return error(503, "processing_unavailable")

    server.script("POST", "/v1/files", gone)
    with pytest.raises(RequestValidationError, match="could not be read"):
        await live.files.upload(path)
    assert len(server.requests) == 1


async def test_odd_file_names(live: AsyncBeatAPI, server: LoopbackBeatAPI, tmp_path: Path) -> None:
    with pytest.raises(RequestValidationError, match="filename"):
        await live.files.upload(b"x", filename='a"b\r\nX-Evil: 1.mp3')
    with pytest.raises(RequestValidationError, match="filename"):
        await live.files.upload(b"x", filename=5)  # type: ignore[arg-type]
    with pytest.raises(RequestValidationError, match="mime_type"):
        await live.files.upload(b"x", mime_type=b"audio/mpeg")  # type: ignore[arg-type]
    assert server.requests == []
    # A name on disk that is not valid UTF-8 still uploads (the bytes are replaced in the header).
    raw = tmp_path / "\udcffsong.mp3"
    raw.write_bytes(MP3)
    uploaded = await live.files.upload(raw)
    assert uploaded.mime_type == "audio/mpeg"
    await live.files.upload(b"x", filename="\ud800.mp3")
    assert len(server.requests) == 2
