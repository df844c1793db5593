"""BeatAPI's launch price list, and the estimate of what a create (or edit, or compose) reserves.

The one price table of the project: ``client.estimate`` and credit admission price
requests with it, and the emulator (``testing``) charges with it, so the two cannot
drift apart. Source: the launch contract (NOTES.md "Pricing"): credits per second of
billable duration. Newer deployments bill in US dollars; estimates stay in the launch
unit (``Estimate.unit``) and BeatAPI's own amounts on a created task are the truth.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any, Final, Literal, NamedTuple

import attrs

from . import _rules as R

LAUNCH_UNIT: Final = "credits"

DEFAULT_QUALITY: Final = "standard"
DEFAULT_RESOLUTION: Final = "720p"

# Credits per second of billable duration (contract: Music Video create, "Pricing").
MV_RATES: Final = {
    ("standard", "540p"): Decimal(4),
    ("standard", "720p"): Decimal(5),
    ("standard", "1080p"): Decimal(6),
    ("high", "720p"): Decimal(16),
    ("high", "1080p"): Decimal(18),
}
LIP_SYNC_SURCHARGE: Final = Decimal(2)
EC_RATE: Final = Decimal(15)
COMPOSE_PRICE: Final = Decimal(1)
SHOT_EDIT_DEFAULT_SECONDS: Final = R.EDIT_DEFAULT_DURATION
# The longest audio BeatAPI accepts: the bound of a Music Video whose length is unknown.
MAX_AUDIO_SECONDS: Final = R.AUDIO_DURATION_RANGE[1]

Operation = Literal["create", "edit_shot", "compose"]
SecondsSource = Literal["duration", "audio_seconds", "measured", "upper_bound", "shot_seconds", "fixed"]


def music_video_rate(
    quality: str | None = None, resolution: str | None = None, lip_sync: bool | None = False
) -> Decimal:
    """Return the launch price in credits per second for a Music Video setting.

    ``None`` means BeatAPI's default (standard, 720p, no lip-sync). Raises ``KeyError``
    for a combination BeatAPI does not offer (high quality at 540p).
    """
    rate = MV_RATES[(quality or DEFAULT_QUALITY, resolution or DEFAULT_RESOLUTION)]
    return rate + LIP_SYNC_SURCHARGE if lip_sync is True else rate


def billable_seconds(seconds: float | Decimal) -> int:
    """Whole billable seconds of an audio length: as BeatAPI reports it (2 decimals), rounded up."""
    shown = Decimal(str(seconds)).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    return max(0, math.ceil(shown))


@attrs.frozen(kw_only=True)
class Estimate:
    """What BeatAPI will reserve for a create, a shot edit or a compose, from the launch price table.

    ``credits`` is ``rate x billable_seconds`` (or the fixed price of a compose), in
    ``unit`` (always the launch unit, ``"credits"``: a deployment that bills in dollars
    shows its own amounts on the created task, which are the truth). ``exact`` is False
    when the billable length was not known and ``credits`` is an upper bound (a Music
    Video whose audio this client did not upload, with no ``audio_seconds=``);
    ``seconds_from`` says where the billable seconds came from.
    """

    credits: Decimal
    workflow: str
    operation: Operation = "create"
    rate: Decimal | None = None
    billable_seconds: int | None = None
    exact: bool = True
    seconds_from: SecondsSource = "duration"
    quality: str | None = None
    resolution: str | None = None
    lip_sync: bool | None = None
    unit: str = LAUNCH_UNIT

    @property
    def reason(self) -> str:
        """One line saying how the amount was reached."""
        if self.operation == "compose":
            return f"compose: a fixed {self.credits} {self.unit}"
        setting = (
            f"{self.quality} {self.resolution}" + (" + lip-sync" if self.lip_sync else "") + ": "
            if self.workflow == "music-video"
            else ""
        )
        where = {
            "duration": "the request's duration",
            "audio_seconds": "audio_seconds=",
            "measured": "the length BeatAPI measured for this audio",
            "upper_bound": f"audio length unknown: the longest audio BeatAPI accepts ({MAX_AUDIO_SECONDS} s)",
            "shot_seconds": "the shot's seconds",
            "fixed": "a fixed price",
        }[self.seconds_from]
        bound = "at most " if not self.exact else ""
        edit = "shot edit, " if self.operation == "edit_shot" else ""
        return (
            f"{edit}{setting}{self.rate} {self.unit}/s x {self.billable_seconds} s ({where}) = "
            f"{bound}{self.credits} {self.unit}"
        )


def estimate(
    request: Any,
    *,
    audio_seconds: float | Decimal | None = None,
    known_audio: Mapping[str, float] | None = None,
    operation: Operation = "create",
    shot_seconds: int | None = None,
) -> Estimate:
    """Price ``request`` (a ``MusicVideoRequest`` or ``EcommerceVideoRequest``) from the launch table.

    ``known_audio`` maps audio URLs to the lengths BeatAPI measured for them (files this
    client uploaded, songs of tasks it created). ``operation="edit_shot"`` prices a shot edit of the task the request
    made (its rate x ``shot_seconds``, default 5); ``"compose"`` the fixed compose price.
    """
    from ._exceptions import RequestValidationError
    from ._models import EcommerceVideoRequest, MusicVideoRequest

    if operation not in ("create", "edit_shot", "compose"):
        raise RequestValidationError("operation", "must be one of 'create', 'edit_shot', 'compose'")
    if audio_seconds is not None:
        _check_seconds("audio_seconds", audio_seconds, R.AUDIO_DURATION_RANGE)
    if shot_seconds is not None:
        _check_seconds("shot_seconds", shot_seconds, R.EDIT_DURATION_RANGE, whole=True)
    if isinstance(request, EcommerceVideoRequest):
        if operation != "create":
            raise RequestValidationError("operation", "shot edits and compose are Music Video operations")
        seconds = int(request.duration)
        return Estimate(
            credits=EC_RATE * seconds, workflow=request.workflow, rate=EC_RATE, billable_seconds=seconds
        )
    if not isinstance(request, MusicVideoRequest):
        raise RequestValidationError("request", "must be a MusicVideoRequest or EcommerceVideoRequest")
    settings = _Settings(request.quality or DEFAULT_QUALITY, request.resolution or DEFAULT_RESOLUTION,
                         request.lip_sync is True)  # fmt: skip
    if operation == "compose":
        return Estimate(
            credits=COMPOSE_PRICE, workflow=request.workflow, operation="compose", seconds_from="fixed",
            **settings._asdict(),
        )  # fmt: skip
    rate = music_video_rate(request.quality, request.resolution, request.lip_sync)
    if operation == "edit_shot":
        seconds = shot_seconds if shot_seconds is not None else SHOT_EDIT_DEFAULT_SECONDS
        return Estimate(
            credits=rate * seconds, workflow=request.workflow, operation="edit_shot", rate=rate,
            billable_seconds=seconds, seconds_from="shot_seconds", **settings._asdict(),
        )  # fmt: skip
    source: SecondsSource
    known = (known_audio or {}).get(request.audio_url)
    if audio_seconds is not None:
        seconds, source = billable_seconds(audio_seconds), "audio_seconds"
    elif known is not None:
        seconds, source = billable_seconds(known), "measured"
    else:
        # BeatAPI measures the audio at create; ``duration`` only counts when it cannot.
        seconds, source = MAX_AUDIO_SECONDS, "upper_bound"
    return Estimate(
        credits=rate * seconds, workflow=request.workflow, rate=rate, billable_seconds=seconds,
        exact=source != "upper_bound", seconds_from=source, **settings._asdict(),
    )  # fmt: skip


class _Settings(NamedTuple):
    quality: str
    resolution: str
    lip_sync: bool


def _check_seconds(field: str, value: object, bounds: tuple[int, int], *, whole: bool = False) -> None:
    from ._exceptions import RequestValidationError

    low, high = bounds
    kinds: tuple[type, ...] = (int,) if whole else (int, float, Decimal)
    if isinstance(value, bool) or not isinstance(value, kinds):
        raise RequestValidationError(field, f"must be {'a whole' if whole else 'a'} number of seconds")
    number: Any = value
    if not (number == number and low <= number <= high):  # number == number: not NaN
        raise RequestValidationError(field, f"must be between {low} and {high} seconds")
