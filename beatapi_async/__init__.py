"""beatapi-async: the async-first Python SDK for BeatAPI.

    from beatapi_async import AsyncBeatAPI

    async with AsyncBeatAPI() as client:
        task = await client.run(MusicVideoRequest(images=[...], audio_url=...))
"""

from ._budget import LocalPollBudget, PollBudget
from ._client import AsyncBeatAPI
from ._config import NOT_GIVEN, PollPolicy, Timeouts
from ._credits import CreditAdmission, CreditCap
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
from ._gate import Coordinator, Gate, Lease, LocalGate
from ._ledger import LocalCreditAdmission
from ._models import (
    Deleted,
    EcommerceVideoRequest,
    File,
    Media,
    MusicVideoRequest,
    RealtimeCredits,
    RealtimeSession,
    RealtimeUsage,
    ShotMedia,
    Storyboard,
    StoryboardShot,
    Task,
    TaskOutput,
    TaskRequest,
    TaskStatus,
    TaskUsage,
    Usage,
    UsageConcurrency,
    WebhookEndpoint,
    WebhookEvent,
    Workflow,
    WorkflowUsage,
)
from ._options import BodyOptions, RequestOptions
from ._pricing import Estimate
from ._protocol import Request, Response
from ._raw import RawResponse
from ._transport import AiohttpTransport, Transport
from ._version import __version__

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


def __getattr__(name: str) -> object:
    # The waiting module is imported on first use, keeping `import beatapi_async` light.
    if name == "wait_for_task":
        from .waiting import wait_for_task

        return wait_for_task
    raise AttributeError(f"module 'beatapi_async' has no attribute {name!r}")
