"""The emulator's own OpenAPI 3.1 document, served at ``GET /openapi.json``.

Written here from the emulator's rules (``_rules``, ``_mime``) so that users
generating clients in other languages can point their tools at a running
emulator. It describes what the emulator serves; BeatAPI's published contract
stays the reference. A test keeps its operations in step with the router.
"""

from __future__ import annotations

from typing import Any

from .. import _mime
from .. import _rules as R
from .._version import __version__

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _enum(values: tuple[Any, ...] | frozenset[str], kind: str = "string") -> dict[str, Any]:
    return {"type": kind, "enum": sorted(values) if isinstance(values, frozenset) else list(values)}


def _int(low: int, high: int) -> dict[str, Any]:
    return {"type": "integer", "minimum": low, "maximum": high}


def _text(max_length: int) -> dict[str, Any]:
    return {"type": "string", "maxLength": max_length}


def _obj(required: list[str], props: dict[str, Any], **extra: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, **extra}
    if required:
        schema["required"] = required
    return schema


def _data(schema: dict[str, Any]) -> dict[str, Any]:
    return _obj(["data"], {"data": schema})


def _list(item: str) -> dict[str, Any]:
    return _data(_obj(["object", "data"], {"object": _enum(("list",)), "data": {"type": "array", "items": _ref(item)}}))


