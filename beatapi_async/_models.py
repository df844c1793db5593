"""Declarations of BeatAPI's resources (responses) and the create requests.

Response models are frozen, slotted attrs classes read leniently by the one
converter in ``_convert``: unknown fields land in ``extra``, an unknown status is
kept as a plain string, money is ``Decimal`` and times are aware UTC datetimes.
Request models validate on construction (``_validate``).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs

from . import _rules as R
from . import _validate
from ._logging import mask

if TYPE_CHECKING:
    from ._params import ComposeMode, EcommerceAspectRatio, Language, MusicVideoAspectRatio, Quality, Resolution


class TaskStatus(str, enum.Enum):
    """A task's (or stage's, or shot's) status. Unknown values load as plain strings."""

    QUEUED = "queued"
    PROCESSING = "processing"
    STORYBOARD_READY = "storyboard_ready"
    REQUIRES_ACTION = "requires_action"
    EDITING = "editing"
    COMPOSING = "composing"
    SUCCEEDED = "succeeded"
    FAILED = "failed"

    def __str__(self) -> str:
        return self.value


def _masked_repr(value: Any) -> str:
    # What the server sent may hold a secret this SDK does not know as one (a new field):
    # a repr masks every key and secret (BeatAPI's shapes, and the client's own key).
    return mask(repr(value))


def _extra() -> Any:
    # Unknown fields from newer deployments, kept visible (never dropped).
    return attrs.field(factory=dict, hash=False, repr=_masked_repr)


def _secret_repr(value: str | None) -> str:
    return "None" if value is None else "'<redacted>'"


W = TypeVar("W", bound="WireModel")


def _nulls(names: str) -> frozenset[str]:
    return frozenset(names.split())


class WireModel:
    """Base of the response models: their wire form, as BeatAPI sent it.

    ``WIRE_NULLS`` names the fields the contract always sends, as null when they have
    no value; other fields without a value are left out, as BeatAPI leaves them out.
    """

    __slots__ = ()
    WIRE_NULLS: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        """The object as BeatAPI sent it: same keys and formats, unknown fields included."""
        from ._convert import unstructure

        data: dict[str, Any] = unstructure(self)
        return data

    def to_json(self, *, indent: int | None = None) -> str:
        """``to_dict()`` as a JSON string."""
        import json

        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls: type[W], data: Mapping[str, Any]) -> W:
        """Load what ``to_dict`` (or BeatAPI) gave; a wrong shape is an ``InvalidResponseError``."""
        from ._convert import structure
        from ._exceptions import InvalidResponseError

        try:
            return structure(data, cls)
        except Exception as exc:  # cattrs raises many kinds; all mean "wrong shape"
            raise InvalidResponseError(f"{cls.__name__} has the wrong shape: {mask(str(exc))[:300]}") from None




@attrs.frozen(kw_only=True)
class Workflow(WireModel):
    """A workflow that tasks can be created with (``music-video``, ``ecommerce-video``)."""

    WIRE_NULLS: ClassVar[frozenset[str]] = _nulls("name description")

    id: str
    object: str = "workflow"
    name: str | None = None
    description: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class Media(WireModel):
    """A hosted media file (a video)."""

    url: str
    type: str | None = None
    mime_type: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class StoryboardShot(WireModel):
    """One shot of a Music Video storyboard."""

    WIRE_NULLS: ClassVar[frozenset[str]] = _nulls("index status created_at updated_at")

    id: str
    index: int | None = None
    status: TaskStatus | str | None = None
    duration_seconds: int | None = None
    prompt: str | None = None
    lyric_text: str | None = None
    media: Media | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class Storyboard(WireModel):
    """A Music Video's storyboard."""


    shots: tuple[StoryboardShot, ...] = ()
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class TaskOutput(WireModel):
    """What a succeeded task produced."""

    media: tuple[Media, ...] = ()
    r2_url: str | None = None  # deprecated by BeatAPI: read media[0].url
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class TaskUsage(WireModel):
    """A task's credits (or dollars on newer deployments)."""


    credits_reserved: Decimal = Decimal(0)
    credits_charged: Decimal = Decimal(0)
    credits_settled: Decimal = Decimal(0)
    credits_refunded: Decimal = Decimal(0)
    billable_duration_seconds: int | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class Task(WireModel):
    """A workflow task: created at once, finished minutes later."""

    WIRE_NULLS: ClassVar[frozenset[str]] = _nulls(
        "workflow stage created_at updated_at completed_at output usage request_id error_code "
        "error_message"
    )

    id: str
    status: TaskStatus | str
    object: str = "task"
    workflow: str | None = None
    stage: TaskStatus | str | None = None
    storyboard: Storyboard | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    output: TaskOutput | None = None
    usage: TaskUsage | None = None
    request_id: str | None = None
    error_code: str | None = None
    error_message: str | None = None
    # Newer deployments (NOTES: Tasks): a poll cadence hint and a retry hint.
    poll_after_seconds: float | None = None
    retryable: bool | None = None
    extra: Mapping[str, Any] = _extra()

    @property
    def is_terminal(self) -> bool:
        """True once the task succeeded or failed."""
        return self.status in R.TERMINAL_STATUSES

    @property
    def is_actionable(self) -> bool:
        """True when the user must act (storyboard_ready, requires_action)."""
        return self.status in R.ACTIONABLE_STATUSES

    @property
    def is_running(self) -> bool:
        """True while the task counts toward the account's concurrency limit."""
        return self.status in R.RUNNING_STATUSES

    @property
    def video_url(self) -> str | None:
        """The final video's URL: ``output.media[0].url``, else the deprecated ``r2_url``."""
        if self.output is None:
            return None
        if self.output.media:
            return self.output.media[0].url
        return self.output.r2_url


