"""Bad input (SDK.md "Bad input"): RequestValidationError naming the field, before any request."""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from aioresponses import aioresponses
from hypothesis import given, settings
from hypothesis import strategies as st

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, MusicVideoRequest, RequestValidationError
from beatapi_async import _validate as V
from beatapi_async._validate import check_idempotency_key, check_public_url, check_realtime_session, check_upload

from ._helpers import AUDIO, IMG, calls
from ._loopback import LoopbackBeatAPI


def mv(**changes: Any) -> MusicVideoRequest:
    fields: dict[str, Any] = {"images": [IMG], "audio_url": AUDIO}
    fields.update(changes)
    return MusicVideoRequest(**fields)


def ec(**changes: Any) -> EcommerceVideoRequest:
    fields: dict[str, Any] = {"images": [IMG], "duration": 15}
    fields.update(changes)
    return EcommerceVideoRequest(**fields)


def refused(field: str, make: Any, **changes: Any) -> RequestValidationError:
    with pytest.raises(RequestValidationError) as info:
        make(**changes)
    assert info.value.field.startswith(field), (info.value.field, field)
    assert field in str(info.value) and info.value.rule
    return info.value


# -- images and URLs ------------------------------------------------------------------------


@pytest.mark.parametrize("make", [mv, ec])
def test_image_count(make: Any) -> None:
    refused("images", make, images=[])
    refused("images", make, images=[IMG] * 8)
    assert len(make(images=[IMG] * 7).images) == 7
    make(images=(IMG,))  # a tuple is fine


@pytest.mark.parametrize("make", [mv, ec])
def test_lone_string_is_not_a_list(make: Any) -> None:
    e = refused("images", make, images=IMG)
    assert "single string" in e.rule or "list" in e.rule


BAD_URLS = [
    "http://media.example.com/a.png",
    "https://localhost/a.png",
    "https://localhost:8443/a.png",
    "https://app.localhost/a.png",
    "https://127.0.0.1/a.png",
    "https://127.0.0.2:9000/a.png",
    "https://10.1.2.3/a.png",
    "https://172.16.0.5/a.png",
    "https://192.168.1.20/a.png",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/a.png",
    "https://[fe80::1]/a.png",
    "https://[fc00::1]/a.png",
    "https://0.0.0.0/a.png",
    "https://localhost./a.png",
    "https://127.0.0.1./a.png",
    "https://127.1/a.png",
    "https://0x7f.0.0.1/a.png",
    "https://2130706433/a.png",
    "https://0xc0.0xa8.1.1/a.png",
    "https://[::ffff:127.0.0.1]/a.png",
    "https://100.64.0.1/a.png",
    "https://metadata.google.internal/a.png",
    "https://intranet/a.png",
    "https://printer.local/a.png",
    "data:image/png;base64,iVBORw0KGgo=",
    "DATA:image/png;base64,AAAA",
    "ftp://media.example.com/a.png",
    "//media.example.com/a.png",
    "media.example.com/a.png",
    "",
    "https://",
    "https://[oops/a.png",
    "https://media.example.com:99999/a.png",
    "https://media.example.com:0/a.png",
    "https://media.example.com:http/a.png",
    "https://media.example.com/my song.mp3",
    "https://media example.com/a.png",
    "https://media.example.com/a.png\n",
    "https://media.example.com/a<b>.png",
    "https://media.example.com/a\u00a0b.png",
]


@pytest.mark.parametrize("url", BAD_URLS)
def test_bad_urls(url: str) -> None:
    refused("images[0]", mv, images=[url])
    refused("audio_url", mv, audio_url=url)
    refused("lip_ref_url", mv, lip_ref_url=url)
    refused("images[1]", ec, images=[IMG, url])


