"""Webhook endpoint CRUD and real signed deliveries with retries."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from beatapi_async import webhooks

from ._support import Api, Contract, Receiver, eventually


async def test_crud_shows_the_secret_once(api: Api) -> None:
    created = await api.post("/v1/webhooks", {"url": "https://hooks.example.com/beatapi"})
    assert created.status == 201
    hook = created.data
    assert hook["id"].startswith("wh_") and hook["object"] == "webhook_endpoint"
    assert hook["events"] == ["task.succeeded", "task.failed"]
    assert hook["status"] == "active" and hook["description"] == ""
    secret = hook["secret"]
    assert secret.startswith("whsec_") and len(secret) > 30

    got = (await api.get(f"/v1/webhooks/{hook['id']}")).data
    assert got["secret"] != secret and got["secret"].startswith("whsec_") and secret not in got["secret"]
    assert got["secret"].endswith(secret[-4:])
    listed = (await api.get("/v1/webhooks")).data
    assert listed["object"] == "list" and [h["id"] for h in listed["data"]] == [hook["id"]]
    assert listed["data"][0]["secret"] == got["secret"]

    updated = await api.call(
        "PATCH",
        f"/v1/webhooks/{hook['id']}",
        json={"status": "disabled", "events": ["task.failed"], "description": "d"},
    )
    assert updated.status == 200
    assert updated.data["status"] == "disabled" and updated.data["events"] == ["task.failed"]
    assert updated.data["description"] == "d"
    assert updated.data["secret"] == got["secret"]

    deleted = await api.call("DELETE", f"/v1/webhooks/{hook['id']}")
    assert deleted.status == 200
    assert deleted.data == {"id": hook["id"], "deleted": True}
    assert (await api.get(f"/v1/webhooks/{hook['id']}")).status == 404
    assert (await api.call("DELETE", f"/v1/webhooks/{hook['id']}")).status == 404
    assert (await api.call("PATCH", f"/v1/webhooks/{hook['id']}", json={"status": "active"})).status == 404
    assert (await api.get("/v1/webhooks")).data["data"] == []


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"url": "ftp://hooks.example.com"},
        {"url": "http://hooks.example.com"},
        {"url": "https://hooks.example.com", "events": ["task.created"]},
        {"url": "https://hooks.example.com", "events": []},
    ],
)
async def test_create_is_validated(api: Api, body: dict[str, Any]) -> None:
    reply = await api.post("/v1/webhooks", body)
    assert reply.status == 400
    assert api.fake.webhook_endpoints == {}


async def test_update_is_validated(api: Api) -> None:
    hook = (await api.post("/v1/webhooks", {"url": "https://hooks.example.com"})).data
    for body in ({}, {"status": "paused"}, {"url": "nope"}):
        reply = await api.call("PATCH", f"/v1/webhooks/{hook['id']}", json=body)
        assert reply.status == 400, body


async def test_signed_delivery_on_success(api: Api, contract: Contract | None) -> None:
    async with Receiver() as receiver:
        hook = (await api.post("/v1/webhooks", {"url": receiver.url, "description": "local"})).data
        task_id = (await api.create_ec()).data["id"]
        # Nobody polls: the delivery loop moves the task and sends the event.
        await eventually(lambda: receiver.received, message="a delivery")
    headers, body = receiver.received[0]
    event = webhooks.verify(body, headers, hook["secret"])
    assert event.event == "task.succeeded"
    assert headers["x-beatapi-event"] == "task.succeeded"
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["id"].startswith("evt_")
    assert payload["data"]["id"] == task_id and payload["data"]["status"] == "succeeded"
    if contract is not None:
        contract.check_component("WebhookEvent", payload)
    (delivery,) = api.fake.deliveries
    assert delivery.ok and delivery.attempt == 1 and delivery.status == 200
    assert (delivery.endpoint_id, delivery.event_id, delivery.task_id) == (hook["id"], payload["id"], task_id)


async def test_failed_tasks_send_task_failed_only_to_subscribers(api: Api) -> None:
    async with Receiver() as failures, Receiver() as successes:
        await api.post("/v1/webhooks", {"url": failures.url, "events": ["task.failed"]})
        await api.post("/v1/webhooks", {"url": successes.url, "events": ["task.succeeded"]})
        disabled = (await api.post("/v1/webhooks", {"url": failures.url})).data
        await api.call("PATCH", f"/v1/webhooks/{disabled['id']}", json={"status": "disabled"})
        api.fake.script("fail", times=1)
        failed_id = (await api.create_ec()).data["id"]
        ok_id = (await api.create_ec()).data["id"]
        await eventually(lambda: failures.received and successes.received, message="both deliveries")
        await api.wait_status(ok_id, "succeeded")
    assert len(failures.received) == 1 and len(successes.received) == 1
    assert json.loads(failures.received[0][1])["data"]["id"] == failed_id
    assert json.loads(failures.received[0][1])["event"] == "task.failed"
    assert json.loads(successes.received[0][1])["data"]["id"] == ok_id
    assert {d.endpoint_id for d in api.fake.deliveries} != {disabled["id"]}
    assert all(d.endpoint_id != disabled["id"] for d in api.fake.deliveries)


@pytest.mark.beatapi_fake(webhook_retry_schedule=(10, 20, 30))
async def test_non_2xx_is_retried_on_the_scaled_schedule(api: Api) -> None:
    async with Receiver(plan=[500, 503]) as receiver:
        hook = (await api.post("/v1/webhooks", {"url": receiver.url})).data
        await api.create_ec()
        await eventually(lambda: len(receiver.received) == 3, message="three attempts")
    attempts = [(d.attempt, d.status) for d in api.fake.deliveries]
    assert attempts == [(1, 500), (2, 503), (3, 200)]
    # Retries wait 10 and 20 BeatAPI seconds: 10 and 20 ms at speed 1000.
    times = [d.time for d in api.fake.deliveries]
    assert times[1] - times[0] >= 0.009 and times[2] - times[1] >= 0.019
    # Every attempt is the same event, freshly signed.
    bodies = {body for _, body in receiver.received}
    assert len(bodies) == 1
    for headers, body in receiver.received:
        webhooks.verify(body, headers, hook["secret"])


@pytest.mark.beatapi_fake(webhook_retry_schedule=(1, 1))
async def test_unreachable_receivers_are_logged_and_given_up(api: Api) -> None:
    await api.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook"})  # discard port: refused
    await api.create_ec()
    await eventually(lambda: len(api.fake.deliveries) == 3, message="three failed attempts")
    assert [d.attempt for d in api.fake.deliveries] == [1, 2, 3]
    assert all(d.status is None and d.error and not d.ok for d in api.fake.deliveries)


async def test_deleted_endpoint_stops_retries(api: Api) -> None:
    async with Receiver(plan=[500]) as receiver:
        hook = (await api.post("/v1/webhooks", {"url": receiver.url})).data
        await api.create_ec()
        await eventually(lambda: receiver.received, message="first attempt")
        await api.call("DELETE", f"/v1/webhooks/{hook['id']}")
        api.fake.speed = 100_000  # the 60 s retry falls due within a millisecond
        await asyncio.sleep(0.02)
    assert len(receiver.received) == 1
    assert len(api.fake.deliveries) == 1
