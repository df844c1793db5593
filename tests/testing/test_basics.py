"""Envelopes, auth, routing, request ids, body parsing and the emulator's lifecycle."""

from __future__ import annotations

import aiohttp
import pytest

from beatapi_async.testing import FakeBeatAPI

from ._support import Api


async def test_workflows_are_anonymous_and_doubly_enveloped(api: Api) -> None:
    reply = await api.get("/v1/workflows", auth=False)
    assert reply.status == 200
    assert reply.data["object"] == "list"
    assert [w["id"] for w in reply.data["data"]] == ["music-video", "ecommerce-video"]
    # A wrong key does not matter on the anonymous route either.
    assert (await api.get("/v1/workflows", auth="sk_wrong")).status == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/usage"),
        ("GET", "/v1/tasks/task_x"),
        ("POST", "/v1/music-video/tasks"),
        ("POST", "/v1/ecommerce-video/tasks"),
        ("POST", "/v1/files"),
        ("GET", "/v1/webhooks"),
        ("DELETE", "/v1/webhooks/wh_x"),
        ("POST", "/v1/realtime/sessions"),
        ("GET", "/v1/realtime/sessions/rts_x"),
    ],
)
@pytest.mark.parametrize("auth", [False, "sk_wrong"])
async def test_missing_or_wrong_key_is_401(api: Api, method: str, path: str, auth: bool | str) -> None:
    reply = await api.call(method, path, auth=auth, json={})
    assert reply.status == 401
    assert reply.error["code"] == "unauthorized"
    assert api.fake.tasks == {}


async def test_only_bearer_scheme_is_accepted(api: Api) -> None:
    reply = await api.get("/v1/usage", auth=False, headers={"Authorization": f"Basic {api.fake.api_key}"})
    assert reply.status == 401


async def test_unknown_route_is_404_and_wrong_method_405_in_the_envelope(api: Api) -> None:
    reply = await api.get("/v1/nothing-here")
    assert reply.status == 404
    assert reply.error["code"] == "not_found"
    reply = await api.call("DELETE", "/v1/usage")
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET"
    assert reply.error["code"] == "bad_request"


async def test_every_answer_has_its_own_request_id(api: Api) -> None:
    first = await api.get("/v1/usage")
    second = await api.get("/v1/usage")
    ids = {first.headers["x-request-id"], second.headers["x-request-id"]}
    assert len(ids) == 2
    assert all(i.startswith("req_") for i in ids)
    recorded = [r.request_id for r in api.fake.requests]
    assert recorded == [first.headers["x-request-id"], second.headers["x-request-id"]]


async def test_percent_encoded_ids_route_as_one_segment(api: Api) -> None:
    reply = await api.get("/v1/realtime/sessions/rts_a%2Fb")
    assert reply.status == 404
    assert "rts_a/b" in reply.error["message"]  # decoded after routing
    reply = await api.get("/v1/tasks/task_a%2Fb")
    assert reply.status == 404
    assert "task_a/b" in reply.error["message"]


@pytest.mark.parametrize(
    ("raw", "content_type", "fragment"),
    [
        (b"", "application/json", "must be a JSON object"),
        (b"{not json", "application/json", "not valid JSON"),
        (b"[1, 2]", "application/json", "must be a JSON object"),
        (b'"text"', "application/json", "must be a JSON object"),
        (b"images=a", "application/x-www-form-urlencoded", "not valid JSON"),
    ],
)
async def test_bodies_that_are_not_json_objects_are_400(api: Api, raw: bytes, content_type: str, fragment: str) -> None:
    reply = await api.call("POST", "/v1/music-video/tasks", data=raw, headers={"Content-Type": content_type})
    assert reply.status == 400
    assert reply.error["code"] == "bad_request"
    assert fragment in reply.error["message"]
    assert api.fake.tasks == {}


async def test_validation_errors_name_field_and_rule(api: Api) -> None:
    reply = await api.create_mv(images=[])
    assert reply.status == 400
    assert reply.error["details"]["field"] == "images"
    assert "1-7" in reply.error["message"]
    reply = await api.create_mv(resolution="540p", quality="high")
    assert reply.status == 400
    assert reply.error["details"]["field"] == "quality"
    reply = await api.create_mv(audio_url="http://localhost/a.mp3")
    assert reply.status == 400
    assert reply.error["details"]["field"] == "audio_url"
    reply = await api.create_mv(subtitle_color="white")
    assert reply.status == 400
    reply = await api.create_ec(duration=61)
    assert reply.status == 400
    assert reply.error["details"]["field"] == "duration"
    assert api.fake.tasks == {}


async def test_recorded_requests_and_query(api: Api) -> None:
    await api.get("/v1/usage?period=7d")
    await api.create_ec()
    (usage,) = api.fake.requests_to("GET", "/v1/usage")
    assert usage.query == {"period": "7d"}
    assert usage.status == 200
    assert usage.headers["authorization"] == f"Bearer {api.fake.api_key}"  # case-insensitive
    (create,) = api.fake.requests_to("post", "/v1/*-video/tasks")
    assert create.json["duration"] == 15
    assert create.status == 201
    assert api.fake.api_key not in repr(create)
    assert len(api.fake.requests_to("*", "*")) == 2


async def test_lifecycle_without_context_manager() -> None:
    fake = FakeBeatAPI(api_key="sk_test_fixed", port=0)
    with pytest.raises(RuntimeError):
        _ = fake.base_url
    await fake.start()
    try:
        assert fake.base_url.startswith("http://127.0.0.1:")
        assert fake.api_key == "sk_test_fixed"
        assert "sk_test_fixed" not in repr(fake)
        with pytest.raises(RuntimeError):
            await fake.start()
        async with aiohttp.ClientSession() as session, session.get(fake.base_url + "/v1/workflows") as response:
            assert response.status == 200
    finally:
        await fake.close()
    await fake.close()  # idempotent


async def test_generated_keys_differ() -> None:
    first, second = FakeBeatAPI(), FakeBeatAPI()
    assert first.api_key.startswith("sk_test_")
    assert first.api_key != second.api_key


async def test_requests_built_before_any_client_accept_the_emulators_own_urls() -> None:
    from beatapi_async import MusicVideoRequest
    from beatapi_async.testing import FakeBeatAPI

    async with FakeBeatAPI() as fake:
        request = MusicVideoRequest(images=[f"{fake.base_url}/inputs/file_x.png"], audio_url=f"{fake.base_url}/a.wav")
        assert request.images[0].startswith("http://127.0.0.1:")