_URI = {"type": "string", "format": "uri"}
_IMAGES = {"type": "array", "minItems": R.IMAGES_MIN, "maxItems": R.IMAGES_MAX, "items": _URI}
_MEDIA = _obj(["type", "url", "mime_type"], {"type": _enum(("video",)), "url": _URI, "mime_type": {"type": "string"}})
_NULL_INT = {"type": ["integer", "null"]}
_NULL_STR = {"type": ["string", "null"]}
_EVENTS = {"type": "array", "items": _enum(R.WEBHOOK_EVENTS)}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        ["error"],
        {
            "error": _obj(
                ["code", "message", "request_id"],
                {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "request_id": {"type": "string"},
                    "retry_after_seconds": {"type": "integer"},
                    "retryable": {"type": "boolean"},
                    "details": {"type": "object"},
                },
            )
        },
    ),
    "Workflow": _obj(
        ["id", "object", "name", "description"],
        {
            "id": _enum(R.WORKFLOWS),
            "object": _enum(("workflow",)),
            "name": {"type": "string"},
            "description": {"type": "string"},
        },
    ),
    "TaskStatus": _enum(frozenset(R.TASK_STATUSES)),
    "StoryboardShot": _obj(
        ["id", "index", "status", "created_at", "updated_at"],
        {
            "id": {"type": "string"},
            "index": {"type": "integer"},
            "status": _ref("TaskStatus"),
            "duration_seconds": {"type": "integer"},
            "prompt": {"type": "string"},
            "lyric_text": {"type": "string"},
            "media": _MEDIA,
            "created_at": {"type": "integer"},
            "updated_at": {"type": "integer"},
        },
    ),
    "TaskUsage": _obj(
        ["credits_reserved", "credits_charged", "credits_settled", "credits_refunded"],
        {
            name: {"type": "number"}
            for name in (
                "credits_reserved",
                "credits_charged",
                "billable_duration_seconds",
                "credits_settled",
                "credits_refunded",
            )
        },
    ),
    "Task": _obj(
        [
            "id",
            "object",
            "workflow",
            "status",
            "stage",
            "created_at",
            "updated_at",
            "completed_at",
            "output",
            "usage",
            "request_id",
            "error_code",
            "error_message",
        ],
        {
            "id": {"type": "string"},
            "object": _enum(("task",)),
            "workflow": _enum(R.WORKFLOWS),
            "status": _ref("TaskStatus"),
            "stage": _ref("TaskStatus"),
            "storyboard": _obj(["shots"], {"shots": {"type": "array", "items": _ref("StoryboardShot")}}),
            "created_at": {"type": "integer"},
            "updated_at": {"type": "integer"},
            "completed_at": _NULL_INT,
            "output": {
                "oneOf": [
                    {"type": "null"},
                    _obj(["media"], {"media": {"type": "array", "items": _MEDIA}, "r2_url": _URI}),
                ]
            },
            "usage": _ref("TaskUsage"),
            "request_id": {"type": "string"},
            "error_code": _NULL_STR,
            "error_message": _NULL_STR,
            "poll_after_seconds": {"type": "number", "description": "Real seconds until the next useful poll."},
        },
    ),
    "ShotMedia": _obj(
        ["object", "task_id", "shot_id", "index", "status", "media", "created_at", "updated_at", "request_id"],
        {
            "object": _enum(("shot_media",)),
            "task_id": {"type": "string"},
            "shot_id": {"type": "string"},
            "index": {"type": "integer"},
            "status": _ref("TaskStatus"),
            "media": _MEDIA,
            "created_at": {"type": "integer"},
            "updated_at": {"type": "integer"},
            "request_id": {"type": "string"},
        },
    ),
    "File": _obj(
        ["id", "object", "url", "key", "mime_type", "size_bytes", "purpose", "created_at"],
        {
            "id": {"type": "string"},
            "object": _enum(("file",)),
            "url": _URI,
            "key": {"type": "string"},
            "mime_type": _enum(_mime.ACCEPTED_MIME_TYPES),
            "size_bytes": {"type": "integer"},
            "audio_duration_seconds": {"type": "number"},
            "audio_duration_source": {"type": "string"},
            "purpose": _enum(("input",)),
            "created_at": {"type": "integer"},
        },
    ),
    "Usage": _obj(
        [
            "object",
            "credit_balance",
            "total_tasks",
            "credits_settled",
            "credits_refunded",
            "concurrency",
            "by_workflow",
        ],
        {
            "object": _enum(("usage",)),
            "credit_balance": {"type": "number"},
            "total_tasks": {"type": "integer"},
            "credits_settled": {"type": "number"},
            "credits_refunded": {"type": "number"},
            "concurrency": _obj(["limit", "active"], {"limit": {"type": "integer"}, "active": {"type": "integer"}}),
            "realtime": _obj(
                ["sessions", "credits", "active"],
                {"sessions": {"type": "integer"}, "credits": {"type": "number"}, "active": {"type": "integer"}},
            ),
            "by_workflow": {
                "type": "array",
                "items": _obj(
                    ["workflow", "tasks", "credits_settled"],
                    {
                        "workflow": _enum(R.WORKFLOWS),
                        "tasks": {"type": "integer"},
                        "credits_settled": {"type": "number"},
                    },
                ),
            },
        },
    ),
    "WebhookEndpoint": _obj(
        ["id", "object", "url", "description", "events", "status", "secret", "created_at", "updated_at"],
        {
            "id": {"type": "string"},
            "object": _enum(("webhook_endpoint",)),
            "url": _URI,
            "description": {"type": "string"},
            "events": _EVENTS,
            "status": _enum(R.WEBHOOK_STATUSES),
            "secret": {"type": "string", "description": "Whole only in the create answer; masked later."},
            "created_at": {"type": "integer"},
            "updated_at": {"type": "integer"},
        },
    ),
    "RealtimeSession": _obj(
        [
            "id",
            "object",
            "status",
            "expires_at",
            "max_duration_seconds",
            "allowed_origins",
            "credits",
            "request_id",
            "created_at",
            "connected_at",
            "closed_at",
        ],
        {
            "id": {"type": "string", "pattern": "^rts_"},
            "object": _enum(("realtime.session",)),
            "status": _enum(R.REALTIME_STATUSES),
            "client_secret": {"type": "string", "pattern": "^brt_live_"},
            "expires_at": {"type": "string", "format": "date-time"},
            "max_duration_seconds": _enum(R.REALTIME_DURATIONS, "integer"),
            "allowed_origins": {"type": "array", "items": _URI},
            "credits": _obj(
                ["reserved", "settled", "refunded"],
                {k: {"type": "number"} for k in ("reserved", "settled", "refunded")},
            ),
            "request_id": {"type": "string"},
            "created_at": {"type": "string", "format": "date-time"},
            "connected_at": {"type": ["string", "null"], "format": "date-time"},
            "closed_at": {"type": ["string", "null"], "format": "date-time"},
        },
    ),
}

