"""The emulator's HTTP layer: one catch-all aiohttp handler that records, faults, routes and renders.

Routing is a small table of regular expressions over the *raw* path, so a
percent-encoded id (``rts_a%2Fb``) stays one path segment and is decoded only
after matching. Unknown paths answer 404 and known paths with another method
405, both in BeatAPI's error envelope.
"""

from __future__ import annotations

import asyncio
import hmac
import re
import time
from collections.abc import Callable, Collection
from typing import Any
from urllib.parse import unquote

import attrs
from aiohttp import web
from multidict import CIMultiDict

from .. import _rules as R
from .. import _validate as V
from .._logging import get_logger
from ._files import disposition_filename, file_at, split_multipart
from ._http import (
    CODE_BY_STATUS,
    ApiError,
    bad_request,
    data_response,
    error_response,
    json_response,
    list_response,
    loads,
    new_id,
    parse_json_object,
    request_fields,
)
from ._openapi import document
from ._records import RecordedRequest
from ._state import Emulator
from ._views import WORKFLOWS

logger = get_logger("beatapi_async.testing")

EMULATOR_KEY: web.AppKey[Emulator] = web.AppKey("emulator", Emulator)

# A tiny MP4 (an ``ftyp`` box) served for output and shot media URLs.
PLACEHOLDER_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"


@attrs.frozen(kw_only=True)
class Call:
    """One request as handlers see it."""

    request: web.Request
    request_id: str
    path: str  # raw (percent-encoded) path, without the query
    body: bytes
    parsed: Any = None  # the body already decoded as JSON for the record, if it was
    params: tuple[str, ...] = ()

    def json(self, known: Collection[str]) -> dict[str, Any]:
        """Return the body as a JSON object (``known`` fields: null refused, 18.0 read as 18) or raise 400."""
        body = self.parsed if isinstance(self.parsed, dict) else parse_json_object(self.body)
        return request_fields(body, known)  # a copy: the record keeps its own


Handler = Callable[[Emulator, Call], web.StreamResponse]


def _data(call: Call, result: tuple[int, Any]) -> web.Response:
    status, data = result
    return data_response(status, data, call.request_id)


# Fields each JSON request schema names (contract: requestBody schemas); the rest are ignored.
SHOT_EDIT_FIELDS = ("prompt", "duration", "quality", "resolution")
COMPOSE_FIELDS = ("shot_ids",)
WEBHOOK_FIELDS = ("url", "description", "events")
SESSION_FIELDS = ("max_duration_seconds", "allowed_origins", "metadata")


# -- handlers ---------------------------------------------------------------------------
def list_workflows(emu: Emulator, call: Call) -> web.StreamResponse:
    return list_response([dict(w) for w in WORKFLOWS], call.request_id)


def create_music_video(emu: Emulator, call: Call) -> web.StreamResponse:
    body = call.json(V.MUSIC_VIDEO_FIELDS)
    return _data(call, emu.create_task("music-video", call.path, call.request.headers, body, call.request_id))


def create_ecommerce_video(emu: Emulator, call: Call) -> web.StreamResponse:
    body = call.json(V.ECOMMERCE_VIDEO_FIELDS)
    return _data(call, emu.create_task("ecommerce-video", call.path, call.request.headers, body, call.request_id))


def edit_shot(emu: Emulator, call: Call) -> web.StreamResponse:
    task_id, shot_id = call.params
    body = call.json(SHOT_EDIT_FIELDS)
    return _data(call, emu.edit_shot(task_id, shot_id, call.path, call.request.headers, body, call.request_id))


def shot_media(emu: Emulator, call: Call) -> web.StreamResponse:
    task_id, shot_id = call.params
    return _data(call, emu.shot_media(task_id, shot_id, call.request_id))


def compose(emu: Emulator, call: Call) -> web.StreamResponse:
    body = call.json(COMPOSE_FIELDS)
    return _data(call, emu.compose(call.params[0], call.path, call.request.headers, body, call.request_id))


def get_task(emu: Emulator, call: Call) -> web.StreamResponse:
    return _data(call, emu.get_task(call.params[0], call.request_id))


def get_usage(emu: Emulator, call: Call) -> web.StreamResponse:
    return _data(call, emu.usage(call.request.query))


def upload_file(emu: Emulator, call: Call) -> web.StreamResponse:
    request = call.request
    if request.content_type == "multipart/form-data":
        parts = split_multipart(call.body, request.headers.get("Content-Type", ""))
        if "file" not in parts:
            raise bad_request("file: is required (a multipart field named 'file')", field="file", rule="is required")
        if "purpose" in parts and parts["purpose"][1].decode("utf-8", "replace").strip() != "input":
            raise bad_request("purpose: must be 'input'", field="purpose", rule="enum")
        headers, data = parts["file"]
        filename = disposition_filename(headers.get("content-disposition"))
        mime = headers.get("content-type")
    else:
        data = call.body
        filename = disposition_filename(request.headers.get("Content-Disposition"))
        # A raw body without a Content-Type is generic: only a Content-Disposition
        # filename with an accepted extension can give it a type.
        mime = request.headers.get("Content-Type")
    return _data(call, emu.upload(data=data, filename=filename, mime_type=mime))


