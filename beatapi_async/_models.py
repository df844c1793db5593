"""Declarations of BeatAPI's resources (responses) and the create requests: the one place to get a model.

Response models are frozen, slotted attrs classes read leniently by the one
converter in ``_convert``: unknown fields land in ``extra``, an unknown status is
kept as a plain string, money is ``Decimal`` and times are aware UTC datetimes.
Request models validate on construction (``_validate``).

This module declares the task (what every program reads); the create requests
(``_task_requests``) and the other resources' models (``_resource_models``) are
declared next door and load on first use of their name here (``_models.File``):
building an attrs class costs about half a millisecond, and ``import beatapi_async``
should not pay for fourteen a program may never touch.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import attrs

from . import _rules as R
from ._lazy import lazy_attributes
from ._logging import mask

if TYPE_CHECKING:
    # The names loaded on first use (``__getattr__`` below), as their real types.
    from ._resource_models import Deleted as Deleted
    from ._resource_models import File as File
    from ._resource_models import RealtimeCredits as RealtimeCredits
    from ._resource_models import RealtimeSession as RealtimeSession
    from ._resource_models import RealtimeUsage as RealtimeUsage
    from ._resource_models import ShotMedia as ShotMedia
    from ._resource_models import Usage as Usage
    from ._resource_models import UsageConcurrency as UsageConcurrency
    from ._resource_models import WebhookEndpoint as WebhookEndpoint
    from ._resource_models import WebhookEvent as WebhookEvent
    from ._resource_models import Workflow as Workflow
    from ._resource_models import WorkflowUsage as WorkflowUsage
    from ._task_requests import EcommerceVideoRequest as EcommerceVideoRequest
    from ._task_requests import MusicVideoRequest as MusicVideoRequest
    from ._task_requests import TaskRequest as TaskRequest
    from ._task_requests import request_body as request_body


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


def masked_repr(value: Any) -> str:
    """The repr of a value from the server, with every key and secret masked."""
    # What the server sent may hold a secret this SDK does not know as one (a new field):
    # a repr masks every key and secret (BeatAPI's shapes, and the client's own key).
    return mask(repr(value))


def extra_field() -> Any:
    """The ``extra`` field of a response model."""
    # Unknown fields from newer deployments, kept visible (never dropped).
    return attrs.field(factory=dict, hash=False, repr=masked_repr)


def secret_repr(value: str | None) -> str:
    """The repr of a secret field: whether it is set, never its value."""
    return "None" if value is None else "'<redacted>'"


W = TypeVar("W", bound="WireModel")


def wire_nulls(names: str) -> frozenset[str]:
    """A model's ``WIRE_NULLS`` from a space-separated list of field names."""
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
class Media(WireModel):
    """A hosted media file (a video)."""

    url: str
    type: str | None = None
    mime_type: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class StoryboardShot(WireModel):
    """One shot of a Music Video storyboard."""

    WIRE_NULLS: ClassVar[frozenset[str]] = wire_nulls("index status created_at updated_at")

    id: str
    index: int | None = None
    status: TaskStatus | str | None = None
    duration_seconds: int | None = None
    prompt: str | None = None
    lyric_text: str | None = None
    media: Media | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Storyboard(WireModel):
    """A Music Video's storyboard."""

    shots: tuple[StoryboardShot, ...] = ()
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class TaskOutput(WireModel):
    """What a succeeded task produced."""

    media: tuple[Media, ...] = ()
    r2_url: str | None = None  # deprecated by BeatAPI: read media[0].url
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class TaskUsage(WireModel):
    """A task's credits (or dollars on newer deployments)."""

    credits_reserved: Decimal = Decimal(0)
    credits_charged: Decimal = Decimal(0)
    credits_settled: Decimal = Decimal(0)
    credits_refunded: Decimal = Decimal(0)
    billable_duration_seconds: int | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Task(WireModel):
    """A workflow task: created at once, finished minutes later."""

    WIRE_NULLS: ClassVar[frozenset[str]] = wire_nulls(
        "workflow stage created_at updated_at completed_at output usage request_id error_code error_message"
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
    extra: Mapping[str, Any] = extra_field()

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


# Where each model declared next door lives; ``__getattr__`` imports it on first use.
_LAZY = {
    **dict.fromkeys(
        ("Deleted", "File", "RealtimeCredits", "RealtimeSession", "RealtimeUsage", "ShotMedia", "Usage",
         "UsageConcurrency", "WebhookEndpoint", "WebhookEvent", "Workflow", "WorkflowUsage"),
        "._resource_models",
    ),
    **dict.fromkeys(("EcommerceVideoRequest", "MusicVideoRequest", "TaskRequest", "request_body"), "._task_requests"),
}  # fmt: skip


if not TYPE_CHECKING:  # type checkers see the real names (imported above for them) and flag a typo
    __getattr__, __dir__ = lazy_attributes(globals(), _LAZY)
