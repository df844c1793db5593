"""Schema-driven conformance: schemathesis against a running emulator with BeatAPI's published contract.

Every operation of ``../shared/beatapi/openapi.yaml`` is exercised with
schema-valid (positive) and schema-invalid (negative) requests, and each answer
goes through schemathesis' checks: no 5xx, documented status codes, documented
content types, response bodies matching their schemas, invalid data refused
and valid data accepted. Bounded: ``MAX_EXAMPLES`` per operation and mode.

Where the published contract itself is incomplete, the emulator follows the
contract's prose or NOTES.md instead of the schema; each such exception is
written down once, below, with its reason. Anything else is drift to fix.
"""

from __future__ import annotations

import asyncio
import json
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from beatapi_async.testing import FakeBeatAPI

from .._shared import missing_reason
from ._support import CONTRACT_PATH

if not CONTRACT_PATH.is_file():
    pytest.skip(missing_reason(CONTRACT_PATH), allow_module_level=True)
if sys.version_info < (3, 11):
    pytest.skip("schemathesis 4 needs Python 3.11+ (the dev extra installs it only there)", allow_module_level=True)
schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed (pip install -e '.[dev]')")

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis.errors import Unsatisfiable  # noqa: E402
from schemathesis import GenerationMode  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = 12  # per operation and mode: ~30 s for the whole contract on a loaded 2-core machine
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
]

# -- where the published contract is incomplete (each exception once, with its reason) ----------
# Statuses an operation answers that its `responses` do not list.
UNDOCUMENTED_STATUSES: dict[tuple[str, int], str] = {
    ("PATCH /v1/webhooks/{id}", 404): "an unknown endpoint id is 404 as for GET; the contract lists no 404 here",
    ("DELETE /v1/webhooks/{id}", 404): "an unknown endpoint id is 404 as for GET; the contract lists no 404 here",
}
# Schema-valid bodies refused with 400 because of a rule the contract states in prose (or NOTES.md)
# but not in its schema: operation -> {field refused: reason}.
PROSE_RULES: dict[str, dict[str, str]] = {
    "POST /v1/music-video/tasks": {
        "images": "public HTTPS URLs only: 'Localhost, private network URLs, and data URLs are rejected'",
        "audio_url": "public HTTPS URL only (as images)",
        "lip_ref_url": "public HTTPS URL only (as images)",
        "srt_url": "public HTTPS URL that 'must point to an .srt subtitle file'",
        "quality": "'quality=high is not supported with resolution=540p' (combination limit)",
        "lip_sync": "'lip_sync=true is not supported with resolution=540p' (combination limit)",
    },
    "POST /v1/ecommerce-video/tasks": {"images": "public HTTPS URLs only (as for Music Video)"},
    "POST /v1/realtime/sessions": {
        "allowed_origins": "NOTES: '1-10 exact origins' (scheme://host[:port], no path, no wildcard)",
        "Idempotency-Key": "an empty Idempotency-Key identifies nothing; the schema gives only maxLength",
    },
    "POST /v1/files": {
        "file": "the type rules of the description: a generic part needs an accepted file name extension",
    },
    "POST /v1/webhooks": {
        "url": "deliveries go to https:// URLs (http:// only for localhost, for local receivers)",
        "events": "an endpoint subscribed to no event would never be called; at least one is required",
    },
    "PATCH /v1/webhooks/{id}": {
        "url": "as for create",
        "events": "as for create",
        "update": "an update naming no field changes nothing: at least one field is required",
    },
    "POST /v1/music-video/tasks/{task_id}/shots/{shot_id}/edit": {
        "prompt": "an edit needs a non-empty prompt saying what to change",
    },
}


class _ThreadedFake:
    """A FakeBeatAPI on its own loop in a thread: schemathesis calls it with blocking requests."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="schemathesis-fake", daemon=True)
        self.thread.start()
        fake = FakeBeatAPI(speed=1000, credit_balance=10**9, concurrency_limit=10_000, poll_limit_per_minute=None)
        self.fake: FakeBeatAPI = asyncio.run_coroutine_threadsafe(fake.start(), self.loop).result(10)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.fake.close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def served() -> Iterator[FakeBeatAPI]:
    server = _ThreadedFake()
    try:
        yield server.fake
    finally:
        server.close()


SCHEMA = schemathesis.openapi.from_path(str(CONTRACT_PATH))
OPERATIONS = {result.ok().label: result.ok() for result in SCHEMA.get_all_operations()}


def _refused_field(content: bytes) -> str:
    try:
        details = json.loads(content)["error"].get("details") or {}
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""
    field = details.get("field")
    return field.split("[", 1)[0] if isinstance(field, str) else ""


def _excluded(label: str, status: int, content: bytes) -> list[Any]:
    excluded: list[Any] = []
    if (label, status) in UNDOCUMENTED_STATUSES:
        excluded.append(status_code_conformance)
    if status == 400 and _refused_field(content) in PROSE_RULES.get(label, {}):
        excluded.append(positive_data_acceptance)
    return excluded


def test_the_exceptions_name_real_operations() -> None:
    assert {label for label, _ in UNDOCUMENTED_STATUSES} <= set(OPERATIONS)
    assert set(PROSE_RULES) <= set(OPERATIONS)


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=str)
@pytest.mark.parametrize("label", sorted(OPERATIONS))
def test_the_emulator_conforms_to_the_contract(served: FakeBeatAPI, label: str, mode: GenerationMode) -> None:
    operation = OPERATIONS[label]
    auth = {"Authorization": f"Bearer {served.api_key}"}

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def check(case: Any) -> None:
        response = case.call(base_url=served.base_url, headers=auth, timeout=10)
        excluded = _excluded(label, response.status_code, response.content)
        case.validate_response(response, checks=CHECKS, excluded_checks=excluded)

    try:
        check()
    except Unsatisfiable:
        # Nothing of this operation can be made invalid (no parameters, no body).
        assert mode == GenerationMode.NEGATIVE