# Request bodies: no field is nullable; integers may be written 18.0.
_MUSIC_VIDEO = _obj(
    ["images", "audio_url"],
    {"images": _IMAGES, "audio_url": _URI, "prompt": _text(R.MV_PROMPT_MAX), "language": _enum(R.LANGUAGES),
     "lip_sync": {"type": "boolean"}, "lip_ref_url": _URI, "style": _text(R.MV_STYLE_MAX),
     "quality": _enum(R.QUALITIES), "aspect_ratio": _enum(R.MV_ASPECT_RATIOS), "resolution": _enum(R.RESOLUTIONS),
     "add_subtitle": {"type": "boolean"},
     "subtitle_color": {"type": "string", "pattern": f"^{R.SUBTITLE_COLOR_PATTERN}$"},
     "srt_url": _URI, "duration": _int(*R.MV_DURATION_RANGE), "compose_mode": _enum(R.COMPOSE_MODES)},
)  # fmt: skip
_ECOMMERCE_VIDEO = _obj(
    ["images", "duration"],
    {"images": _IMAGES, "duration": _int(*R.EC_DURATION_RANGE), "prompt": _text(R.EC_PROMPT_MAX),
     "aspect_ratio": _enum(R.EC_ASPECT_RATIOS), "language": _enum(R.LANGUAGES)},
)  # fmt: skip
_SHOT_EDIT = _obj(
    ["prompt"],
    {"prompt": {"type": "string", "minLength": 1, "maxLength": R.EDIT_PROMPT_MAX},
     "duration": _int(*R.EDIT_DURATION_RANGE), "quality": _enum(R.QUALITIES), "resolution": _enum(R.RESOLUTIONS)},
)  # fmt: skip
_COMPOSE = _obj(["shot_ids"], {"shot_ids": {"type": "array", "minItems": 1, "items": {"type": "string"}}})
_WEBHOOK_CREATE = _obj(["url"], {"url": _URI, "description": _text(1000), "events": _EVENTS})
_WEBHOOK_UPDATE = _obj(
    [], {"url": _URI, "description": _text(1000), "events": _EVENTS, "status": _enum(R.WEBHOOK_STATUSES)},
    minProperties=1,
)  # fmt: skip
_SESSION = _obj(
    ["max_duration_seconds", "allowed_origins"],
    {"max_duration_seconds": _enum(R.REALTIME_DURATIONS, "integer"),
     "allowed_origins": {"type": "array", "minItems": R.REALTIME_ORIGINS_RANGE[0],
                         "maxItems": R.REALTIME_ORIGINS_RANGE[1], "items": _URI,
                         "description": "Exact origins (scheme://host[:port]); no wildcards."},
     "metadata": {"type": "object", "maxProperties": R.REALTIME_METADATA_MAX_KEYS,
                  "propertyNames": {"maxLength": R.REALTIME_METADATA_KEY_MAX},
                  "additionalProperties": _text(R.REALTIME_METADATA_VALUE_MAX)}},
)  # fmt: skip
_UPLOAD = _obj(["file"], {"file": {"type": "string", "format": "binary"}, "purpose": _enum(("input",))})