def list_webhooks(emu: Emulator, call: Call) -> web.StreamResponse:
    return list_response([e.json() for e in emu.webhooks.endpoints.values()], call.request_id)


def create_webhook(emu: Emulator, call: Call) -> web.StreamResponse:
    return _data(call, emu.create_webhook(call.json(WEBHOOK_FIELDS)))


def get_webhook(emu: Emulator, call: Call) -> web.StreamResponse:
    return data_response(200, emu.webhooks.get(call.params[0]).json(), call.request_id)


def update_webhook(emu: Emulator, call: Call) -> web.StreamResponse:
    return _data(call, emu.update_webhook(call.params[0], call.json((*WEBHOOK_FIELDS, "status"))))


def delete_webhook(emu: Emulator, call: Call) -> web.StreamResponse:
    return _data(call, emu.delete_webhook(call.params[0]))


def create_session(emu: Emulator, call: Call) -> web.StreamResponse:
    body = call.json(SESSION_FIELDS)
    return _data(call, emu.create_session(call.request.headers, body, call.request_id))


def get_session(emu: Emulator, call: Call) -> web.StreamResponse:
    return _data(call, emu.get_session(call.params[0], call.request_id))


def close_session(emu: Emulator, call: Call) -> web.StreamResponse:
    return _data(call, emu.close_session(call.params[0], call.request_id))


def serve_input(emu: Emulator, call: Call) -> web.StreamResponse:
    stored = file_at(emu.files, "/inputs/" + call.params[0])
    if stored is None:
        raise ApiError(404, "not_found", "File not found.")
    return web.Response(body=stored.data, content_type=stored.mime_type, headers={"x-request-id": call.request_id})


def serve_output(emu: Emulator, call: Call) -> web.StreamResponse:
    task = emu.engine.tasks.get(call.params[0])
    shot_id = call.params[1] if len(call.params) > 1 else None
    ready = task is not None and (
        task.output_path is not None
        if shot_id is None
        else any(s.id == shot_id and s.media_path is not None for s in task.shots)
    )
    if not ready:
        raise ApiError(404, "not_found", "Media not found.")
    return web.Response(body=PLACEHOLDER_MP4, content_type="video/mp4", headers={"x-request-id": call.request_id})


def serve_openapi(emu: Emulator, call: Call) -> web.StreamResponse:
    return json_response(200, document(emu.base_url), call.request_id)


# -- routing ---------------------------------------------------------------------------
_SEGMENT = r"([^/]+)"
# (path pattern, {method: handler}, public: no API key needed); "{}" is one path segment.
_TABLE: list[tuple[str, dict[str, Handler], bool]] = [
    ("/v1/workflows", {"GET": list_workflows}, True),
    ("/v1/music-video/tasks", {"POST": create_music_video}, False),
    ("/v1/music-video/tasks/{}/shots/{}/edit", {"POST": edit_shot}, False),
    ("/v1/music-video/tasks/{}/shots/{}/media", {"POST": shot_media}, False),
    ("/v1/music-video/tasks/{}/compose", {"POST": compose}, False),
    ("/v1/ecommerce-video/tasks", {"POST": create_ecommerce_video}, False),
    ("/v1/tasks/{}", {"GET": get_task}, False),
    ("/v1/usage", {"GET": get_usage}, False),
    ("/v1/files", {"POST": upload_file}, False),
    ("/v1/webhooks", {"GET": list_webhooks, "POST": create_webhook}, False),
    ("/v1/webhooks/{}", {"GET": get_webhook, "PATCH": update_webhook, "DELETE": delete_webhook}, False),
    ("/v1/realtime/sessions", {"POST": create_session}, False),
    ("/v1/realtime/sessions/{}", {"GET": get_session, "DELETE": close_session}, False),
    ("/openapi.json", {"GET": serve_openapi}, True),
    ("/inputs/{}", {"GET": serve_input}, True),
    (r"/outputs/([^/]+)\.mp4", {"GET": serve_output}, True),
    (r"/outputs/{}/shots/([^/]+)\.mp4", {"GET": serve_output}, True),
]
ROUTES = [(re.compile(path.replace("{}", _SEGMENT)), methods, public) for path, methods, public in _TABLE]


def _authorized(emu: Emulator, request: web.Request) -> bool:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(token.strip().encode(), emu.api_key.encode())


