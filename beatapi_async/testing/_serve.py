"""Run the emulator as a long-lived server (``python -m beatapi_async.testing``, the CLI's ``emulator``)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from ._fake import FakeBeatAPI


def banner(fake: FakeBeatAPI) -> str:
    """Return the lines that tell a user where the emulator listens and which key to send."""
    return (
        f"FakeBeatAPI listening on {fake.base_url} (speed {fake.speed:g}, "
        f"concurrency limit {fake.concurrency_limit}); Ctrl-C stops it.\n"
        f"OpenAPI document for client generators: {fake.base_url}/openapi.json\n"
        f"export BEATAPI_BASE_URL={fake.base_url}\n"
        f"export BEATAPI_API_KEY={fake.api_key}"
    )


def _print_banner(fake: FakeBeatAPI) -> None:
    print(banner(fake), flush=True)


async def serve_forever(*, on_ready: Callable[[FakeBeatAPI], object] | None = None, **options: Any) -> None:
    """Serve a ``FakeBeatAPI(**options)`` until cancelled.

    ``on_ready(fake)`` runs once it listens; by default it prints ``banner``.
    """
    async with FakeBeatAPI(**options) as fake:
        (on_ready or _print_banner)(fake)
        await asyncio.Event().wait()
