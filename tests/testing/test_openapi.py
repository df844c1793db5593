"""The emulator's own OpenAPI document (GET /openapi.json): served, valid, and in step with the router."""

from __future__ import annotations

import re
from typing import Any

import jsonschema  # type: ignore[import-untyped]

from beatapi_async.testing._app import _TABLE

from ._support import Api


def routed_operations() -> set[tuple[str, str]]:
    """(path with {} for each segment, METHOD) of every API route the emulator answers."""
    return {(path, method) for path, methods, _ in _TABLE if path.startswith("/v1/") for method in methods}


def documented_operations(doc: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (re.sub(r"\{[^}]+\}", "{}", path), method.upper()) for path, item in doc["paths"].items() for method in item
    }


async def test_the_document_is_served_and_lists_exactly_the_routes(api: Api) -> None:
    reply = await api.call("GET", "/openapi.json", auth=False, check=False)
    assert reply.status == 200 and reply.headers["Content-Type"].startswith("application/json")
    doc = reply.body
    assert doc["openapi"].startswith("3.1")
    assert doc["servers"] == [{"url": api.fake.base_url}]
    assert documented_operations(doc) == routed_operations()
    ids = [op["operationId"] for item in doc["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))
    # Every $ref resolves, and every schema is a valid JSON Schema.
    refs = re.findall(r"'\$ref': '#/components/schemas/([^']+)'", repr(doc))
    assert refs and set(refs) <= set(doc["components"]["schemas"])
    for schema in doc["components"]["schemas"].values():
        jsonschema.Draft202012Validator.check_schema(schema)


async def test_answers_match_the_emulators_own_document(api: Api) -> None:
    doc = (await api.call("GET", "/openapi.json", auth=False, check=False)).body

    def check(path: str, method: str, status: int, body: Any) -> None:
        op = doc["paths"][path][method]
        schema = dict(op["responses"][str(status)]["content"]["application/json"]["schema"])
        root = {**schema, "components": doc["components"]}
        jsonschema.Draft202012Validator(root).validate(body)

    created = await api.create_mv(compose_mode="manual")
    check("/v1/music-video/tasks", "post", 201, created.body)
    ready = await api.wait_status(created.data["id"], "requires_action")
    check("/v1/tasks/{task_id}", "get", 200, {"data": ready})
    check("/v1/usage", "get", 200, (await api.get("/v1/usage")).body)
    check("/v1/workflows", "get", 200, (await api.get("/v1/workflows")).body)
    missing = await api.get("/v1/tasks/task_missing")
    check("/v1/tasks/{task_id}", "get", 404, missing.body)
    session = await api.post(
        "/v1/realtime/sessions",
        {"max_duration_seconds": 15, "allowed_origins": ["https://a.example.com"]},
        headers={"Idempotency-Key": "doc"},
    )
    check("/v1/realtime/sessions", "post", 201, session.body)