@pytest.mark.parametrize(
    "url",
    [
        "https://media.beatapi.io/x.png",
        "https://8.8.8.8/x.png",
        "https://123.example.com/x.png",
        "https://face.be/x.png",
        "https://[2001:4860:4860::8888]/x.png",
        "HTTPS://Media.Example.com/A.PNG",
    ],
)
def test_public_urls_accepted(url: str) -> None:
    mv(images=[url], audio_url=url)


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("https://host.example.com:99999/x.png", "the port must be a whole number from 1 to 65535"),
        ("https://host.example.com/x y.png", "' ' is not allowed unencoded"),
        ("https://ho st.example.com/x.png", "' ' is not allowed unencoded"),
        ("https://host.example.com/x\ty.png", "'\\t' is not allowed unencoded"),
        ('https://host.example.com/x"y.png', "'\"' is not allowed unencoded"),
    ],
)
def test_url_syntax_rules_name_the_problem(url: str, rule: str) -> None:
    with pytest.raises(RequestValidationError) as info:
        mv(images=[url])
    assert info.value.field == "images[0]" and rule in info.value.rule


def test_url_syntax_also_guards_webhooks_and_base_url() -> None:
    with pytest.raises(RequestValidationError) as info:
        V.check_webhook_create({"url": "https://hooks.example.com:70000/in"})
    assert info.value.field == "url" and "port" in info.value.rule
    for base in ("https://api.example.com:99999", "https://api example.com", 5):
        with pytest.raises(RequestValidationError) as info:
            AsyncBeatAPI("sk_test_x", base_url=base)  # type: ignore[arg-type]
        assert info.value.field == "base_url"


def test_encoded_and_international_urls_are_accepted() -> None:
    mv(images=["https://media.example.com/my%20song.png", "https://bücher.example/x.png"])


def test_non_string_urls() -> None:
    refused("images[0]", mv, images=[None])
    refused("images[0]", mv, images=[42])
    refused("audio_url", mv, audio_url=42)


async def test_urls_on_the_clients_own_base_url_are_accepted(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    # What files.upload returned from a local emulator is usable as an input.
    own = f"{server.url}/files/file_1.png"
    await live.music_video.create(images=[own], audio_url=f"{server.url}/files/a.mp3", lip_ref_url=own)
    assert server.requests[-1].json["images"] == [own]
    # ...but not another loopback host, nor the same one over https.
    port = server.url.rsplit(":", 1)[1]
    for other in (f"http://127.0.0.2:{port}/a.png", f"https://127.0.0.1:{port}/a.png", f"http://localhost:{port}/a"):
        with pytest.raises(RequestValidationError, match="images"):
            await live.music_video.create(images=[other], audio_url=AUDIO)
    assert len(server.requests) == 1


def test_trusted_origins_argument() -> None:
    check_public_url("u", "http://127.0.0.1:5/x", trusted_origins=["http://127.0.0.1:5"])
    with pytest.raises(RequestValidationError):
        check_public_url("u", "http://127.0.0.1:6/x", trusted_origins=["http://127.0.0.1:5"])


# -- enums, lengths, ranges --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("language", "fr"),
        ("language", "EN"),
        ("quality", "ultra"),
        ("aspect_ratio", "21:9"),
        ("resolution", "4k"),
        ("resolution", 720),
        ("compose_mode", "semi"),
        ("lip_sync", "yes"),
        ("add_subtitle", 1),
    ],
)
def test_music_video_enums(field: str, bad: Any) -> None:
    refused(field, mv, **{field: bad})


@pytest.mark.parametrize(("field", "bad"), [("aspect_ratio", "4:3"), ("language", "de")])
def test_ecommerce_enums(field: str, bad: Any) -> None:
    refused(field, ec, **{field: bad})


def test_text_lengths() -> None:
    mv(prompt="p" * 3000, style="s" * 200)
    refused("prompt", mv, prompt="p" * 3001)
    refused("style", mv, style="s" * 201)
    refused("prompt", mv, prompt=123)
    ec(prompt="p" * 2000)
    refused("prompt", ec, prompt="p" * 2001)


