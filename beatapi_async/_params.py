"""The types of request fields: ``Literal`` for fixed values, ``TypedDict`` for keyword fields.

Type checkers use these (``language="fr"`` or ``imagez=`` is an error before the code
runs); at run time the same values are checked by ``_validate`` from ``_rules``, and a
test pins that both list the same values.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, TypedDict

from ._options import BodyOptions

Language = Literal["en", "zh"]
Quality = Literal["standard", "high"]
Resolution = Literal["540p", "720p", "1080p"]
MusicVideoAspectRatio = Literal["1:1", "16:9", "9:16", "4:3", "3:4"]
EcommerceAspectRatio = Literal["16:9", "9:16", "1:1"]
ComposeMode = Literal["auto", "manual"]
WebhookEventType = Literal["task.succeeded", "task.failed"]
WebhookStatus = Literal["active", "disabled"]
UsagePeriod = Literal["24h", "7d", "30d", "all"]
RealtimeDuration = Literal[15, 60, 300]


class MusicVideoFields(TypedDict, total=False):
    """The fields of a Music Video create (``images`` and ``audio_url`` are required)."""

    images: Sequence[str]
    audio_url: str
    prompt: str | None
    language: Language | None
    lip_sync: bool | None
    lip_ref_url: str | None
    style: str | None
    quality: Quality | None
    aspect_ratio: MusicVideoAspectRatio | None
    resolution: Resolution | None
    add_subtitle: bool | None
    subtitle_color: str | None
    srt_url: str | None
    duration: int | None
    compose_mode: ComposeMode | None


class EcommerceVideoFields(TypedDict, total=False):
    """The fields of an Ecommerce Video create (``images`` and ``duration`` are required)."""

    images: Sequence[str]
    duration: int
    prompt: str | None
    aspect_ratio: EcommerceAspectRatio | None
    language: Language | None


class MusicVideoCreate(MusicVideoFields, BodyOptions, total=False):
    """``music_video.create(**...)``: the request's fields and the per-call options."""


class EcommerceVideoCreate(EcommerceVideoFields, BodyOptions, total=False):
    """``ecommerce_video.create(**...)``: the request's fields and the per-call options."""
