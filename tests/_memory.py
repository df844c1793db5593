"""A scripted in-memory ``Transport`` for scheduler and gate tests (no sockets, exact counts)."""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable
from typing import Any

from beatapi_async import Timeouts
from beatapi_async._protocol import Request, Response

_TASK = re.compile(r"/v1/tasks/([^/?]+)$")


def task_body(task_id: str, status: str, **extra: Any) -> dict[str, Any]:
    return {"id": task_id, "object": "task", "workflow": "music-video", "status": status, "stage": status, **extra}


class MemoryTransport:
    """Answers ``GET /v1/tasks/{id}`` from per-task scripts; records every poll time.

    ``script[task_id]`` is a list of statuses (or callables returning ``Response``) served in
    order, the last one repeated.
    """

    def __init__(self) -> None:
        self.scripts: dict[str, list[Any]] = {}
        self.polls: list[tuple[float, str]] = []
        self.requests: list[Request] = []
        self.hint: float | None = None
        self.latency = 0.0
        self.handler: Callable[[Request], Response | None] | None = None
        self._served: dict[str, itertools.count[int]] = {}
        self.closed = False

    def script(self, task_id: str, *steps: Any) -> None:
        self.scripts[task_id] = list(steps)

    async def send(self, request: Request, *, timeout: Timeouts) -> Response:
        self.requests.append(request)
        if self.latency:
            await asyncio.sleep(self.latency)
        if self.handler is not None:
            answer = self.handler(request)
            if answer is not None:
                return answer
        match = _TASK.search(request.url)
        if request.method == "GET" and match:
            task_id = match.group(1)
            self.polls.append((time.monotonic(), task_id))
            steps = self.scripts.get(task_id)
            if steps is None:
                return error(404, "not_found", "Task not found.")
            n = next(self._served.setdefault(task_id, itertools.count()))
            step = steps[min(n, len(steps) - 1)]
            if isinstance(step, Response):
                return step
            running = step not in ("succeeded", "failed")
            extra = {"poll_after_seconds": self.hint} if self.hint is not None and running else {}
            if step == "failed":
                extra.update(error_code="processing_failed", error_message="No usable video output was produced.")
            if step == "succeeded":
                extra["output"] = {"media": [{"type": "video", "url": f"https://media.example.com/{task_id}.mp4"}]}
            return ok(task_body(task_id, step, **extra))
        return error(404, "not_found", f"no route {request.method} {request.url}")

    async def aclose(self) -> None:
        self.closed = True

    def max_in_window(self, window: float) -> int:
        times = sorted(t for t, _ in self.polls)
        best, lo = 0, 0
        for hi, t in enumerate(times):
            while times[lo] < t - window:
                lo += 1
            best = max(best, hi - lo + 1)
        return best


def ok(data: Any, status: int = 200) -> Response:
    body = json.dumps({"data": data}).encode()
    return Response(status=status, headers={"content-type": "application/json"}, body=body)


def error(status: int, code: str, message: str, **extra: Any) -> Response:
    headers = {"content-type": "application/json"}
    if "retry_after_seconds" in extra:
        headers["retry-after"] = str(extra["retry_after_seconds"])
    body = {"error": {"code": code, "message": message, "request_id": "req_mem", **extra}}
    return Response(status=status, headers=headers, body=json.dumps(body).encode())