def test_durations() -> None:
    mv(duration=10), mv(duration=180)
    refused("duration", mv, duration=9)
    refused("duration", mv, duration=181)
    mv(duration=30.0)  # an integer in JSON Schema, and BeatAPI takes it
    refused("duration", mv, duration=30.5)
    refused("duration", mv, duration=True)
    ec(duration=10), ec(duration=60)
    refused("duration", ec, duration=9)
    refused("duration", ec, duration=61)
    refused("duration", ec, duration="15")


def test_540p_rules() -> None:
    mv(resolution="540p", quality="standard", lip_sync=False)
    mv(resolution="720p", quality="high", lip_sync=True)
    refused("quality", mv, resolution="540p", quality="high")
    refused("lip_sync", mv, resolution="540p", lip_sync=True)


@pytest.mark.parametrize("colour", ["#FFF", "FFFFFF", "#GGGGGG", "#FFFFFFF", "white", "#12345", 0xFFFFFF])
def test_subtitle_colour(colour: Any) -> None:
    refused("subtitle_color", mv, subtitle_color=colour)


def test_subtitle_colour_ok() -> None:
    mv(subtitle_color="#FFFFFF"), mv(subtitle_color="#a1B2c3")


def test_srt_url() -> None:
    mv(srt_url="https://media.beatapi.io/subs/lyrics.srt")
    mv(srt_url="https://media.beatapi.io/subs/LYRICS.SRT?sig=abc")
    refused("srt_url", mv, srt_url="https://media.beatapi.io/subs/lyrics.txt")
    refused("srt_url", mv, srt_url="https://media.beatapi.io/subs/lyrics.txt?x=.srt")
    refused("srt_url", mv, srt_url="http://media.beatapi.io/lyrics.srt")


def test_required_fields() -> None:
    with pytest.raises(TypeError):
        MusicVideoRequest(images=[IMG])  # type: ignore[call-arg]
    refused("audio_url", mv, audio_url=None)
    refused("images", mv, images=None)
    refused("duration", ec, duration=None)


# -- realtime, usage, uploads, idempotency keys -------------------------------------------------


def rt(**changes: Any) -> None:
    body: dict[str, Any] = {"max_duration_seconds": 60, "allowed_origins": ["https://app.example.com"]}
    body.update(changes)
    check_realtime_session(body)


def test_realtime_rules() -> None:
    rt(), rt(max_duration_seconds=15), rt(max_duration_seconds=300)
    rt(allowed_origins=[f"https://app{i}.example.com" for i in range(10)])
    rt(allowed_origins=["http://localhost:3000", "https://app.example.com:8443"])
    for bad in (14, 61, 0, 299, "60", True):
        refused("max_duration_seconds", rt, max_duration_seconds=bad)
    refused("allowed_origins", rt, allowed_origins=[])
    refused("allowed_origins", rt, allowed_origins=[f"https://a{i}.example.com" for i in range(11)])
    refused("allowed_origins", rt, allowed_origins="https://app.example.com")
    for bad in (
        "https://app.example.com/path",
        "https://app.example.com/",
        "https://app.example.com?x=1",
        "https://app.example.com#f",
        "http://app.example.com",
        "app.example.com",
        "https://u@a.example.com",
        "https://a.example.com:99999",
        5,
    ):
        refused("allowed_origins[0]", rt, allowed_origins=[bad])


def test_realtime_metadata_limits() -> None:
    rt(metadata={f"k{i}": "v" * 256 for i in range(20)})
    rt(metadata={"k" * 64: "v"})
    refused("metadata", rt, metadata={f"k{i}": "v" for i in range(21)})
    refused("metadata", rt, metadata={"k" * 65: "v"})
    refused("metadata", rt, metadata={"k": "v" * 257})
    refused("metadata", rt, metadata={"k": 5})
    refused("metadata", rt, metadata=["k"])


