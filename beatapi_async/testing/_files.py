"""Uploaded files: reading the upload (multipart or raw), measuring audio, keeping the bytes.

Contract: POST /v1/files. Files live in memory and are served back from
``/inputs/<id><ext>`` on the emulator's own origin, which is the URL the upload
answer gives; those URLs are accepted as task inputs.
"""

from __future__ import annotations

import io
import wave
from collections.abc import Mapping
from email.message import Message
from typing import Any
from urllib.parse import urlsplit

import attrs

from .. import _mime
from .. import _rules as R
from .. import _validate as V
from ._http import ApiError, bad_request, new_id

_EXTENSION_BY_MIME = _mime.EXTENSION_BY_MIME

# MPEG-1 Layer III bitrates (kbit/s) by header index, and sample rates (Hz).
_MP3_BITRATES = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_MP3_RATES = (44100, 48000, 32000)


@attrs.define(eq=False, kw_only=True)
class StoredFile:
    """One uploaded file."""

    id: str
    mime_type: str
    data: bytes = attrs.field(repr=lambda b: f"<{len(b)} bytes>")
    created_at: float
    audio_duration: float | None = None
    audio_duration_source: str | None = None

    @property
    def extension(self) -> str:
        """The file name extension BeatAPI gives this type (``.wav``)."""
        return _EXTENSION_BY_MIME[self.mime_type]

    @property
    def path(self) -> str:
        """Where the emulator serves the file (``/inputs/file_x.wav``)."""
        return f"/inputs/{self.id}{self.extension}"

    def json(self, base_url: str) -> dict[str, Any]:
        """Return the contract's ``File`` object."""
        data: dict[str, Any] = {
            "id": self.id,
            "object": "file",
            "url": base_url + self.path,
            "key": self.path.lstrip("/"),
            "mime_type": self.mime_type,
            "size_bytes": len(self.data),
            "purpose": "input",
            "created_at": int(self.created_at),
        }
        if self.audio_duration is not None:
            data["audio_duration_seconds"] = round(self.audio_duration, 2)
            data["audio_duration_source"] = self.audio_duration_source
        return data


def _header_params(value: str, header: str = "content-type") -> Message:
    msg = Message()
    msg[header] = value
    return msg


def split_multipart(body: bytes, content_type: str) -> dict[str, tuple[dict[str, str], bytes]]:
    """Return the parts of a multipart/form-data body: field name -> (headers, data)."""
    boundary = _header_params(content_type).get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise bad_request("The multipart body has no boundary.")
    delimiter = b"--" + boundary.encode("latin-1")
    parts: dict[str, tuple[dict[str, str], bytes]] = {}
    chunks = body.split(delimiter)
    # chunks[0] is the preamble; the last starts with "--" (the close delimiter).
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        chunk = chunk.removeprefix(b"\r\n")
        head, sep, data = chunk.partition(b"\r\n\r\n")
        if not sep:
            raise bad_request("A multipart part has no header block.")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""), "content-disposition")
        field = disposition.get_param("name", header="content-disposition")
        if isinstance(field, str):  # a plain value (not an RFC 2231 tuple)
            parts[field] = (headers, data.removesuffix(b"\r\n"))
    return parts


def disposition_filename(value: str | None) -> str | None:
    """Return the filename of a Content-Disposition header value, if any."""
    if not value:
        return None
    return _header_params(value, "content-disposition").get_filename()


def _wav_seconds(data: bytes) -> float:
    try:
        with wave.open(io.BytesIO(data), "rb") as reader:
            frames, rate = reader.getnframes(), reader.getframerate()
    except (wave.Error, EOFError) as exc:
        raise bad_request(f"The WAV file could not be read: {exc}.", field="file", rule="audio") from None
    if rate <= 0:
        raise bad_request("The WAV file has no sample rate.", field="file", rule="audio")
    return frames / rate


def _mp3_seconds(data: bytes) -> float | None:
    """Estimate an MP3's length from its first frame header (constant bitrate assumed)."""
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] << 21) | (data[7] << 14) | (data[8] << 7) | data[9]
        start = 10 + size
    for i in range(start, min(len(data) - 4, start + 65536)):
        if data[i] != 0xFF or data[i + 1] & 0xFE != 0xFA:  # MPEG-1 Layer III sync word
            continue
        bitrate_index, rate_index = data[i + 2] >> 4, (data[i + 2] >> 2) & 0x3
        if 0 < bitrate_index < 15 and rate_index < 3:
            return (len(data) - i) * 8 / (_MP3_BITRATES[bitrate_index] * 1000)
    return None


