"""The create requests: ``MusicVideoRequest`` and ``EcommerceVideoRequest``, validated on construction.

Declared apart from ``_models`` (and reached through it) so that ``import beatapi_async``
does not build them; see ``_models``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import attrs

from . import _validate

if TYPE_CHECKING:
    from ._params import ComposeMode, EcommerceAspectRatio, Language, MusicVideoAspectRatio, Quality, Resolution


def _seq(value: Any) -> Any:
    # Lists become tuples (the request is frozen); anything else is left for the
    # validator to name (a lone string must not turn into a tuple of characters).
    return tuple(value) if isinstance(value, list) else value


def _body(request: Any) -> dict[str, Any]:
    return {
        a.name: list(v) if isinstance(v, tuple) else v
        for a in attrs.fields(type(request))
        if (v := getattr(request, a.name)) is not None
    }


@attrs.frozen(kw_only=True)
class MusicVideoRequest:
    """A Music Video create: every field of ``POST /v1/music-video/tasks``. Validates on construction."""

    workflow: ClassVar[str] = "music-video"

    images: tuple[str, ...] = attrs.field(converter=_seq)
    audio_url: str
    prompt: str | None = None
    language: Language | None = None
    lip_sync: bool | None = None
    lip_ref_url: str | None = None
    style: str | None = None
    quality: Quality | None = None
    aspect_ratio: MusicVideoAspectRatio | None = None
    resolution: Resolution | None = None
    add_subtitle: bool | None = None
    subtitle_color: str | None = None
    srt_url: str | None = None
    duration: int | None = None
    compose_mode: ComposeMode | None = None

    def __attrs_post_init__(self) -> None:
        _validate.check_music_video(_body(self))


@attrs.frozen(kw_only=True)
class EcommerceVideoRequest:
    """An Ecommerce Video create: every field of ``POST /v1/ecommerce-video/tasks``."""

    workflow: ClassVar[str] = "ecommerce-video"

    images: tuple[str, ...] = attrs.field(converter=_seq)
    duration: int
    prompt: str | None = None
    aspect_ratio: EcommerceAspectRatio | None = None
    language: Language | None = None

    def __attrs_post_init__(self) -> None:
        _validate.check_ecommerce_video(_body(self))


TaskRequest = MusicVideoRequest | EcommerceVideoRequest


def request_body(request: TaskRequest) -> dict[str, Any]:
    """Return the JSON body of a create request: only the fields that were set."""
    return _body(request)
