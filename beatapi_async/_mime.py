"""The one table of upload types BeatAPI takes, and how a part's label maps onto it.

Contract: POST /v1/files; NOTES "Files". BeatAPI stores each upload under one
canonical type (``audio/wav``, ``application/x-subrip``, ...). Clients label
parts with what their platform picks: Python's ``mimetypes`` says
``audio/x-wav`` and ``text/plain``, Node's FormData and ``curl -F`` say
``application/octet-stream`` with the file's name. BeatAPI reads those as:

- a canonical type is itself;
- an alias (``audio/x-wav``, ``image/jpg``, ...) is its canonical type;
  ``text/plain`` is ``application/x-subrip`` only for a ``.srt`` file name;
- a generic label (``application/octet-stream``, or none) takes the type of an
  accepted file name extension;
- anything else, and a generic label without an accepted name, is refused.

The client (``_validate.check_upload``) and the emulator (``testing``) both
resolve through ``resolve`` so they cannot disagree. The SDK always sends the
canonical type it resolved.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

# Extension -> canonical type (the first extension of a type is the one BeatAPI gives it).
MIME_BY_EXTENSION: Final[Mapping[str, str]] = MappingProxyType(
    {
        ".png": "image/png",
        ".jpg": "image/jpeg",
        ".jpeg": "image/jpeg",
        ".webp": "image/webp",
        ".mp3": "audio/mpeg",
        ".wav": "audio/wav",
        ".aac": "audio/aac",
        ".m4a": "audio/mp4",
        ".srt": "application/x-subrip",
    }
)
ACCEPTED_MIME_TYPES: Final = frozenset(MIME_BY_EXTENSION.values())
AUDIO_MIME_TYPES: Final = frozenset(m for m in ACCEPTED_MIME_TYPES if m.startswith("audio/"))
IMAGE_MIME_TYPES: Final = frozenset(m for m in ACCEPTED_MIME_TYPES if m.startswith("image/"))
SUBTITLE_MIME_TYPES: Final = frozenset({"application/x-subrip"})
EXTENSION_BY_MIME: Final[Mapping[str, str]] = MappingProxyType(
    {mime: ext for ext, mime in reversed(list(MIME_BY_EXTENSION.items()))}
)

# Other spellings of an accepted type, as platforms and libraries write them.
MIME_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "audio/x-wav": "audio/wav",
        "audio/wave": "audio/wav",
        "audio/vnd.wave": "audio/wav",
        "audio/mp3": "audio/mpeg",
        "audio/x-m4a": "audio/mp4",
        "audio/m4a": "audio/mp4",
        "image/jpg": "image/jpeg",
        "application/srt": "application/x-subrip",
    }
)
# Labels that say nothing about the content: the file name decides.
GENERIC_MIME_TYPES: Final = frozenset({"application/octet-stream", "binary/octet-stream", ""})
# Accepted only with a file name of this extension (Python's mimetypes labels .srt text/plain).
_BY_NAME_ONLY: Final[Mapping[str, tuple[str, str]]] = MappingProxyType({"text/plain": (".srt", "application/x-subrip")})

ACCEPTED_KINDS: Final = ", ".join(e.lstrip(".") for e in MIME_BY_EXTENSION)


def extension(filename: str | None) -> str:
    """Return the lower-case extension of ``filename`` (``.wav``), or "" (``.mp3`` alone has none)."""
    if not filename:
        return ""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    dot = name.rfind(".")
    return name[dot:].lower() if dot > 0 else ""


def normalize(label: str | None) -> str:
    """Return a Content-Type without parameters, in lower case ("" for none)."""
    return (label or "").split(";", 1)[0].strip().lower()


def resolve(label: str | None, filename: str | None) -> str | None:
    """Return the canonical type of a part labelled ``label`` named ``filename``, or None if refused."""
    mime = normalize(label)
    if mime in ACCEPTED_MIME_TYPES:
        return mime
    if mime in MIME_ALIASES:
        return MIME_ALIASES[mime]
    if mime in _BY_NAME_ONLY:
        ext, canonical = _BY_NAME_ONLY[mime]
        return canonical if extension(filename) == ext else None
    if mime in GENERIC_MIME_TYPES:
        return MIME_BY_EXTENSION.get(extension(filename))
    return None