def _route(emu: Emulator, call: Call) -> web.StreamResponse:
    request = call.request
    allowed: list[str] = []
    for pattern, methods, public in ROUTES:
        match = pattern.fullmatch(call.path)
        if match is None:
            continue
        method = "GET" if request.method == "HEAD" else request.method
        handler = methods.get(method)
        if handler is None:
            allowed.extend(methods)
            continue
        if not public and not _authorized(emu, request):
            raise ApiError(401, "unauthorized", "Missing or invalid API key.")
        emu.advance()
        params = tuple(unquote(g) for g in match.groups())
        return handler(emu, attrs.evolve(call, params=params))
    if allowed:
        error = ApiError(405, "bad_request", f"{request.method} is not allowed on {call.path}.")
        response = error_response(error, call.request_id)
        response.headers["Allow"] = ", ".join(sorted(set(allowed)))
        return response
    raise ApiError(404, "not_found", f"No route for {request.method} {call.path}.")


# Bodies larger than these are refused with 413 from their Content-Length, before
# anything is read (NOTES "Files": at most 50 MB; JSON bodies are a few kilobytes).
MULTIPART_SLACK_BYTES = 64 * 1024
JSON_BODY_MAX_BYTES = 1024 * 1024


def body_limit(path: str) -> int:
    """The most bytes a request body to ``path`` may have."""
    return R.MAX_UPLOAD_BYTES + MULTIPART_SLACK_BYTES if path == "/v1/files" else JSON_BODY_MAX_BYTES


def _too_large(limit: int) -> ApiError:
    return ApiError(
        413,
        "bad_request",
        f"The request body is too large (at most {limit} bytes here; uploads at most 50 MB).",
        details={"field": "file", "rule": "size"},
    )


async def _read_body(request: web.Request, limit: int) -> bytes:
    """Read the body, refusing (413) from Content-Length, or as soon as a chunked body passes ``limit``."""
    if request.content_length is not None and request.content_length > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await request.content.read(256 * 1024)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)


async def dispatch(request: web.Request) -> web.StreamResponse:
    """Handle any request: record it, apply a fault if one matches, route it, render errors."""
    emu = request.app[EMULATOR_KEY]
    request_id = new_id("req_")
    path = request.raw_path.split("?", 1)[0]
    try:
        body = await _read_body(request, body_limit(path))
    except ApiError as error:
        refused = error_response(error, request_id)
        # The rest of the body is never read: the connection cannot be reused.
        refused.force_close()
        return refused
    record = RecordedRequest(
        method=request.method,
        path=path,
        query=dict(request.query),
        headers=CIMultiDict(request.headers),
        body=RecordedRequest.summarise(body),
        size=len(body),
        json=_maybe_json(body, request.content_type),
        time=time.monotonic(),
        request_id=request_id,
    )
    emu.record(record)
    call = Call(request=request, request_id=request_id, path=path, body=body, parsed=record.json)

    fault = emu.faults.take(request.method, (path, request.path))
    if fault is not None and not fault.after:
        if fault.stall:
            await asyncio.sleep(fault.stall)
        if fault.answers:
            return _finish(record, fault.response(request, request_id), fault.reset)
    try:
        response = _route(emu, call)
    except ApiError as error:
        response = error_response(error, request_id)
    except Exception as exc:  # an emulator bug: still answer in BeatAPI's envelope
        logger.exception("FakeBeatAPI failed on %s %s", request.method, path)
        response = error_response(ApiError(500, "internal_error", f"Emulator error: {exc!r}"), request_id)
    if fault is not None and fault.after:
        if fault.stall:
            await asyncio.sleep(fault.stall)
        if fault.answers:
            return _finish(record, fault.response(request, request_id), fault.reset)
    return _finish(record, response, False)


def _finish(record: RecordedRequest, response: web.StreamResponse, reset: bool) -> web.StreamResponse:
    record.status = None if reset else response.status
    return response


def _maybe_json(body: bytes, content_type: str) -> Any:
    if not body or "json" not in content_type:
        return None
    try:
        return loads(body)
    except ApiError:
        return None


@web.middleware
async def _envelope(request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
    """Answer what aiohttp itself refuses (no route, a bad body size) in BeatAPI's error envelope too."""
    try:
        response: web.StreamResponse = await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        code = CODE_BY_STATUS.get(exc.status, "internal_error" if exc.status >= 500 else "bad_request")
        return error_response(ApiError(exc.status, code, exc.reason), new_id("req_"))
    return response


def make_app(emu: Emulator) -> web.Application:
    """Return the aiohttp application serving ``emu``."""
    # The dispatcher reads bodies itself, within body_limit(); this only backs it up.
    app = web.Application(client_max_size=R.MAX_UPLOAD_BYTES + MULTIPART_SLACK_BYTES, middlewares=[_envelope])
    app[EMULATOR_KEY] = emu
    # [\s\S]: a path that decodes to a newline (/v1/tasks/a%0Ab) is ours to answer, not aiohttp's.
    app.router.add_route("*", r"/{tail:[\s\S]*}", dispatch)
    return app