async def test_realtime_rules_before_sending(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    for kwargs in (
        {"max_duration_seconds": 14, "allowed_origins": ["https://a.example.com"]},
        {"max_duration_seconds": 60, "allowed_origins": []},
        {"max_duration_seconds": 60, "allowed_origins": ["https://a.example.com/app"]},
        {"max_duration_seconds": 60, "allowed_origins": ["https://a.example.com"], "metadata": {"k": "v" * 300}},
    ):
        with pytest.raises(RequestValidationError):
            await client.realtime.create_session(**kwargs)
    assert calls(mocked) == []


def test_upload_rules() -> None:
    assert check_upload(filename="a.wav", mime_type=None, size=1) == "audio/wav"
    assert check_upload(filename="a.srt", mime_type=None, size=1) == "application/x-subrip"
    assert check_upload(filename="a.MP3", mime_type=None, size=1) == "audio/mpeg"
    assert check_upload(filename=None, mime_type="image/jpg", size=1) == "image/jpeg"
    assert check_upload(filename=None, mime_type="audio/x-wav; charset=binary", size=1) == "audio/wav"
    # A generic label takes the type of the file name (as BeatAPI reads Node/curl uploads).
    assert check_upload(filename="a.wav", mime_type="application/octet-stream", size=1) == "audio/wav"
    refused("filename", check_upload, filename="a.pdf", mime_type="application/octet-stream", size=1)
    for name in ("a.pdf", "a.mp4", "a.zip", "a.txt", ".mp3"):
        refused("filename", check_upload, filename=name, mime_type=None, size=1)
    for mime in ("application/octet-stream", "application/pdf", "text/plain", "video/mp4"):
        refused("mime_type", check_upload, filename=None, mime_type=mime, size=1)
    refused("filename", check_upload, filename=None, mime_type=None, size=1)
    refused("file", check_upload, filename="a.mp3", mime_type=None, size=0)
    refused("file", check_upload, filename="a.mp3", mime_type=None, size=50 * 1024 * 1024 + 1)


def test_idempotency_key_rules() -> None:
    check_idempotency_key("k" * 128)
    for bad in ("k" * 129, "", "héllo", "a\nb", 5):
        refused("idempotency_key", check_idempotency_key, value=bad)


async def test_invalid_unicode_is_refused_before_sending(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    with pytest.raises(RequestValidationError, match="prompt") as info:
        await client.music_video.create(images=[IMG], audio_url=AUDIO, prompt="lone \ud800 surrogate")
    assert info.value.field == "prompt"
    with pytest.raises(RequestValidationError, match="task_id"):
        await client.tasks.get("task_\ud800")
    assert calls(mocked) == []


# -- nothing is sent -----------------------------------------------------------------------------


async def test_bad_creates_send_nothing(client: AsyncBeatAPI, mocked: aioresponses) -> None:
    cases: list[dict[str, Any]] = [
        {"images": [], "audio_url": AUDIO},
        {"images": [IMG] * 8, "audio_url": AUDIO},
        {"images": IMG, "audio_url": AUDIO},
        {"images": ["https://10.0.0.1/a.png"], "audio_url": AUDIO},
        {"images": [IMG], "audio_url": "data:audio/mpeg;base64,AAAA"},
        {"images": [IMG], "audio_url": AUDIO, "duration": 9},
        {"images": [IMG], "audio_url": AUDIO, "resolution": "540p", "lip_sync": True},
        {"images": [IMG], "audio_url": AUDIO, "subtitle_color": "#FFF"},
        {"images": ["https://media.example.com:99999/a.png"], "audio_url": AUDIO},
        {"images": [IMG], "audio_url": "https://media.example.com/my song.mp3"},
    ]
    for fields in cases:
        with pytest.raises(RequestValidationError):
            await client.music_video.create(**fields)
    with pytest.raises(RequestValidationError):
        await client.ecommerce_video.create(images=[IMG], duration=61)
    assert calls(mocked) == []


# -- property: construct or RequestValidationError, nothing else ------------------------------------

_anything = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.lists(st.text(max_size=30), max_size=9),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=3),
    st.sampled_from(
        [
            "en",
            "zh",
            "540p",
            "720p",
            "1080p",
            "high",
            "standard",
            "manual",
            "auto",
            "1:1",
            "9:16",
            "#FFFFFF",
            "https://x.example.com/a.srt",
            "https://[::1]/a",
            "https://%",
            "https://a:b@/",
            "https://[",
            "https://a:99999/",
            "http://127.0.0.1:1/x",
            "data:,",
            "https://xn--/a",
        ]
    ),
)
_urls = st.one_of(
    st.text(max_size=30), st.from_regex(r"https?://[a-z0-9.\[\]:%@-]{0,20}(/[a-z.]{0,8})?", fullmatch=True)
)