def measure_audio(mime: str, data: bytes, default_seconds: float) -> tuple[float, str]:
    """Return (seconds, how measured) for an audio upload; raise 400 outside 10-180 s."""
    seconds: float | None
    if mime == "audio/wav":
        seconds, source = _wav_seconds(data), "wav_header"
    elif mime == "audio/mpeg":
        seconds, source = _mp3_seconds(data), "mp3_frame_scan"
    else:
        seconds, source = None, ""
    if seconds is None:
        # The emulator cannot parse AAC/M4A (or a headerless MP3); it assumes a
        # plausible length rather than refuse what BeatAPI would accept.
        return default_seconds, "emulator_default"
    low, high = R.AUDIO_DURATION_RANGE
    if not low <= seconds <= high:
        raise bad_request(
            f"Audio must be {low}-{high} seconds long (got {seconds:.2f} s).", field="file", rule="audio_duration"
        )
    return seconds, source


def make_file(
    *, data: bytes, filename: str | None, mime_type: str | None, now: float, default_audio: float
) -> StoredFile:
    """Check an upload like BeatAPI does and return it as a stored file (or raise 400 / 413).

    The part's type is read through the shared table (``_mime.resolve``): aliases
    count as their canonical type and a generic label takes the file name's.
    """
    if not data:
        raise bad_request("file: the uploaded file is empty.", field="file", rule="must not be empty")
    mime = _mime.resolve(mime_type, filename)
    if mime is None:
        label = _mime.normalize(mime_type) or "no type"
        named = f" named {filename!r}" if filename else " without a file name"
        raise bad_request(
            f"file: {label}{named} is not accepted; upload one of: {_mime.ACCEPTED_KINDS}",
            field="file",
            rule="type",
        )
    if len(data) > R.MAX_UPLOAD_BYTES:
        raise ApiError(
            413,
            "bad_request",
            f"file: must be at most 50 MB (got {len(data)} bytes).",
            details={"field": "file", "rule": "size"},
        )
    stored = StoredFile(id=new_id("file_"), mime_type=mime, data=data, created_at=now)
    if mime in R.AUDIO_MIME_TYPES:
        stored.audio_duration, stored.audio_duration_source = measure_audio(mime, data, default_audio)
    return stored


def file_at(files: Mapping[str, StoredFile], path: str) -> StoredFile | None:
    """Return the upload served at ``path`` (``/inputs/file_x.wav``), if any."""
    prefix = "/inputs/"
    if not path.startswith(prefix):
        return None
    stored = files.get(path[len(prefix) :].rsplit(".", 1)[0])
    return stored if stored is not None and stored.path == path else None


def resolve_inputs(
    files: Mapping[str, StoredFile], base_url: str, body: Mapping[str, Any], kinds: Mapping[str, frozenset[str]]
) -> dict[str, StoredFile]:
    """Return the uploads that URL fields of ``body`` point at on the emulator's own origin.

    ``kinds`` maps each URL field to the MIME types it takes. A URL on the
    emulator's origin must be one of its uploads, of the right type; any other
    loopback URL is refused as BeatAPI refuses localhost.
    """
    own_origin = V.origin_of(base_url)
    own_host = urlsplit(base_url).hostname
    prefix = base_url + "/"
    found: dict[str, StoredFile] = {}
    for field, accepted in kinds.items():
        value = body.get(field)
        urls = value if isinstance(value, list) else [value] if value is not None else []
        for i, url in enumerate(urls):
            name = f"{field}[{i}]" if isinstance(value, list) else field
            parts = urlsplit(url)
            host = parts.hostname or ""
            if not url.startswith(prefix) and not (host == own_host and V.origin_of(url) == own_origin):
                # The validator trusts every origin a client in this process
                # uses; the emulator only vouches for its own.
                if _maybe_loopback(host) and V.is_loopback_host(host):
                    raise bad_request(
                        f"{name}: must be a public URL; localhost is not accepted", field=name, rule="public_url"
                    )
                continue
            stored = file_at(files, parts.path)
            if stored is None:
                raise bad_request(f"{name}: no uploaded file at {url}", field=name, rule="uploaded_file")
            if stored.mime_type not in accepted:
                raise bad_request(f"{name}: {stored.mime_type} is not accepted here", field=name, rule="type")
            found[field] = stored
    return found


def _maybe_loopback(host: str) -> bool:
    # A cheap pre-filter: only IP literals and localhost-like names can be
    # loopback, and parsing every public host name as an IP is slow.
    return host[:1].isdigit() or ":" in host or "localhost" in host or "loopback" in host
