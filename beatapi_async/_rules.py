"""BeatAPI's input rules, as data (the price list is ``_pricing``).

One place for the facts both sides need: the client checks them before sending
(``_validate``), and the emulator (``testing``) enforces them as the server does.
Sources: the launch contract (``openapi.yaml``) and BeatAPI's notes on limits,
uploads and pricing.
"""

from __future__ import annotations

from typing import Final

from . import _mime

# -- task statuses (contract: TaskStatus) -------------------------------------
TERMINAL_STATUSES: Final = frozenset({"succeeded", "failed"})
# The user must act (pick shots, edit, compose); these do not count toward the
# account's concurrency limit.
ACTIONABLE_STATUSES: Final = frozenset({"storyboard_ready", "requires_action"})
RUNNING_STATUSES: Final = frozenset({"queued", "processing", "editing", "composing"})
TASK_STATUSES: Final = TERMINAL_STATUSES | ACTIONABLE_STATUSES | RUNNING_STATUSES

WORKFLOWS: Final = ("music-video", "ecommerce-video")

# -- Music Video create ---------------------------------------------------------
IMAGES_MIN: Final = 1
IMAGES_MAX: Final = 7
MV_PROMPT_MAX: Final = 3000
MV_STYLE_MAX: Final = 200
MV_DURATION_RANGE: Final = (10, 180)
LANGUAGES: Final = ("en", "zh")
QUALITIES: Final = ("standard", "high")
RESOLUTIONS: Final = ("540p", "720p", "1080p")
MV_ASPECT_RATIOS: Final = ("1:1", "16:9", "9:16", "4:3", "3:4")
COMPOSE_MODES: Final = ("auto", "manual")
SUBTITLE_COLOR_PATTERN: Final = r"#[0-9A-Fa-f]{6}"

# -- shot edit / compose ---------------------------------------------------------
EDIT_PROMPT_MAX: Final = 3000
EDIT_DURATION_RANGE: Final = (1, 180)
EDIT_DEFAULT_DURATION: Final = 5

# -- Ecommerce Video create ------------------------------------------------------
EC_DURATION_RANGE: Final = (10, 60)
EC_PROMPT_MAX: Final = 2000
EC_ASPECT_RATIOS: Final = ("16:9", "9:16", "1:1")

# -- webhooks --------------------------------------------------------------------
WEBHOOK_EVENTS: Final = ("task.succeeded", "task.failed")
WEBHOOK_STATUSES: Final = ("active", "disabled")
# Signed headers (NOTES: Webhooks).
HEADER_EVENT: Final = "x-beatapi-event"
HEADER_TIMESTAMP: Final = "x-beatapi-timestamp"
HEADER_SIGNATURE: Final = "x-beatapi-signature"
SIGNATURE_TOLERANCE_SECONDS: Final = 300

# -- realtime ----------------------------------------------------------------------
REALTIME_DURATIONS: Final = (15, 60, 300)
REALTIME_ORIGINS_RANGE: Final = (1, 10)
REALTIME_METADATA_MAX_KEYS: Final = 20
REALTIME_METADATA_KEY_MAX: Final = 64
REALTIME_METADATA_VALUE_MAX: Final = 256
REALTIME_STATUSES: Final = ("ready", "connecting", "active", "closed", "failed", "expired")
IDEMPOTENCY_KEY_MAX: Final = 128

# -- usage -------------------------------------------------------------------------
USAGE_PERIODS: Final = ("24h", "7d", "30d", "all")

# -- files (contract: POST /v1/files) ----------------------------------------------
MAX_UPLOAD_BYTES: Final = 50 * 1024 * 1024
AUDIO_DURATION_RANGE: Final = (10, 180)
# The upload type table lives in ``_mime`` (one table for the client and the emulator).
MIME_BY_EXTENSION: Final = _mime.MIME_BY_EXTENSION
ACCEPTED_MIME_TYPES: Final = _mime.ACCEPTED_MIME_TYPES
AUDIO_MIME_TYPES: Final = _mime.AUDIO_MIME_TYPES
IMAGE_MIME_TYPES: Final = _mime.IMAGE_MIME_TYPES

# Launch pricing: the price table lives in ``_pricing`` (shared by the SDK and the emulator).
