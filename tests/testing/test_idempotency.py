"""Optional Idempotency-Key on billable creates, shot edits and compose."""

from __future__ import annotations

import pytest

from ._support import Api


@pytest.mark.parametrize("workflow", ["music-video", "ecommerce-video"])
async def test_same_key_and_body_return_the_same_task_charged_once(api: Api, workflow: str) -> None:
    path = "/v1/music-video/tasks" if workflow == "music-video" else "/v1/ecommerce-video/tasks"
    body = (
        {"images": ["https://cdn.example.com/a.png"], "audio_url": "https://cdn.example.com/a.mp3"}
        if workflow == "music-video"
        else {"images": ["https://cdn.example.com/a.png"], "duration": 10}
    )
    one = await api.post(path, body, headers={"Idempotency-Key": "create-1"})
    two = await api.post(path, body, headers={"Idempotency-Key": "create-1"})
    assert one.status == two.status == 201
    assert one.data["id"] == two.data["id"]
    assert two.data["request_id"] == two.headers["x-request-id"]
    assert len(api.fake.tasks) == 1
    assert len([e for e in api.fake.ledger if e.kind == "charge"]) == 1
    conflict = await api.post(path, {**body, "prompt": "other"}, headers={"Idempotency-Key": "create-1"})
    assert conflict.status == 409
    assert conflict.error["code"] == "idempotency_conflict"
    # The same key on another route is another request too.
    other = "/v1/ecommerce-video/tasks" if workflow == "music-video" else "/v1/music-video/tasks"
    assert (await api.post(other, body, headers={"Idempotency-Key": "create-1"})).status == 409
    assert len(api.fake.tasks) == 1


@pytest.mark.beatapi_fake(speed=1, concurrency_limit=1)
async def test_a_replay_is_answered_even_at_the_limit(api: Api) -> None:
    body = {"images": ["https://cdn.example.com/a.png"], "duration": 10}
    one = await api.post("/v1/ecommerce-video/tasks", body, headers={"Idempotency-Key": "k"})
    again = await api.post("/v1/ecommerce-video/tasks", body, headers={"Idempotency-Key": "k"})
    assert again.status == 201 and again.data["id"] == one.data["id"]
    assert (await api.post("/v1/ecommerce-video/tasks", body)).status == 429


async def test_without_a_key_each_create_is_new(api: Api) -> None:
    await api.create_ec()
    await api.create_ec()
    assert len(api.fake.tasks) == 2


async def test_bad_keys_are_400(api: Api) -> None:
    body = {"images": ["https://cdn.example.com/a.png"], "duration": 10}
    reply = await api.post("/v1/ecommerce-video/tasks", body, headers={"Idempotency-Key": "x" * 129})
    assert reply.status == 400
    assert reply.error["details"]["field"] == "Idempotency-Key"
    assert api.fake.tasks == {}


async def test_edit_and_compose_replays(api: Api) -> None:
    created = (await api.create_mv(compose_mode="manual")).data
    ready = await api.wait_status(created["id"], "requires_action")
    shot_id = ready["storyboard"]["shots"][0]["id"]
    edit_path = f"/v1/music-video/tasks/{ready['id']}/shots/{shot_id}/edit"
    first = await api.post(edit_path, {"prompt": "a"}, headers={"Idempotency-Key": "edit-1"})
    assert first.status == 202
    await api.wait_status(ready["id"], "storyboard_ready")
    replay = await api.post(edit_path, {"prompt": "a"}, headers={"Idempotency-Key": "edit-1"})
    assert replay.status == 202  # the same edit, not a second one: nothing charged
    assert replay.data["status"] == "storyboard_ready"
    assert len([e for e in api.fake.ledger if e.operation == "edit" and e.kind == "charge"]) == 1
    assert (await api.post(edit_path, {"prompt": "b"}, headers={"Idempotency-Key": "edit-1"})).status == 409

    compose_path = f"/v1/music-video/tasks/{ready['id']}/compose"
    body = {"shot_ids": [shot_id]}
    assert (await api.post(compose_path, body, headers={"Idempotency-Key": "compose-1"})).status == 202
    assert (await api.post(compose_path, body, headers={"Idempotency-Key": "compose-1"})).status == 202
    assert len([e for e in api.fake.ledger if e.operation == "compose" and e.kind == "charge"]) == 1
