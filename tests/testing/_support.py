"""Helpers for the emulator's tests: a raw aiohttp caller, the contract checker, WAV bytes, a webhook receiver."""

from __future__ import annotations

import asyncio
import copy
import re
from typing import Any

import aiohttp
import attrs
from aiohttp import web

from beatapi_async.testing import FakeBeatAPI

from .._shared import CONTRACT as CONTRACT_PATH

# Fields newer deployments add that the emulator sends (NOTES: Conventions, Tasks);
# anything else outside the contract is drift.
_EXTRA_TASK_FIELDS = {"poll_after_seconds": {"type": "number", "minimum": 0}}
_EXTRA_ERROR_FIELDS = {"retryable": {"type": "boolean"}, "details": {"type": "object"}}


def _strict(node: Any) -> Any:
    """Forbid undeclared keys in every object schema that lists its properties."""
    if isinstance(node, dict):
        out = {k: _strict(v) for k, v in node.items()}
        if isinstance(out.get("properties"), dict) and "additionalProperties" not in out:
            out["additionalProperties"] = False
        return out
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


class Contract:
    """The launch contract's response schemas, made strict, with a record of what was checked."""

    def __init__(self, spec: dict[str, Any]) -> None:
        spec = copy.deepcopy(spec)
        schemas = spec["components"]["schemas"]
        schemas["Task"]["properties"].update(_EXTRA_TASK_FIELDS)
        schemas["Error"]["properties"]["error"]["properties"].update(_EXTRA_ERROR_FIELDS)
        self.spec = _strict(spec)
        self.seen: set[tuple[str, str, str]] = set()
        self._paths = [
            (re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), template)
            for template in self.spec["paths"]
        ]

    def declared(self) -> set[tuple[str, str, str]]:
        """Every (path template, METHOD, status) the contract documents."""
        out: set[tuple[str, str, str]] = set()
        for template, item in self.spec["paths"].items():
            for method, op in item.items():
                if method in ("get", "post", "patch", "delete", "put"):
                    out.update((template, method.upper(), str(s)) for s in op["responses"])
        return out

    def template(self, path: str) -> str | None:
        """The contract path template ``path`` (raw, percent-encoded) falls under."""
        for pattern, template in self._paths:
            if pattern.match(path):
                return str(template)
        return None

    def _pointer(self, *parts: str) -> str:
        return "#/" + "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)

    def _validate(self, ref: str, instance: Any) -> None:
        import jsonschema  # type: ignore[import-untyped]

        root = dict(self.spec)
        root["$ref"] = ref
        validator = jsonschema.Draft202012Validator(root, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
        errors = sorted(validator.iter_errors(instance), key=lambda e: list(e.absolute_path))
        if errors:
            lines = [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
            raise AssertionError(f"body does not match {ref}:\n" + "\n".join(lines) + f"\nbody: {instance!r}")

    def check_component(self, name: str, instance: Any) -> None:
        """Validate ``instance`` against ``components/schemas/<name>``."""
        self._validate(self._pointer("components", "schemas", name), instance)

    def check_response(self, method: str, path: str, status: int, body: Any) -> None:
        """Validate an answer against the contract's schema for that operation and status.

        Statuses the contract does not list for the operation must still be a
        proper ``Error`` (4xx/5xx); an undocumented success is a failure.
        """
        template = self.template(path)
        if template is None:
            assert status >= 400, f"{method} {path}: {status} on a path outside the contract"
            self.check_component("Error", body)
            return
        op = self.spec["paths"][template].get(method.lower())
        responses = op["responses"] if op else {}
        response = responses.get(str(status))
        if response is None:
            assert status >= 400, f"{method} {template}: undocumented success status {status}"
            self.check_component("Error", body)
            return
        self.seen.add((template, method.upper(), str(status)))
        base: tuple[str, ...] = ("paths", template, method.lower(), "responses", str(status))
        if "$ref" in response:
            name = response["$ref"].rsplit("/", 1)[-1]
            response = self.spec["components"]["responses"][name]
            base = ("components", "responses", name)
        assert "application/json" in response.get("content", {}), f"{template} {status} has no JSON schema"
        self._validate(self._pointer(*base, "content", "application/json", "schema"), body)


def load_contract() -> Contract | None:
    """The contract beside the project, or None when it is not there."""
    if not CONTRACT_PATH.is_file():
        return None
    import yaml  # type: ignore[import-untyped]

    return Contract(yaml.safe_load(CONTRACT_PATH.read_text()))


@attrs.frozen
class Reply:
    """One raw answer."""

    status: int
    headers: Any
    raw: bytes
    body: Any

    @property
    def data(self) -> Any:
        """``body["data"]``."""
        return self.body["data"]

    @property
    def error(self) -> dict[str, Any]:
        """``body["error"]``."""
        error: dict[str, Any] = self.body["error"]
        return error


class Api:
    """Raw HTTP calls to a FakeBeatAPI (not through the SDK), each answer checked against the contract."""

    def __init__(self, fake: FakeBeatAPI, session: aiohttp.ClientSession, contract: Contract | None) -> None:
        self.fake = fake
        self.session = session
        self.contract = contract

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: Any = None,
        headers: dict[str, str] | None = None,
        auth: bool | str = True,
        check: bool = True,
    ) -> Reply:
        """Send a request; ``auth`` True sends the key, a string sends that key, False none."""
        all_headers = dict(headers or {})
        if auth:
            all_headers["Authorization"] = f"Bearer {self.fake.api_key if auth is True else auth}"
        async with self.session.request(
            method, self.fake.base_url + path, json=json, data=data, headers=all_headers
        ) as response:
            raw = await response.read()
            try:
                body = await response.json(content_type=None)
            except ValueError:
                body = None
            reply = Reply(response.status, response.headers, raw, body)
        if check:
            assert reply.headers.get("x-request-id", "").startswith("req_")
            assert body is not None, f"{method} {path}: not JSON: {raw[:200]!r}"
            if reply.status >= 400:
                assert reply.error["request_id"] == reply.headers["x-request-id"]
            if self.contract is not None:
                self.contract.check_response(method, path.split("?", 1)[0], reply.status, body)
        return reply

    async def get(self, path: str, **kwargs: Any) -> Reply:
        return await self.call("GET", path, **kwargs)

    async def post(self, path: str, json: Any = None, **kwargs: Any) -> Reply:
        return await self.call("POST", path, json=json, **kwargs)

    async def create_mv(self, **fields: Any) -> Reply:
        body = {"images": ["https://cdn.example.com/a.png"], "audio_url": "https://cdn.example.com/a.mp3", **fields}
        return await self.post("/v1/music-video/tasks", body)

    async def create_ec(self, **fields: Any) -> Reply:
        body = {"images": ["https://cdn.example.com/p.png"], "duration": 15, **fields}
        return await self.post("/v1/ecommerce-video/tasks", body)

    async def wait_status(self, task_id: str, *statuses: str, timeout: float = 5.0) -> dict[str, Any]:
        """Read the task (from the emulator, not by polling) until it reaches one of ``statuses``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            task = self.fake.task_json(task_id)
            if task["status"] in statuses:
                return task
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"task {task_id} stuck in {task['status']}, wanted {statuses}")
            await asyncio.sleep(0.002)



class Receiver:
    """A local webhook receiver that answers the next statuses in ``plan`` (then 200) and keeps what it got."""

    def __init__(self, plan: list[int] | None = None) -> None:
        self.plan = list(plan or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self.arrived = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.Response:
        self.received.append((dict(request.headers), await request.read()))
        self.arrived.set()
        return web.Response(status=self.plan.pop(0) if self.plan else 200)

    async def __aenter__(self) -> Receiver:
        app = web.Application()
        app.router.add_post("/hook", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


async def eventually(predicate: Any, timeout: float = 5.0, message: str = "condition") -> None:
    """Wait until ``predicate()`` is true (polling every few ms)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {message}")
        await asyncio.sleep(0.002)
