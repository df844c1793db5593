"""The models of the resources besides tasks: workflows, files, usage, webhooks,
realtime sessions, storyboard shot media and deletions.

Declared apart from ``_models`` (and reached through it: ``_models.File``) so that
``import beatapi_async`` does not build them; see ``_models``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any, ClassVar

import attrs

# The names the field annotations use stay imported at run time: the converter
# resolves the annotations in this module's namespace.
from ._models import Media, Task, TaskStatus, WireModel, extra_field, masked_repr, secret_repr, wire_nulls


@attrs.frozen(kw_only=True)
class Workflow(WireModel):
    """A workflow that tasks can be created with (``music-video``, ``ecommerce-video``)."""

    WIRE_NULLS: ClassVar[frozenset[str]] = wire_nulls("name description")

    id: str
    object: str = "workflow"
    name: str | None = None
    description: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class ShotMedia(WireModel):
    """A storyboard shot's materialized video."""

    WIRE_NULLS: ClassVar[frozenset[str]] = wire_nulls("task_id index status created_at updated_at request_id")

    shot_id: str
    media: Media
    object: str = "shot_media"
    task_id: str | None = None
    index: int | None = None
    status: TaskStatus | str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    request_id: str | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class File(WireModel):
    """An uploaded input file; ``url`` can be used as a workflow input."""

    WIRE_NULLS: ClassVar[frozenset[str]] = wire_nulls("key mime_type size_bytes purpose created_at")

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
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class UsageConcurrency(WireModel):
    """The account's concurrency: its limit and the tasks running now (all processes)."""

    limit: int
    active: int = 0
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class WorkflowUsage(WireModel):
    """Usage totals of one workflow."""

    workflow: str
    tasks: int = 0
    credits_settled: Decimal = Decimal(0)
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class RealtimeUsage(WireModel):
    """Usage totals of realtime sessions."""

    sessions: int = 0
    credits: Decimal = Decimal(0)
    active: int = 0
    extra: Mapping[str, Any] = extra_field()


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
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class WebhookEndpoint(WireModel):
    """A registered webhook endpoint. ``secret`` is full only in the create answer."""

    WIRE_NULLS: ClassVar[frozenset[str]] = wire_nulls("url description status secret created_at updated_at")

    id: str
    object: str = "webhook_endpoint"
    url: str | None = None
    description: str | None = None
    events: tuple[str, ...] = ()
    status: str | None = None
    secret: str | None = attrs.field(default=None, repr=secret_repr)
    created_at: datetime | None = None
    updated_at: datetime | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class WebhookEvent(WireModel):
    """A webhook delivery's body. ``data`` is a ``Task`` for task events."""

    WIRE_NULLS: ClassVar[frozenset[str]] = wire_nulls("id created_at data")

    event: str
    id: str | None = None
    created_at: datetime | None = None
    data: Task | Mapping[str, Any] | None = attrs.field(default=None, hash=False, repr=masked_repr)
    extra: Mapping[str, Any] = extra_field()

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
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class RealtimeSession(WireModel):
    """A short-lived realtime browser session. ``client_secret`` only in the create answer."""

    WIRE_NULLS: ClassVar[frozenset[str]] = wire_nulls(
        "expires_at max_duration_seconds credits request_id created_at connected_at closed_at"
    )

    id: str
    status: str
    object: str = "realtime.session"
    client_secret: str | None = attrs.field(default=None, repr=secret_repr)
    expires_at: datetime | None = None
    max_duration_seconds: int | None = None
    allowed_origins: tuple[str, ...] = ()
    credits: RealtimeCredits | None = None
    request_id: str | None = None
    created_at: datetime | None = None
    connected_at: datetime | None = None
    closed_at: datetime | None = None
    extra: Mapping[str, Any] = extra_field()


@attrs.frozen(kw_only=True)
class Deleted(WireModel):
    """The answer to a delete."""

    id: str
    deleted: bool
    extra: Mapping[str, Any] = extra_field()