@attrs.frozen(kw_only=True)
class ShotMedia(WireModel):
    """A storyboard shot's materialized video."""

    WIRE_NULLS: ClassVar[frozenset[str]] = _nulls("task_id index status created_at updated_at request_id")

    shot_id: str
    media: Media
    object: str = "shot_media"
    task_id: str | None = None
    index: int | None = None
    status: TaskStatus | str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    request_id: str | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class File(WireModel):
    """An uploaded input file; ``url`` can be used as a workflow input."""

    WIRE_NULLS: ClassVar[frozenset[str]] = _nulls("key mime_type size_bytes purpose created_at")

    id: str
    url: str
    object: str = "file"
    key: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    purpose: str | None = None
    audio_duration_seconds: float | None = None
    audio_duration_source: str | None = None
    created_at: datetime | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class UsageConcurrency(WireModel):
    """The account's concurrency: its limit and the tasks running now (all processes)."""

    limit: int
    active: int = 0
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class WorkflowUsage(WireModel):
    """Usage totals of one workflow."""

    workflow: str
    tasks: int = 0
    credits_settled: Decimal = Decimal(0)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class RealtimeUsage(WireModel):
    """Usage totals of realtime sessions."""

    sessions: int = 0
    credits: Decimal = Decimal(0)
    active: int = 0
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class Usage(WireModel):
    """The account's balance, totals and concurrency."""


    concurrency: UsageConcurrency
    object: str = "usage"
    credit_balance: Decimal = Decimal(0)
    total_tasks: int = 0
    credits_settled: Decimal = Decimal(0)
    credits_refunded: Decimal = Decimal(0)
    by_workflow: tuple[WorkflowUsage, ...] = ()
    realtime: RealtimeUsage | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class WebhookEndpoint(WireModel):
    """A registered webhook endpoint. ``secret`` is full only in the create answer."""

    WIRE_NULLS: ClassVar[frozenset[str]] = _nulls("url description status secret created_at updated_at")

    id: str
    object: str = "webhook_endpoint"
    url: str | None = None
    description: str | None = None
    events: tuple[str, ...] = ()
    status: str | None = None
    secret: str | None = attrs.field(default=None, repr=_secret_repr)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class WebhookEvent(WireModel):
    """A webhook delivery's body. ``data`` is a ``Task`` for task events."""

    WIRE_NULLS: ClassVar[frozenset[str]] = _nulls("id created_at data")

    event: str
    id: str | None = None
    created_at: datetime | None = None
    data: Task | Mapping[str, Any] | None = attrs.field(default=None, hash=False, repr=_masked_repr)
    extra: Mapping[str, Any] = _extra()

    @property
    def task(self) -> Task | None:
        """The task the event is about, if it is a task event."""
        return self.data if isinstance(self.data, Task) else None


@attrs.frozen(kw_only=True)
class RealtimeCredits(WireModel):
    """A realtime session's credits."""

    reserved: Decimal = Decimal(0)
    settled: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class RealtimeSession(WireModel):
    """A short-lived realtime browser session. ``client_secret`` only in the create answer."""

    WIRE_NULLS: ClassVar[frozenset[str]] = _nulls(
        "expires_at max_duration_seconds credits request_id created_at connected_at closed_at"
    )

    id: str
    status: str
    object: str = "realtime.session"
    client_secret: str | None = attrs.field(default=None, repr=_secret_repr)
    expires_at: datetime | None = None
    max_duration_seconds: int | None = None
    allowed_origins: tuple[str, ...] = ()
    credits: RealtimeCredits | None = None
    request_id: str | None = None
    created_at: datetime | None = None
    connected_at: datetime | None = None
    closed_at: datetime | None = None
    extra: Mapping[str, Any] = _extra()


@attrs.frozen(kw_only=True)
class Deleted(WireModel):
    """The answer to a delete."""

    id: str
    deleted: bool
    extra: Mapping[str, Any] = _extra()


# -- requests -----------------------------------------------------------------------


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
