"""Client-side input rules: each check raises ``RequestValidationError(field, rule)``.

The same functions guard the client (before anything is sent) and the emulator
(which answers 400 with the rule), so both sides agree on one reading of the
contract. Facts (limits, enums, the MIME table) come from ``_rules``.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Collection, Mapping
from typing import Any
from urllib.parse import SplitResult, quote, urlsplit

from . import _mime
from . import _rules as R
from ._exceptions import RequestValidationError

_COLOUR = re.compile(R.SUBTITLE_COLOR_PATTERN)
_NUMERIC_HOST = re.compile(r"(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}")
_LOCAL_NAMES = ("localhost", "localhost.localdomain", "ip6-localhost", "ip6-loopback")
# Characters RFC 3986 never allows unencoded in a URL; servers and proxies read them differently.
_UNSAFE_URL_CHARS = frozenset('<>"{}|\\^`')

# Origins (scheme://host:port) of the base URLs of clients in this process: URLs on
# them are accepted as inputs although they may be loopback (a local emulator's
# uploads). Filled by ``trust_origin``.
_trusted: set[str] = set()


def trust_origin(url: str) -> None:
    """Accept input URLs on the origin of ``url`` (a client's own base URL)."""
    origin = origin_of(url)
    if origin:
        _trusted.add(origin)


def origin_of(url: str) -> str:
    """Return ``scheme://host[:port]`` of ``url`` in lower case, or "" if it has none."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return ""
    if not parts.scheme or not parts.hostname:
        return ""
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    netloc = parts.hostname.lower()
    if ":" in netloc:
        netloc = f"[{netloc}]"
    if port is not None and port != default:
        netloc = f"{netloc}:{port}"
    return f"{parts.scheme.lower()}://{netloc}"


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Legacy IPv4 spellings that resolvers still accept: 127.1, 0x7f.0.0.1, 017700000001.
    if _NUMERIC_HOST.fullmatch(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def is_loopback_host(host: str) -> bool:
    """Return True for ``localhost`` and loopback IP literals."""
    host = host.strip("[]").lower().rstrip(".")  # "localhost." is localhost
    if host in _LOCAL_NAMES or host.endswith(".localhost"):
        return True
    ip = _ip(host)
    return ip is not None and ip.is_loopback


def _is_private_host(host: str) -> bool:
    host = host.strip("[]").lower().rstrip(".")
    if is_loopback_host(host) or host.endswith((".local", ".internal")) or ("." not in host and ":" not in host):
        return True
    ip = _ip(host)
    if ip is None:
        return False
    return not ip.is_global or ip.is_multicast


def _fail(field: str, rule: str) -> RequestValidationError:
    return RequestValidationError(field, rule)


def check_url_syntax(field: str, value: Any) -> SplitResult:
    """Split a URL, refusing what servers would read differently or not at all.

    Spaces, control characters and RFC 3986's unsafe characters must be
    percent-encoded (``%20``); a port must be 1-65535.
    """
    if not isinstance(value, str) or not value.strip():
        raise _fail(field, "must be a URL string")
    bad = next((c for c in value if c.isspace() or not c.isprintable() or c in _UNSAFE_URL_CHARS), None)
    if bad is not None:
        raise _fail(field, f"must be a valid URL: {bad!r} is not allowed unencoded (percent-encode it, e.g. %20)")
    try:
        parts = urlsplit(value)
    except ValueError:
        raise _fail(field, "must be a valid URL") from None
    try:
        port = parts.port
    except ValueError:  # out of range, or not a number
        port = 0
    if port == 0:
        raise _fail(field, "must be a valid URL: the port must be a whole number from 1 to 65535")
    return parts


def check_public_url(field: str, value: Any, *, trusted_origins: Collection[str] = ()) -> None:
    """Require a public HTTPS URL (or one on a trusted origin)."""
    if not isinstance(value, str) or not value.strip():
        raise _fail(field, "must be a public HTTPS URL string")
    if value.lower().startswith("data:"):
        raise _fail(field, "must be a public HTTPS URL; data: URLs are not accepted (upload the file first)")
    parts = check_url_syntax(field, value)
    origin = origin_of(value)
    if origin and (origin in _trusted or origin in {origin_of(o) for o in trusted_origins}):
        return
    if parts.scheme.lower() != "https":
        raise _fail(field, "must be an https:// URL")
    host = parts.hostname or ""
    if not host:
        raise _fail(field, "must be an absolute https:// URL with a host")
    if _is_private_host(host):
        raise _fail(field, "must be a public URL; localhost and private network addresses are not accepted")


def _check_str(field: str, value: Any, max_len: int, *, required: bool = False) -> None:
    if not isinstance(value, str):
        raise _fail(field, "must be a string")
    if required and not value.strip():
        raise _fail(field, "must not be empty")
    if len(value) > max_len:
        raise _fail(field, f"must be at most {max_len} characters (got {len(value)})")


def _check_enum(field: str, value: Any, allowed: Collection[Any]) -> None:
    if value not in allowed or isinstance(value, bool):
        choices = ", ".join(repr(a) for a in allowed)
        raise _fail(field, f"must be one of {choices} (got {value!r})")


def _check_int(field: str, value: Any, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON Schema's integer: 18.0 is 18, as BeatAPI reads it
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(field, f"must be a whole number from {low} to {high}")
    if not low <= value <= high:
        raise _fail(field, f"must be from {low} to {high} (got {value})")


def _check_bool(field: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise _fail(field, "must be true or false")


def _check_list(field: str, value: Any, low: int, high: int | None) -> list[Any]:
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise _fail(field, "must be a list")
    if len(value) < low or (high is not None and len(value) > high):
        span = f"{low}-{high}" if high is not None else f"at least {low}"
        raise _fail(field, f"must contain {span} items (got {len(value)})")
    return list(value)


def _check_images(value: Any, trusted: Collection[str]) -> None:
    if isinstance(value, str):
        raise _fail("images", "must be a list of 1-7 URLs, not a single string")
    for i, url in enumerate(_check_list("images", value, R.IMAGES_MIN, R.IMAGES_MAX)):
        check_public_url(f"images[{i}]", url, trusted_origins=trusted)


def _present(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in fields.items() if v is not None}


def _require(fields: Mapping[str, Any], *names: str) -> None:
    for name in names:
        if fields.get(name) is None:
            raise _fail(name, "is required")


def _check_unknown(fields: Mapping[str, Any], known: Collection[str]) -> None:
    for name in fields:
        if name not in known:
            raise _fail(name, "is not a field of this request")


MUSIC_VIDEO_FIELDS = (
    "images", "audio_url", "prompt", "language", "lip_sync", "lip_ref_url", "style", "quality",
    "aspect_ratio", "resolution", "add_subtitle", "subtitle_color", "srt_url", "duration", "compose_mode",
)  # fmt: skip
ECOMMERCE_VIDEO_FIELDS = ("images", "duration", "prompt", "aspect_ratio", "language")


def check_music_video(fields: Mapping[str, Any], *, trusted_origins: Collection[str] = ()) -> None:
    """Check a Music Video create body (contract: POST /v1/music-video/tasks)."""
    f = _present(fields)
    _require(f, "images", "audio_url")
    _check_images(f["images"], trusted_origins)
    check_public_url("audio_url", f["audio_url"], trusted_origins=trusted_origins)
    if "prompt" in f:
        _check_str("prompt", f["prompt"], R.MV_PROMPT_MAX)
    if "style" in f:
        _check_str("style", f["style"], R.MV_STYLE_MAX)
    for name, allowed in (
        ("language", R.LANGUAGES),
        ("quality", R.QUALITIES),
        ("aspect_ratio", R.MV_ASPECT_RATIOS),
        ("resolution", R.RESOLUTIONS),
        ("compose_mode", R.COMPOSE_MODES),
    ):
        if name in f:
            _check_enum(name, f[name], allowed)
    for name in ("lip_sync", "add_subtitle"):
        if name in f:
            _check_bool(name, f[name])
    if "lip_ref_url" in f:
        check_public_url("lip_ref_url", f["lip_ref_url"], trusted_origins=trusted_origins)
    if "srt_url" in f:
        check_public_url("srt_url", f["srt_url"], trusted_origins=trusted_origins)
        if not urlsplit(f["srt_url"]).path.lower().endswith(".srt"):
            raise _fail("srt_url", "must point to an .srt subtitle file")
    if "subtitle_color" in f and (
        not isinstance(f["subtitle_color"], str) or not _COLOUR.fullmatch(f["subtitle_color"])
    ):
        raise _fail("subtitle_color", "must be a hex colour like '#FFFFFF'")
    if "duration" in f:
        _check_int("duration", f["duration"], R.MV_DURATION_RANGE)
    if f.get("resolution") == "540p":
        if f.get("quality") == "high":
            raise _fail("quality", "'high' is not supported with resolution '540p'")
        if f.get("lip_sync") is True:
            raise _fail("lip_sync", "lip_sync is not supported with resolution '540p'")


def check_ecommerce_video(fields: Mapping[str, Any], *, trusted_origins: Collection[str] = ()) -> None:
    """Check an Ecommerce Video create body (contract: POST /v1/ecommerce-video/tasks)."""
    f = _present(fields)
    _require(f, "images", "duration")
    _check_images(f["images"], trusted_origins)
    _check_int("duration", f["duration"], R.EC_DURATION_RANGE)
    if "prompt" in f:
        _check_str("prompt", f["prompt"], R.EC_PROMPT_MAX)
    if "aspect_ratio" in f:
        _check_enum("aspect_ratio", f["aspect_ratio"], R.EC_ASPECT_RATIOS)
    if "language" in f:
        _check_enum("language", f["language"], R.LANGUAGES)


def check_shot_edit(fields: Mapping[str, Any]) -> None:
    """Check a shot edit body (contract: POST .../shots/{shot_id}/edit)."""
    f = _present(fields)
    _require(f, "prompt")
    _check_str("prompt", f["prompt"], R.EDIT_PROMPT_MAX, required=True)
    if "duration" in f:
        _check_int("duration", f["duration"], R.EDIT_DURATION_RANGE)
    if "quality" in f:
        _check_enum("quality", f["quality"], R.QUALITIES)
    if "resolution" in f:
        _check_enum("resolution", f["resolution"], R.RESOLUTIONS)
    if f.get("resolution") == "540p" and f.get("quality") == "high":
        raise _fail("quality", "'high' is not supported with resolution '540p'")


def check_compose(fields: Mapping[str, Any]) -> None:
    """Check a compose body (contract: POST .../compose)."""
    f = _present(fields)
    _require(f, "shot_ids")
    for i, shot_id in enumerate(_check_list("shot_ids", f["shot_ids"], 1, None)):
        if not isinstance(shot_id, str) or not shot_id:
            raise _fail(f"shot_ids[{i}]", "must be a non-empty shot id string")


def _check_webhook_url(value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise _fail("url", "must be an https:// URL string")
    parts = check_url_syntax("url", value)
    host = parts.hostname or ""
    if not host:
        raise _fail("url", "must be an absolute URL with a host")
    # Loopback http:// is allowed so deliveries can reach a local receiver in tests.
    if parts.scheme.lower() != "https" and not (parts.scheme.lower() == "http" and is_loopback_host(host)):
        raise _fail("url", "must be an https:// URL (http:// only for localhost)")


def _check_events(value: Any) -> None:
    for i, event in enumerate(_check_list("events", value, 1, None)):
        _check_enum(f"events[{i}]", event, R.WEBHOOK_EVENTS)


def check_webhook_create(fields: Mapping[str, Any]) -> None:
    """Check a webhook endpoint create body."""
    f = _present(fields)
    _require(f, "url")
    _check_webhook_url(f["url"])
    if "events" in f:
        _check_events(f["events"])
    if "description" in f:
        _check_str("description", f["description"], 1000)


def check_webhook_update(fields: Mapping[str, Any]) -> None:
    """Check a webhook endpoint update body (only what changes)."""
    f = _present(fields)
    if not f:
        raise _fail("update", "give at least one of url, description, events, status")
    if "url" in f:
        _check_webhook_url(f["url"])
    if "events" in f:
        _check_events(f["events"])
    if "description" in f:
        _check_str("description", f["description"], 1000)
    if "status" in f:
        _check_enum("status", f["status"], R.WEBHOOK_STATUSES)


def _check_origin(field: str, value: Any) -> None:
    if not isinstance(value, str):
        raise _fail(field, "must be an origin string like 'https://app.example.com'")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise _fail(field, "must be a valid origin") from None
    scheme, host = parts.scheme.lower(), parts.hostname or ""
    if "*" in value:
        # NOTES "Realtime sessions": 1-10 *exact* origins; BeatAPI matches them literally.
        raise _fail(field, "must be an exact origin; wildcards such as 'https://*.example.com' are not accepted")
    if not host or parts.path not in ("",) or parts.query or parts.fragment or parts.username:
        raise _fail(field, "must be an exact origin: scheme://host[:port], with no path, query or fragment")
    if scheme != "https" and not (scheme == "http" and is_loopback_host(host)):
        raise _fail(field, "must use https:// (http:// only for localhost)")


def check_realtime_session(fields: Mapping[str, Any]) -> None:
    """Check a realtime session create body."""
    f = _present(fields)
    _require(f, "max_duration_seconds", "allowed_origins")
    _check_enum("max_duration_seconds", f["max_duration_seconds"], R.REALTIME_DURATIONS)
    low, high = R.REALTIME_ORIGINS_RANGE
    for i, origin in enumerate(_check_list("allowed_origins", f["allowed_origins"], low, high)):
        _check_origin(f"allowed_origins[{i}]", origin)
    if "metadata" in f:
        meta = f["metadata"]
        if not isinstance(meta, Mapping):
            raise _fail("metadata", "must be a mapping of strings to strings")
        if len(meta) > R.REALTIME_METADATA_MAX_KEYS:
            raise _fail("metadata", f"must have at most {R.REALTIME_METADATA_MAX_KEYS} keys")
        for key, value in meta.items():
            if not isinstance(key, str) or len(key) > R.REALTIME_METADATA_KEY_MAX:
                raise _fail("metadata", f"keys must be strings of at most {R.REALTIME_METADATA_KEY_MAX} characters")
            if not isinstance(value, str) or len(value) > R.REALTIME_METADATA_VALUE_MAX:
                raise _fail(
                    f"metadata[{key!r}]", f"must be a string of at most {R.REALTIME_METADATA_VALUE_MAX} characters"
                )


def check_usage_period(period: Any) -> None:
    """Check the ``period`` of ``GET /v1/usage``."""
    _check_enum("period", period, R.USAGE_PERIODS)


def check_idempotency_key(value: Any) -> None:
    """Check an ``Idempotency-Key`` (1-128 visible ASCII characters)."""
    if not isinstance(value, str) or not value or len(value) > R.IDEMPOTENCY_KEY_MAX:
        raise _fail("idempotency_key", f"must be a string of 1-{R.IDEMPOTENCY_KEY_MAX} characters")
    if not value.isascii() or not value.isprintable():
        raise _fail("idempotency_key", "must be printable ASCII")


def check_upload(*, filename: str | None, mime_type: str | None, size: int | None) -> str:
    """Check an upload and return the MIME type to send (BeatAPI's canonical spelling).

    ``mime_type`` is read as BeatAPI reads a part's label (``_mime.resolve``):
    aliases count as their canonical type, and a generic label
    (``application/octet-stream``) or none takes the type of ``filename``.
    """
    if filename is not None and not isinstance(filename, str):
        raise _fail("filename", "must be a string such as 'song.mp3'")
    if mime_type is not None and not isinstance(mime_type, str):
        raise _fail("mime_type", "must be a string such as 'audio/mpeg'")
    kinds = _mime.ACCEPTED_KINDS
    resolved = _mime.resolve(mime_type, filename)
    if resolved is None:
        if _mime.normalize(mime_type) not in _mime.GENERIC_MIME_TYPES:
            raise _fail("mime_type", f"{mime_type!r} is not accepted; upload one of: {kinds}")
        if mime_type and not filename:
            raise _fail("mime_type", f"{mime_type!r} names no type: give filename= with one of: {kinds}")
        if filename:
            raise _fail("filename", f"type of {filename!r} is not accepted; upload one of: {kinds}")
        raise _fail("filename", "bytes and streams need filename= (or mime_type=) to tell the file type")
    if size is not None:
        if size <= 0:
            raise _fail("file", "must not be empty")
        if size > R.MAX_UPLOAD_BYTES:
            raise _fail("file", f"must be at most 50 MB (got {size} bytes)")
    return resolved


_PLAIN_ID = re.compile(r"[A-Za-z0-9_.~-]+")  # what ``quote`` leaves as it is (BeatAPI's ids are such)
_DOTS = frozenset({".", ".."})


def path_id(field: str, value: Any) -> str:
    """Return an id percent-encoded for a URL path; an empty id is an error."""
    if type(value) is str and _PLAIN_ID.fullmatch(value) and value not in _DOTS:
        return value
    if not isinstance(value, str) or not value.strip():
        raise _fail(field, "must be a non-empty id string")
    if value in _DOTS:  # a URL would read it as "this/parent directory" and call another path
        raise _fail(field, "must be an id, not '.' or '..'")
    try:
        return quote(value, safe="")
    except UnicodeEncodeError:
        raise _fail(field, "must be valid Unicode text") from None
