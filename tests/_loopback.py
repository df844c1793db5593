"""A small BeatAPI on 127.0.0.1 for round-trip tests over real HTTP.

It answers every endpoint of the launch contract with bodies in the contract's
shapes, checks the Bearer key, records every request it sees (raw path, headers,
body, multipart parts) and can be scripted to fail or stall a route. It is
deliberately tiny: the full emulator is ``beatapi_async.testing.FakeBeatAPI``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import attrs
from aiohttp import web
from multidict import CIMultiDict

API_KEY = "sk_test_loopback_0123456789"
T0 = 1782210000

WORKFLOWS = {
    "object": "list",
    "data": [
        {"id": "music-video", "object": "workflow", "name": "Music Video API", "description": "Music clips."},
        {"id": "ecommerce-video", "object": "workflow", "name": "Ecommerce Video API", "description": "Ads."},
    ],
}
USAGE = {
    "object": "usage",
    "credit_balance": 1080,
    "total_tasks": 12,
    "credits_settled": 720,
    "credits_refunded": 450,
    "concurrency": {"limit": 2, "active": 1},
    "realtime": {"sessions": 3, "credits": 90, "active": 1},
    "by_workflow": [
        {"workflow": "music-video", "tasks": 8, "credits_settled": 480},
        {"workflow": "ecommerce-video", "tasks": 4, "credits_settled": 240},
    ],
}


def task(task_id: str = "task_8K2qA", status: str = "queued", workflow: str = "music-video") -> dict[str, Any]:
    return {
        "id": task_id,
        "object": "task",
        "workflow": workflow,
        "status": status,
        "stage": status,
        "storyboard": {"shots": []},
        "created_at": T0,
        "updated_at": T0,
        "completed_at": None,
        "output": None,
        "usage": {
            "credits_reserved": 75,
            "credits_charged": 75,
            "billable_duration_seconds": 15,
            "credits_settled": 0,
            "credits_refunded": 0,
        },
        "request_id": "req_abc123",
        "error_code": None,
        "error_message": None,
    }


def webhook(hook_id: str = "wh_9aBcD", secret: str = "whsec_example_masked", **changes: Any) -> dict[str, Any]:
    return {
        "id": hook_id,
        "object": "webhook_endpoint",
        "url": "https://example.com/beatapi-webhook",
        "description": "Production webhook",
        "events": ["task.succeeded", "task.failed"],
        "status": "active",
        "secret": secret,
        "created_at": T0,
        "updated_at": T0,
        **changes,
    }


def session(session_id: str = "rts_01JEXAMPLE", status: str = "ready", secret: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": session_id,
        "object": "realtime.session",
        "status": status,
        "expires_at": "2026-07-31T15:30:00.000Z",
        "max_duration_seconds": 60,
        "allowed_origins": ["https://app.example.com"],
        "credits": {"reserved": 60, "settled": 0, "refunded": 60 if status == "closed" else 0},
        "request_id": "req_realtime_example",
        "created_at": "2026-07-31T15:29:00.000Z",
        "connected_at": None,
        "closed_at": "2026-07-31T15:29:30.000Z" if status == "closed" else None,
    }
    if secret is not None:
        body["client_secret"] = secret
    return body


def error(status: int, code: str, message: str = "Something went wrong.", **extra: Any) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message, "request_id": "req_err", **extra}}, status=status
    )


def ok(data: Any, status: int = 200) -> web.Response:
    return web.json_response({"data": data}, status=status)


@attrs.define
class Part:
    """One part of a multipart upload as the server received it."""

    name: str | None
    filename: str | None
    content_type: str
    data: bytes


@attrs.define
class Seen:
    """One request as the server received it."""

    method: str
    path: str  # decoded
    raw_path: str  # as sent, percent-encoding kept
    query: dict[str, str]
    headers: CIMultiDict[str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def parts(self) -> list[Part]:
        content_type = self.headers.get("Content-Type", "")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + self.body)
        out = []
        for part in msg.iter_parts():
            assert isinstance(part, Message)
            payload = part.get_payload(decode=True)
            out.append(
                Part(
                    part.get_param("name", header="content-disposition"),
                    part.get_filename(),
                    part.get_content_type(),
                    payload if isinstance(payload, bytes) else b"",
                )
            )
        return out


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoopbackBeatAPI:
    """The server. ``script(method, path, *responses)`` answers the next calls of a route."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._scripted: dict[tuple[str, str], list[Callable[[], Awaitable[web.StreamResponse]]]] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.release = asyncio.Event()  # lets stalled handlers finish at teardown

    # -- scripting ---------------------------------------------------------------------

    def script(self, method: str, path: str, *responses: web.Response | Callable[[], Any]) -> None:
        """Answer the next calls of ``method path`` with ``responses`` in order, then normally."""
        queue = self._scripted.setdefault((method, path), [])
        for response in responses:
            if isinstance(response, web.StreamResponse):
                queue.append(_const(response))
            else:
                queue.append(response)

    def stall(self, method: str, path: str, times: int = 1) -> None:
        """Accept the next ``times`` calls of a route and never answer (until teardown)."""

        async def hang() -> web.StreamResponse:
            await self.release.wait()
            return error(503, "service_unavailable")

        self.script(method, path, *([hang] * times))

    def seen(self, method: str | None = None, path: str | None = None) -> list[Seen]:
        return [r for r in self.requests if (method is None or r.method == method) and (path is None or r.path == path)]

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(middlewares=[self._middleware], client_max_size=64 * 1024 * 1024)
        for method, path, answer in (
            ("GET", "/v1/workflows", lambda _: ok(WORKFLOWS)),
            ("GET", "/v1/usage", lambda _: ok(USAGE)),
            ("POST", "/v1/files", self._upload),
            ("POST", "/v1/music-video/tasks", lambda _: ok(task(), 201)),
            ("POST", "/v1/ecommerce-video/tasks", lambda _: ok(task("task_p9Lm2", workflow="ecommerce-video"), 201)),
            ("POST", "/v1/music-video/tasks/{task_id}/shots/{shot_id}/media", self._shot_media),
            (
                "POST",
                "/v1/music-video/tasks/{task_id}/shots/{shot_id}/edit",
                lambda q: ok(task(q.match_info["task_id"], "editing"), 202),
            ),
            (
                "POST",
                "/v1/music-video/tasks/{task_id}/compose",
                lambda q: ok(task(q.match_info["task_id"], "composing"), 202),
            ),
            ("GET", "/v1/tasks/{task_id}", lambda q: ok(task(q.match_info["task_id"], "processing"))),
            ("GET", "/v1/webhooks", lambda _: ok({"object": "list", "data": [webhook()]})),
            ("POST", "/v1/webhooks", self._create_webhook),
            ("GET", "/v1/webhooks/{id}", lambda q: ok(webhook(q.match_info["id"]))),
            ("PATCH", "/v1/webhooks/{id}", self._update_webhook),
            ("DELETE", "/v1/webhooks/{id}", lambda q: ok({"id": q.match_info["id"], "deleted": True})),
            ("POST", "/v1/realtime/sessions", self._create_session),
            ("GET", "/v1/realtime/sessions/{id}", lambda q: ok(session(q.match_info["id"]))),
            ("DELETE", "/v1/realtime/sessions/{id}", lambda q: ok(session(q.match_info["id"], "closed"))),
        ):
            app.router.add_route(method, path, _handler(answer))
        self._runner = web.AppRunner(app, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        self.release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- handlers ----------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        self.requests.append(
            Seen(
                request.method,
                request.path,
                request.raw_path.split("?")[0],
                dict(request.query),
                CIMultiDict(request.headers),
                body,
            )
        )
        queue = self._scripted.get((request.method, request.path))
        if queue:
            return await queue.pop(0)()
        if request.path != "/v1/workflows" and request.headers.get("Authorization") != f"Bearer {API_KEY}":
            return error(401, "unauthorized", "Missing or invalid API key.")
        return await handler(request)

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        seen = self.requests[-1]
        parts = {p.name: p for p in seen.parts}
        file = parts.get("file")
        if file is None:
            return error(400, "bad_request", "file is required")
        ext = (file.filename or "").rsplit(".", 1)[-1]
        return _json(
            {
                "id": "file_3xYz9",
                "object": "file",
                "url": f"https://media.beatapi.io/inputs/file_3xYz9.{ext}",
                "key": f"inputs/file_3xYz9.{ext}",
                "mime_type": file.content_type,
                "size_bytes": len(file.data),
                "purpose": "input",
                "created_at": T0,
            },
            201,
        )

    async def _shot_media(self, request: web.Request) -> web.StreamResponse:
        task_id, shot_id = request.match_info["task_id"], request.match_info["shot_id"]
        return _json(
            {
                "object": "shot_media",
                "task_id": task_id,
                "shot_id": shot_id,
                "index": 0,
                "status": "succeeded",
                "media": {
                    "type": "video",
                    "url": f"https://media.beatapi.io/outputs/{task_id}/shots/{shot_id}.mp4",
                    "mime_type": "video/mp4",
                },
                "created_at": T0,
                "updated_at": T0 + 300,
                "request_id": "req_abc123",
            }
        )

    async def _create_webhook(self, request: web.Request) -> web.StreamResponse:
        body = self.requests[-1].json
        return _json(webhook(secret="whsec_example_store_this_once", **body), 201)

    async def _update_webhook(self, request: web.Request) -> web.StreamResponse:
        body = self.requests[-1].json
        return _json(webhook(request.match_info["id"], **body))

    async def _create_session(self, request: web.Request) -> web.StreamResponse:
        if not request.headers.get("Idempotency-Key"):
            return error(400, "bad_request", "Idempotency-Key is required.")
        return _json(session(secret="brt_live_example"), 201)


def _handler(answer: Callable[[web.Request], Any]) -> Handler:
    async def handle(request: web.Request) -> web.StreamResponse:
        result = answer(request)
        return await result if asyncio.iscoroutine(result) else result  # type: ignore[no-any-return]

    return handle


def _json(data: Any, status: int = 200) -> web.Response:
    return ok(data, status)


def _const(response: web.StreamResponse) -> Callable[[], Awaitable[web.StreamResponse]]:
    async def answer() -> web.StreamResponse:
        return response

    return answer