@settings(max_examples=80, deadline=None)
@given(
    images=st.one_of(_anything, st.lists(_urls, max_size=8)),
    audio_url=st.one_of(_anything, _urls),
    extra=st.dictionaries(
        st.sampled_from(
            [
                "prompt",
                "language",
                "lip_sync",
                "lip_ref_url",
                "style",
                "quality",
                "aspect_ratio",
                "resolution",
                "add_subtitle",
                "subtitle_color",
                "srt_url",
                "duration",
                "compose_mode",
            ]
        ),
        _anything,
        max_size=6,
    ),
)
def test_music_video_request_property(images: Any, audio_url: Any, extra: dict[str, Any]) -> None:
    with contextlib.suppress(RequestValidationError):
        MusicVideoRequest(images=images, audio_url=audio_url, **extra)


@settings(max_examples=50, deadline=None)
@given(
    images=st.one_of(_anything, st.lists(_urls, max_size=8)),
    duration=_anything,
    extra=st.dictionaries(st.sampled_from(["prompt", "aspect_ratio", "language"]), _anything, max_size=3),
)
def test_ecommerce_request_property(images: Any, duration: Any, extra: dict[str, Any]) -> None:
    with contextlib.suppress(RequestValidationError):
        EcommerceVideoRequest(images=images, duration=duration, **extra)


_checks = {
    "realtime": (check_realtime_session, ["max_duration_seconds", "allowed_origins", "metadata"]),
    "webhook_create": (V.check_webhook_create, ["url", "events", "description"]),
    "webhook_update": (V.check_webhook_update, ["url", "events", "description", "status"]),
    "shot_edit": (V.check_shot_edit, ["prompt", "duration", "quality", "resolution"]),
    "compose": (V.check_compose, ["shot_ids"]),
}


@settings(max_examples=80, deadline=None)
@given(
    which=st.sampled_from(sorted(_checks)),
    values=st.lists(st.one_of(_anything, _urls, st.lists(_urls, max_size=11)), min_size=4, max_size=4),
    other=_anything,
)
def test_other_checks_property(which: str, values: list[Any], other: Any) -> None:
    check, names = _checks[which]
    with contextlib.suppress(RequestValidationError):
        check(dict(zip(names, values, strict=False)))
    for fn, kwargs in (
        (
            check_upload,
            {
                "filename": other if isinstance(other, str) else None,
                "mime_type": values[0] if isinstance(values[0], str) else None,
                "size": values[1] if isinstance(values[1], int) else None,
            },
        ),
        (V.path_id, {"field": "task_id", "value": other}),
        (check_idempotency_key, {"value": other}),
        (V.check_usage_period, {"period": other}),
    ):
        with contextlib.suppress(RequestValidationError):
            fn(**kwargs)


@given(st.text(min_size=1))
def test_path_id_is_quote_for_every_id(value: str) -> None:
    """The fast path for plain ids gives exactly what percent-encoding gives."""
    from urllib.parse import quote

    try:
        expected: str | None = quote(value, safe="") if value.strip() and value not in (".", "..") else None
    except UnicodeEncodeError:
        expected = None
    if expected is None:
        with pytest.raises(RequestValidationError, match="task_id"):
            V.path_id("task_id", value)
    else:
        assert V.path_id("task_id", value) == expected


@pytest.mark.parametrize("value", [".", ".."])
def test_path_id_refuses_dot_segments(value: str) -> None:
    with pytest.raises(RequestValidationError, match=r"task_id.*'\.' or '\.\.'"):
        V.path_id("task_id", value)
