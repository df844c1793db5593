"""Where ``client._request`` records each HTTP answer for ``with_raw_response`` (see ``_raw``).

Apart from ``_raw`` so the request path imports only this context variable, not the
``RawResponse`` machinery (import time).
"""

from __future__ import annotations

import contextvars
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._protocol import Response


class Capture:
    """The answer a raw call's request received (the last attempt's) and how long it took."""

    __slots__ = ("elapsed", "response")

    def __init__(self) -> None:
        self.response: Response | None = None
        self.elapsed = 0.0


# Set only while a raw call runs; ``client._request`` records each answer into it.
CURRENT: contextvars.ContextVar[Capture | None] = contextvars.ContextVar("beatapi_raw_capture", default=None)

