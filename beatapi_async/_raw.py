"""``client.with_raw_response``: any resource method, answered with the HTTP response too.

One generic wrapper, not one class per method: ``client.with_raw_response.tasks.get(id)``
runs the plain ``client.tasks.get(id)`` while a context variable (``_raw_capture``)
records the HTTP answer ``client._request`` received, and returns a ``RawResponse`` around both.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from ._exceptions import InvalidResponseError
from ._protocol import request_id_of
from ._raw_capture import CURRENT, Capture

if TYPE_CHECKING:
    from ._client import AsyncBeatAPI

T = TypeVar("T")


class Headers(Mapping[str, str]):
    """Response headers, looked up case-insensitively (``headers["X-Request-Id"]``)."""

    __slots__ = ("_items",)

    def __init__(self, items: Mapping[str, str]) -> None:
        self._items = {k.lower(): v for k, v in items.items()}

    def __getitem__(self, name: str) -> str:
        return self._items[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._items

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"


@attrs.frozen(kw_only=True)
class RawResponse(Generic[T]):
    """An HTTP answer and what the plain call returns for it.

    ``status`` and ``headers`` (case-insensitive) as received, ``request_id`` from the
    headers (else from the parsed model), ``elapsed`` the seconds the final attempt
    took, ``content`` the body bytes. ``parse()`` returns what the plain call returns
    (or raises the ``InvalidResponseError`` it would raise for a malformed body).
    """

    status: int
    headers: Headers
    elapsed: float
    content: bytes = attrs.field(repr=False)
    _parsed: Any = attrs.field(repr=False, alias="parsed")
    _error: InvalidResponseError | None = attrs.field(default=None, repr=False, alias="error")

    @property
    def request_id(self) -> str | None:
        """The answer's request id (header, else the body's ``request_id``)."""
        return request_id_of(self.headers) or getattr(self._parsed, "request_id", None)

    def parse(self) -> T:
        """Return what the plain call returns (a model, a list of models)."""
        if self._error is not None:
            raise self._error
        parsed: T = self._parsed
        return parsed


class RawResource:
    """A resource whose methods answer ``RawResponse`` instead of the model."""

    __slots__ = ("_resource",)

    def __init__(self, resource: object) -> None:
        self._resource = resource

    def __getattr__(self, name: str) -> Callable[..., Awaitable[RawResponse[Any]]]:
        method = getattr(self._resource, name)
        if name.startswith("_") or not inspect.iscoroutinefunction(method):
            raise AttributeError(f"{type(self._resource).__name__}.{name} is not an API method")

        async def call(*args: Any, **kwargs: Any) -> RawResponse[Any]:
            box = Capture()
            token = CURRENT.set(box)
            error: InvalidResponseError | None = None
            try:
                parsed = await method(*args, **kwargs)
            except InvalidResponseError as exc:
                # A 2xx with a malformed body: the answer is still there to inspect;
                # parse() raises what the plain call raised.
                if box.response is None or not 200 <= box.response.status < 300:
                    raise
                parsed, error = None, exc
            finally:
                CURRENT.reset(token)
            response = box.response
            if response is None:  # pragma: no cover - every API method sends a request
                raise RuntimeError(f"{name} sent no request")
            return RawResponse(
                status=response.status, headers=Headers(response.headers), elapsed=box.elapsed,
                content=response.body, parsed=parsed, error=error,
            )  # fmt: skip

        call.__name__ = call.__qualname__ = name
        call.__doc__ = method.__doc__
        return call


class RawClient:
    """``client.with_raw_response``: the client's resources, answering ``RawResponse``."""

    __slots__ = ("_client",)

    def __init__(self, client: AsyncBeatAPI) -> None:
        self._client = client

    def __getattr__(self, name: str) -> RawResource:
        from .resources._common import Resource

        resource = getattr(self._client, name)
        if name.startswith("_") or not isinstance(resource, Resource):
            raise AttributeError(f"AsyncBeatAPI.{name} is not a resource")
        return RawResource(resource)
