"""beatapi-async: the async-first Python SDK for BeatAPI.

    from beatapi_async import AsyncBeatAPI

    async with AsyncBeatAPI() as client:
        task = await client.run(MusicVideoRequest(images=[...], audio_url=...))

``import beatapi_async`` loads what a client and a task read need; the other public
names (the create requests, the other resources' models, waiting, pricing, raw
responses, the gate, budget and credit kinds) load on first use (PEP 562
``__getattr__`` below), so a program pays only for what it touches.
"""

from typing import TYPE_CHECKING

from ._client import AsyncBeatAPI
from ._config import NOT_GIVEN, PollPolicy, Timeouts
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    BeatAPIError,
    ConcurrencyLimitError,
    ConflictError,
    CoordinationError,
    InsufficientCreditsError,
    InternalServerError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RequestValidationError,
    ServiceUnavailableError,
    TaskFailedError,
    WaitTimeoutError,
    WebhookVerificationError,
)
from ._lazy import lazy_attributes as _lazy_attributes
from ._models import Media, Storyboard, StoryboardShot, Task, TaskOutput, TaskStatus, TaskUsage
from ._options import BodyOptions, RequestOptions
from ._protocol import Request, Response
from ._transport import AiohttpTransport, Transport
from ._version import __version__

if TYPE_CHECKING:
    # What ``__getattr__`` loads, as the type checker should see it.
    from ._budget import LocalPollBudget, PollBudget
    from ._credits import CreditAdmission, CreditCap
    from ._gate import Coordinator, Gate, Lease, LocalGate
    from ._ledger import LocalCreditAdmission
    from ._models import (
        Deleted,
        EcommerceVideoRequest,
        File,
        MusicVideoRequest,
        RealtimeCredits,
        RealtimeSession,
        RealtimeUsage,
        ShotMedia,
        TaskRequest,
        Usage,
        UsageConcurrency,
        WebhookEndpoint,
        WebhookEvent,
        Workflow,
        WorkflowUsage,
    )
    from ._pricing import Estimate
    from ._raw import RawResponse
    from .waiting import wait_for_task

__all__ = [
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

# The public names loaded on first use, by the module that provides them.
_LAZY = {
    "LocalPollBudget": "._budget",
    "PollBudget": "._budget",
    "CreditAdmission": "._credits",
    "CreditCap": "._credits",
    "Coordinator": "._gate",
    "Gate": "._gate",
    "Lease": "._gate",
    "LocalGate": "._gate",
    "LocalCreditAdmission": "._ledger",
    **dict.fromkeys(
        ("Deleted", "EcommerceVideoRequest", "File", "MusicVideoRequest", "RealtimeCredits", "RealtimeSession",
         "RealtimeUsage", "ShotMedia", "TaskRequest", "Usage", "UsageConcurrency", "WebhookEndpoint",
         "WebhookEvent", "Workflow", "WorkflowUsage"),
        "._models",
    ),
    "Estimate": "._pricing",
    "RawResponse": "._raw",
    "wait_for_task": ".waiting",
}  # fmt: skip


if not TYPE_CHECKING:  # type checkers see the real names (imported above for them) and flag a typo
    __getattr__, __dir__ = _lazy_attributes(globals(), _LAZY, listed=__all__)
