"""The public surface of ``beatapi_async`` is pinned: SDK.md's names, sorted, importable."""

from __future__ import annotations

import inspect
import re

import beatapi_async
from beatapi_async import _exceptions

# The response models SDK.md names.
RESPONSE_MODELS = (
    "Workflow",
    "Task",
    "TaskUsage",
    "TaskOutput",
    "Media",
    "Storyboard",
    "StoryboardShot",
    "ShotMedia",
    "File",
    "Usage",
    "WebhookEndpoint",
    "WebhookEvent",
    "RealtimeSession",
    "Deleted",
)

# Every name SDK.md fixes ("Public surface", "Configuration", "Errors").
SDK_NAMES = {
    "AsyncBeatAPI",
    "Timeouts",
    "PollPolicy",
    "wait_for_task",
    "MusicVideoRequest",
    "EcommerceVideoRequest",
    *RESPONSE_MODELS,
    # errors
    "BeatAPIError",
    "BadRequestError",
    "AuthenticationError",
    "InsufficientCreditsError",
    "PermissionDeniedError",
    "NotFoundError",
    "ConflictError",
    "RateLimitError",
    "ConcurrencyLimitError",
    "ServiceUnavailableError",
    "InternalServerError",
    "APIConnectionError",
    "APITimeoutError",
    "InvalidResponseError",
    "RequestValidationError",
    "TaskFailedError",
    "WaitTimeoutError",
    "WebhookVerificationError",
    "CoordinationError",
}

# The whole of __all__ today; a change here is a deliberate change of the public API.
PINNED = [
    "NOT_GIVEN",
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AiohttpTransport",
    "AsyncBeatAPI",
    "AuthenticationError",
    "BadRequestError",
    "BeatAPIError",
    "BodyOptions",
    "ConcurrencyLimitError",
    "ConflictError",
    "CoordinationError",
    "Coordinator",
    "CreditAdmission",
    "CreditCap",
    "Deleted",
    "EcommerceVideoRequest",
    "Estimate",
    "File",
    "Gate",
    "InsufficientCreditsError",
    "InternalServerError",
    "InvalidResponseError",
    "Lease",
    "LocalCreditAdmission",
    "LocalGate",
    "LocalPollBudget",
    "Media",
    "MusicVideoRequest",
    "NotFoundError",
    "PermissionDeniedError",
    "PollBudget",
    "PollPolicy",
    "RateLimitError",
    "RawResponse",
    "RealtimeCredits",
    "RealtimeSession",
    "RealtimeUsage",
    "Request",
    "RequestOptions",
    "RequestValidationError",
    "Response",
    "ServiceUnavailableError",
    "ShotMedia",
    "Storyboard",
    "StoryboardShot",
    "Task",
    "TaskFailedError",
    "TaskOutput",
    "TaskRequest",
    "TaskStatus",
    "TaskUsage",
    "Timeouts",
    "Transport",
    "Usage",
    "UsageConcurrency",
    "WaitTimeoutError",
    "WebhookEndpoint",
    "WebhookEvent",
    "WebhookVerificationError",
    "Workflow",
    "WorkflowUsage",
    "__version__",
    "wait_for_task",
]


def test_all_is_pinned() -> None:
    assert beatapi_async.__all__ == PINNED


def test_all_is_sorted() -> None:
    # isort-style: constants, then classes, then functions/dunders (what ruff's RUF022 keeps).
    names = list(beatapi_async.__all__)
    assert len(names) == len(set(names))
    consts = [n for n in names if n.isupper()]
    others = [n for n in names if not n.isupper()]
    assert names == consts + others
    assert others == sorted(others, key=lambda n: (n.startswith("_") or n[0].islower(), n))


def test_every_name_importable() -> None:
    for name in beatapi_async.__all__:
        assert getattr(beatapi_async, name) is not None, name
    ns: dict[str, object] = {}
    exec("from beatapi_async import *", ns)
    assert set(beatapi_async.__all__) <= set(ns)


def test_sdk_names_are_public() -> None:
    assert set(beatapi_async.__all__) >= SDK_NAMES


def test_unknown_attribute() -> None:
    try:
        beatapi_async.no_such_name  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected AttributeError")


def test_version() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+([a-z0-9.+-]*)?", beatapi_async.__version__)


def test_wait_for_task_is_the_client_method() -> None:
    from beatapi_async.waiting import wait_for_task

    assert beatapi_async.wait_for_task is wait_for_task
    assert inspect.iscoroutinefunction(beatapi_async.wait_for_task)
    assert inspect.iscoroutinefunction(beatapi_async.AsyncBeatAPI.wait_for_task)


def test_error_tree_is_shallow_and_rooted() -> None:
    for name in beatapi_async.__all__:
        obj = getattr(beatapi_async, name)
        if inspect.isclass(obj) and issubclass(obj, Exception):
            assert issubclass(obj, beatapi_async.BeatAPIError), name
            depth = obj.__mro__.index(beatapi_async.BeatAPIError)
            assert depth <= 2, f"{name} is {depth} levels below BeatAPIError"
    assert issubclass(beatapi_async.RequestValidationError, ValueError)
    assert issubclass(beatapi_async.WaitTimeoutError, TimeoutError)
    assert issubclass(beatapi_async.APITimeoutError, TimeoutError)
    # The docstring draws the tree; every error class is in it.
    doc = _exceptions.__doc__ or ""
    for name, obj in vars(_exceptions).items():
        if inspect.isclass(obj) and issubclass(obj, beatapi_async.BeatAPIError):
            assert name in doc, name


def test_models_are_frozen_and_slotted() -> None:
    import attrs

    for name in RESPONSE_MODELS:
        cls = getattr(beatapi_async, name)
        assert attrs.has(cls), name
        assert "__slots__" in vars(cls), name
        assert cls.__setattr__ is not object.__setattr__, name  # frozen


def test_import_stays_light() -> None:
    """``import beatapi_async`` loads neither the CLI, the emulator, cattrs nor tenacity (import time)."""
    import subprocess
    import sys

    probe = (
        "import sys, beatapi_async; "
        "print(sorted(m for m in ('cattrs', 'tenacity', 'click', 'rich', 'beatapi_async.cli', "
        "'beatapi_async.testing', 'beatapi_async.waiting') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "[]"
