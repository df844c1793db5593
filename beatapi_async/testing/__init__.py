"""An offline BeatAPI for tests, demos and non-Python clients.

``FakeBeatAPI`` is a real aiohttp server on 127.0.0.1 that answers every
endpoint of the launch contract with its shapes, status codes and rules, moves
tasks through their states on a clock ``speed`` times faster than real time,
keeps an account (credits, concurrency, poll limit), stores uploads, sends
signed webhook deliveries, and lets tests inject faults and look inside::

    from beatapi_async.testing import FakeBeatAPI

    async with FakeBeatAPI(speed=1000, concurrency_limit=5) as fake:
        ...  # point a client at fake.base_url with fake.api_key
        assert fake.peak_running <= 5

Run it standalone with ``python -m beatapi_async.testing --port 8080``. The
pytest plugin (``beatapi_async.testing.pytest_plugin``, registered as a
``pytest11`` entry point) provides the ``fake_beatapi`` and ``beatapi_client``
fixtures.

Time. ``speed`` scales every BeatAPI duration: task steps (``Durations``), the
60 s poll window, webhook retries, realtime expiry. Hints meant for a client
are converted to real time so it keeps the emulator's pace:
``poll_after_seconds`` is BeatAPI's 5-10 s divided by ``speed`` (at least
1 ms), and ``Retry-After`` / ``retry_after_seconds`` are the BeatAPI wait
divided by ``speed``, rounded up to whole seconds, at least 1 (the contract
makes them integers). Timestamps in bodies are BeatAPI time; the
``x-beatapi-timestamp`` of a delivery is the real clock, which receivers
check against their own.

Where the contract is silent, the emulator chooses:

- A manual Music Video reaches ``requires_action`` when its storyboard is
  ready; a shot edit brings it back to ``storyboard_ready``. Edit and compose
  are also taken on a succeeded Music Video: the edit runs (``editing``) and
  returns to ``succeeded`` with the final video unchanged until a compose.
  On any other task they answer 400 (the contract lists no 409 for them);
  unknown shot ids answer 404. Both take a concurrency slot while they run,
  so they can get 429 like a create.
- Request bodies: an explicit ``null`` for a field the schema names is a 400;
  ``18.0`` is the integer 18; fields the schema does not name are ignored.
  Bodies over the limit (uploads 50 MB, JSON 1 MiB) are refused with 413 from
  their ``Content-Length`` before they are read. Every error, 404 and 405 of
  unmatched paths included, is the JSON error envelope. ``GET /openapi.json``
  describes what the emulator serves.
- A realtime session reserves one credit per second of
  ``max_duration_seconds``, settles when it goes active
  (``FakeBeatAPI.activate_session``) and is refunded if it closes or expires
  (``Durations.session_ttl``) before.
- Uploads are served at ``<base_url>/inputs/<id><ext>``, outputs at
  ``<base_url>/outputs/...``; those URLs are accepted as task inputs, other
  loopback URLs are refused. Audio length: WAV exactly, MP3 estimated from
  its first frame, anything else assumed ``Durations.default_audio``.
- ``Idempotency-Key`` scope is the method, path and body; only accepted
  requests are remembered, so a 402 or 429 can be retried under its key.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._fake import FakeBeatAPI
    from ._faults import Fault
    from ._records import Delivery, Durations, LedgerEntry, Outcome, RecordedRequest
    from ._serve import banner, serve_forever

# Imported on first use (PEP 562), so that the pytest plugin, which lives in this
# package, costs nothing at pytest start-up until a test asks for the emulator.
_SOURCES = {
    "FakeBeatAPI": "._fake",
    "Fault": "._faults",
    "Delivery": "._records",
    "Durations": "._records",
    "LedgerEntry": "._records",
    "Outcome": "._records",
    "RecordedRequest": "._records",
    "banner": "._serve",
    "serve_forever": "._serve",
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))


__all__ = [
    "Delivery",
    "Durations",
    "FakeBeatAPI",
    "Fault",
    "LedgerEntry",
    "Outcome",
    "RecordedRequest",
    "banner",
    "serve_forever",
]
