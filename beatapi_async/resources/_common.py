"""What several resources share: the client type, per-call options, task creation."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

import attrs

from .. import _models
from .._exceptions import RequestValidationError
from .._models import Task
from .._options import NO_OPTIONS, BodyOptions, CallOptions, call_options

if TYPE_CHECKING:
    from .._client import AsyncBeatAPI
    from .._models import EcommerceVideoRequest, MusicVideoRequest, TaskRequest

    R = TypeVar("R", MusicVideoRequest, EcommerceVideoRequest)

_OPTION_NAMES = BodyOptions.__optional_keys__  # a TypedDict's keys include its bases'

# By the request's workflow (a class attribute): the request classes load on first use.
CREATE_PATHS = {
    "music-video": "/v1/music-video/tasks",
    "ecommerce-video": "/v1/ecommerce-video/tasks",
}


class Resource:
    """Base of the resource classes: holds the client."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncBeatAPI) -> None:
        self._client = client


def as_list(value: Any) -> Any:
    """A list of the items of a list-like argument (tuple, set, generator); anything else as it is.

    A string, a mapping or a number stays itself, so the check that follows says "must be a
    list" instead of crashing on it or complaining about its first letter.
    """
    if isinstance(value, (str, bytes, bytearray, Mapping)) or not isinstance(value, Iterable):
        return value
    return list(value)


def new_idempotency_key() -> str:
    """A fresh Idempotency-Key for one logical billable call, reused by its retries."""
    return f"beatapi-async-{uuid.uuid4().hex}"


def coerce_request(
    cls: type[R], request: R | Mapping[str, Any] | None, kwargs: Mapping[str, Any]
) -> tuple[R, CallOptions]:
    """Build (and so validate) a request from a request object, a mapping, or keyword fields.

    ``kwargs`` holds both the request's fields and the per-call options; the options
    come back checked, with ``extra_body`` refused for any field of the request.
    """
    fields = {k: v for k, v in kwargs.items() if k not in _OPTION_NAMES}
    known = {a.name for a in attrs.fields(cls)}
    options = call_options({k: v for k, v in kwargs.items() if k in _OPTION_NAMES}, body_fields=known)
    return _coerce(cls, request, fields, known), options


def _coerce(cls: type[R], request: R | Mapping[str, Any] | None, fields: Mapping[str, Any], known: set[str]) -> R:
    if isinstance(request, cls):
        if fields:
            name = next(iter(fields))
            raise RequestValidationError(name, f"pass either a {cls.__name__} or keyword fields, not both")
        return request
    if request is not None and not isinstance(request, Mapping):
        raise RequestValidationError("request", f"must be a {cls.__name__}, a mapping of fields, or omitted")
    merged = {**(request or {}), **fields}
    for name in merged:
        if name not in known:
            raise RequestValidationError(name, f"is not a field of {cls.__name__}")
    for a in attrs.fields(cls):
        if a.default is attrs.NOTHING and merged.get(a.name) is None:
            raise RequestValidationError(a.name, "is required")
    return cls(**merged)


async def create_task(
    client: AsyncBeatAPI,
    request: TaskRequest,
    *,
    idempotency_key: str | None = None,
    options: CallOptions = NO_OPTIONS,
) -> Task:
    """Create a task (one billable call: one Idempotency-Key, reused on every retry)."""
    data = await client._request(
        "POST",
        CREATE_PATHS[request.workflow],
        json=_models.request_body(request),
        idempotency_key=idempotency_key or new_idempotency_key(),
        options=options,
    )
    return client._load(data, Task)
