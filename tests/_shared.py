"""Where BeatAPI's published contract is found for the tests, and why tests skip without it.

BeatAPI's contract (``openapi.yaml``) and its golden sample bodies (``fixtures/``)
are reference material kept *beside* the repository, in ``../shared/beatapi/``,
and never copied into it. A fresh clone without that folder skips the tests that
need it, each saying so; ``BEATAPI_SHARED_DIR`` points them at another copy.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("BEATAPI_SHARED_DIR") or ROOT.parent / "shared" / "beatapi")
CONTRACT = SHARED / "openapi.yaml"
FIXTURES = SHARED / "fixtures"


def missing_reason(path: Path) -> str:
    """Why a test that needs ``path`` is skipped."""
    return (
        f"needs BeatAPI's published contract, not found at {path}: it lives beside the repository "
        "(../shared/beatapi/) and is never copied into it, so a fresh clone skips this test; "
        "set BEATAPI_SHARED_DIR to a copy to run it (README: 'Contract tests')"
    )


def require(path: Path) -> Path:
    """Return ``path``, or skip the calling test with the reason when it is absent."""
    if not path.exists():
        pytest.skip(missing_reason(path))
    return path
