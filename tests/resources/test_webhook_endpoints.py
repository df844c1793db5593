"""``client.webhooks`` (endpoint management) over real loopback HTTP."""

from __future__ import annotations

import pytest

from beatapi_async import AsyncBeatAPI, Deleted, RequestValidationError, ServiceUnavailableError, WebhookEndpoint

from .._loopback import LoopbackBeatAPI, error


async def test_list(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    hooks = await live.webhooks.list()
    assert len(hooks) == 1 and isinstance(hooks[0], WebhookEndpoint)
    assert hooks[0].events == ("task.succeeded", "task.failed") and hooks[0].status == "active"


async def test_create_shows_secret_once_but_not_in_repr(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    hook = await live.webhooks.create(url="https://example.com/hook", events=["task.failed"], description="Prod")
    assert hook.secret == "whsec_example_store_this_once"
    assert "whsec_example_store_this_once" not in repr(hook)
    (seen,) = server.seen("POST", "/v1/webhooks")
    assert seen.json == {"url": "https://example.com/hook", "events": ["task.failed"], "description": "Prod"}
    assert "Idempotency-Key" not in seen.headers


async def test_create_sends_only_given_fields(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    await live.webhooks.create(url="https://example.com/hook")
    assert server.requests[-1].json == {"url": "https://example.com/hook"}


async def test_create_not_retried_after_503(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    server.script("POST", "/v1/webhooks", error(503, "processing_unavailable"))
    with pytest.raises(ServiceUnavailableError):
        await live.webhooks.create(url="https://example.com/hook")
    assert len(server.requests) == 1


async def test_get_update_delete(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    hook = await live.webhooks.get("wh_9aBcD")
    assert hook.id == "wh_9aBcD" and hook.secret == "whsec_example_masked"
    updated = await live.webhooks.update("wh_9aBcD", status="disabled")
    assert updated.status == "disabled"
    deleted = await live.webhooks.delete("wh_9aBcD")
    assert isinstance(deleted, Deleted) and deleted.deleted is True and deleted.id == "wh_9aBcD"
    assert [(r.method, r.raw_path) for r in server.requests] == [
        ("GET", "/v1/webhooks/wh_9aBcD"),
        ("PATCH", "/v1/webhooks/wh_9aBcD"),
        ("DELETE", "/v1/webhooks/wh_9aBcD"),
    ]
    assert server.requests[1].json == {"status": "disabled"}  # PATCH sends only what changed


async def test_update_several_fields(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    await live.webhooks.update("wh_1", url="https://example.com/new", events=("task.succeeded",), description="")
    assert server.requests[-1].json == {
        "url": "https://example.com/new",
        "events": ["task.succeeded"],
        "description": "",
    }


async def test_bad_input_sends_nothing(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    with pytest.raises(RequestValidationError, match="update"):
        await live.webhooks.update("wh_1")
    with pytest.raises(RequestValidationError, match="status"):
        await live.webhooks.update("wh_1", status="paused")
    with pytest.raises(RequestValidationError, match="events"):
        await live.webhooks.create(url="https://example.com/hook", events=["task.started"])
    with pytest.raises(RequestValidationError, match="url"):
        await live.webhooks.create(url="http://example.com/hook")
    with pytest.raises(RequestValidationError, match="events: must be a list"):
        await live.webhooks.create(url="https://example.com/hook", events="task.failed")
    with pytest.raises(RequestValidationError, match="events: must be a list"):
        await live.webhooks.update("wh_1", events="task.failed")
    with pytest.raises(RequestValidationError, match="webhook_id"):
        await live.webhooks.delete("")
    assert server.requests == []