# (path, method, operationId, request schema, success status, success schema, public)
OPERATIONS: list[tuple[str, str, str, dict[str, Any] | None, int, dict[str, Any], bool]] = [
    ("/v1/workflows", "get", "listWorkflows", None, 200, _list("Workflow"), True),
    ("/v1/music-video/tasks", "post", "createMusicVideoTask", _MUSIC_VIDEO, 201, _data(_ref("Task")), False),
    ("/v1/music-video/tasks/{task_id}/shots/{shot_id}/edit", "post", "editMusicVideoShot", _SHOT_EDIT, 202,
     _data(_ref("Task")), False),
    ("/v1/music-video/tasks/{task_id}/shots/{shot_id}/media", "post", "getMusicVideoShotMedia", None, 200,
     _data(_ref("ShotMedia")), False),
    ("/v1/music-video/tasks/{task_id}/compose", "post", "composeMusicVideoTask", _COMPOSE, 202,
     _data(_ref("Task")), False),
    ("/v1/ecommerce-video/tasks", "post", "createEcommerceVideoTask", _ECOMMERCE_VIDEO, 201, _data(_ref("Task")),
     False),
    ("/v1/tasks/{task_id}", "get", "getTask", None, 200, _data(_ref("Task")), False),
    ("/v1/usage", "get", "getUsage", None, 200, _data(_ref("Usage")), False),
    ("/v1/files", "post", "uploadFile", _UPLOAD, 201, _data(_ref("File")), False),
    ("/v1/webhooks", "get", "listWebhookEndpoints", None, 200, _list("WebhookEndpoint"), False),
    ("/v1/webhooks", "post", "createWebhookEndpoint", _WEBHOOK_CREATE, 201, _data(_ref("WebhookEndpoint")), False),
    ("/v1/webhooks/{id}", "get", "getWebhookEndpoint", None, 200, _data(_ref("WebhookEndpoint")), False),
    ("/v1/webhooks/{id}", "patch", "updateWebhookEndpoint", _WEBHOOK_UPDATE, 200, _data(_ref("WebhookEndpoint")),
     False),
    ("/v1/webhooks/{id}", "delete", "deleteWebhookEndpoint", None, 200,
     _data(_obj(["id", "deleted"], {"id": {"type": "string"}, "deleted": {"type": "boolean"}})), False),
    ("/v1/realtime/sessions", "post", "createRealtimeSession", _SESSION, 201, _data(_ref("RealtimeSession")), False),
    ("/v1/realtime/sessions/{session_id}", "get", "getRealtimeSession", None, 200, _data(_ref("RealtimeSession")),
     False),
    ("/v1/realtime/sessions/{session_id}", "delete", "closeRealtimeSession", None, 200,
     _data(_ref("RealtimeSession")), False),
]  # fmt: skip

_ERRORS = {
    "400": "Invalid request.",
    "401": "Missing or invalid API key.",
    "402": "Insufficient credits.",
    "404": "Not found.",
    "409": "Idempotency conflict.",
    "413": "Request body too large.",
    "429": "Rate or concurrency limit exceeded.",
    "503": "Temporarily unavailable.",
}


def _operation(path: str, op_id: str, request: dict[str, Any] | None, status: int, schema: dict[str, Any],
               public: bool) -> dict[str, Any]:  # fmt: skip
    responses: dict[str, Any] = {str(status): {"description": "Success", "content": {JSON: {"schema": schema}}}}
    for code, text in _ERRORS.items():
        if public and code == "401":
            continue
        responses[code] = {"description": text, "content": {JSON: {"schema": _ref("Error")}}}
    operation: dict[str, Any] = {"operationId": op_id, "responses": responses}
    operation["security"] = [] if public else [{"BearerAuth": []}]
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    if names:
        operation["parameters"] = [
            {"in": "path", "name": n, "required": True, "schema": {"type": "string"}} for n in names
        ]
    if op_id in ("createRealtimeSession", "createMusicVideoTask", "createEcommerceVideoTask",
                 "editMusicVideoShot", "composeMusicVideoTask"):  # fmt: skip
        operation.setdefault("parameters", []).append(
            {"in": "header", "name": "Idempotency-Key", "required": op_id == "createRealtimeSession",
             "schema": {"type": "string", "minLength": 1, "maxLength": R.IDEMPOTENCY_KEY_MAX}}
        )  # fmt: skip
    if op_id == "getUsage":
        operation["parameters"] = [{"in": "query", "name": "period", "schema": _enum(R.USAGE_PERIODS)}]
    if request is not None:
        media = "multipart/form-data" if op_id == "uploadFile" else JSON
        operation["requestBody"] = {"required": True, "content": {media: {"schema": request}}}
    return operation


def document(server_url: str) -> dict[str, Any]:
    """Return the OpenAPI document of an emulator serving at ``server_url``."""
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op_id, request, status, schema, public in OPERATIONS:
        paths.setdefault(path, {})[method] = _operation(path, op_id, request, status, schema, public)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FakeBeatAPI (beatapi-async emulator)",
            "version": __version__,
            "description": "An offline BeatAPI for tests. BeatAPI's published contract is the reference.",
        },
        "servers": [{"url": server_url}] if server_url else [],
        "components": {
            "securitySchemes": {"BearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": paths,
    }
