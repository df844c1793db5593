"""Task state machines (auto and manual), storyboards, the poll hint, durations and scripting."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from beatapi_async.testing import Durations, FakeBeatAPI

from ._support import Api


async def test_auto_music_video_runs_queued_processing_succeeded(api: Api) -> None:
    api.fake.speed = 100  # queued lasts 50 ms, processing 1.2 s
    created = (await api.create_mv(prompt="Neon rooftop")).data
    assert created["status"] == created["stage"] == "queued"
    assert created["storyboard"] == {"shots": []}
    assert created["output"] is None and created["completed_at"] is None
    task_id = created["id"]
    assert task_id.startswith("task_")

    processing = await api.wait_status(task_id, "processing")
    shots = processing["storyboard"]["shots"]
    assert len(shots) == 3  # 15 s of audio in 5 s shots
    assert [s["index"] for s in shots] == [0, 1, 2]
    assert all(s["id"].startswith("shot_") and s["status"] == "processing" for s in shots)
    assert all(s["duration_seconds"] == 5 and "Neon rooftop" in s["prompt"] for s in shots)

    api.fake.speed = 10_000
    done = await api.wait_status(task_id, "succeeded")
    assert done["stage"] == "succeeded"
    assert done["completed_at"] == done["updated_at"] >= done["created_at"]
    media = done["output"]["media"][0]
    assert media["type"] == "video" and media["mime_type"] == "video/mp4"
    assert done["output"]["r2_url"] == media["url"]
    assert all(s["status"] == "succeeded" for s in done["storyboard"]["shots"])
    assert done["error_code"] is None and done["error_message"] is None
    # The poll endpoint says the same, and the output URL serves a video.
    polled = (await api.get(f"/v1/tasks/{task_id}")).data
    assert polled["status"] == "succeeded"
    async with api.session.get(media["url"]) as response:
        assert response.status == 200
        assert response.content_type == "video/mp4"


async def test_ecommerce_video_has_no_storyboard(api: Api) -> None:
    created = (await api.create_ec()).data
    assert created["workflow"] == "ecommerce-video"
    assert "storyboard" not in created
    done = await api.wait_status(created["id"], "succeeded")
    assert done["output"]["media"][0]["url"].endswith(".mp4")


async def test_default_durations_are_minutes_of_beatapi_time() -> None:
    durations = Durations()
    assert durations.queued + durations.music_video >= 90
    assert durations.queued + durations.ecommerce_video >= 60


@pytest.mark.beatapi_fake(speed=1.0, durations={"queued": 0.01, "ecommerce_video": 0.02})
async def test_durations_knob_overrides_steps(api: Api) -> None:
    assert api.fake.durations.queued == 0.01
    created = (await api.create_ec()).data
    await api.wait_status(created["id"], "succeeded", timeout=2)


async def test_poll_hint_is_beatapi_seconds_scaled_to_real_time(api: Api) -> None:
    created = (await api.create_ec()).data
    # BeatAPI hints 5-10 s; at speed 1000 that is 5-10 ms.
    assert 0.005 <= created["poll_after_seconds"] <= 0.010
    done = await api.wait_status(created["id"], "succeeded")
    assert "poll_after_seconds" not in done


@pytest.mark.beatapi_fake(poll_hint=False)
async def test_poll_hint_can_be_switched_off(api: Api) -> None:
    created = (await api.create_ec()).data
    assert "poll_after_seconds" not in created
    api.fake.poll_hint = True
    assert "poll_after_seconds" in (await api.get(f"/v1/tasks/{created['id']}")).data


async def manual_ready(api: Api) -> dict[str, Any]:
    created = (await api.create_mv(compose_mode="manual", duration=12)).data
    return await api.wait_status(created["id"], "requires_action")


async def test_manual_flow_edit_and_compose(api: Api) -> None:
    ready = await manual_ready(api)
    task_id = ready["id"]
    shots = ready["storyboard"]["shots"]
    assert len(shots) == 3 and [s["duration_seconds"] for s in shots] == [5, 5, 2]
    assert all(s["status"] == "succeeded" and "media" not in s for s in shots)
    assert ready["completed_at"] is None and ready["output"] is None
    # The storyboard is paid for: the create charge is settled, nothing runs.
    assert ready["usage"]["credits_settled"] == ready["usage"]["credits_charged"] == 60
    assert api.fake.running_count == 0

    # Shot media materializes a URL and repeats it.
    first = await api.post(f"/v1/music-video/tasks/{task_id}/shots/{shots[0]['id']}/media")
    assert first.status == 200
    assert first.data["object"] == "shot_media" and first.data["shot_id"] == shots[0]["id"]
    again = await api.post(f"/v1/music-video/tasks/{task_id}/shots/{shots[0]['id']}/media")
    assert again.data["media"]["url"] == first.data["media"]["url"]
    assert again.data["request_id"] == again.headers["x-request-id"]

    api.fake.speed = 50  # edit takes 0.6 s of real time: long enough to see ``editing``
    edit = await api.post(
        f"/v1/music-video/tasks/{task_id}/shots/{shots[1]['id']}/edit", {"prompt": "Brighter", "duration": 6}
    )
    assert edit.status == 202
    assert edit.data["status"] == "editing"
    assert edit.data["usage"]["credits_charged"] == 60 + 30  # 5 credits/s x 6 s
    assert api.fake.running_count == 1
    api.fake.speed = 10_000
    back = await api.wait_status(task_id, "storyboard_ready")
    edited = back["storyboard"]["shots"][1]
    assert edited["prompt"] == "Brighter" and edited["duration_seconds"] == 6
    assert edited["media"]["url"].endswith(f"/shots/{shots[1]['id']}.mp4")
    assert back["usage"]["credits_settled"] == 90

    compose = await api.post(f"/v1/music-video/tasks/{task_id}/compose", {"shot_ids": [s["id"] for s in shots]})
    assert compose.status == 202
    assert compose.data["status"] == "composing"
    done = await api.wait_status(task_id, "succeeded")
    assert done["usage"]["credits_charged"] == done["usage"]["credits_settled"] == 91
    assert done["output"]["media"][0]["url"]
    kinds = [(e.kind, e.operation) for e in api.fake.ledger if e.task_id == task_id]
    assert kinds == [
        ("charge", "create"), ("settle", "create"), ("charge", "edit"), ("settle", "edit"),
        ("charge", "compose"), ("settle", "compose"),
    ]  # fmt: skip


async def test_edit_and_compose_need_a_storyboard_or_a_succeeded_music_video(api: Api) -> None:
    api.fake.speed = 1  # stays queued for the whole test
    queued = (await api.create_mv(compose_mode="manual")).data
    reply = await api.post(f"/v1/music-video/tasks/{queued['id']}/compose", {"shot_ids": ["shot_x"]})
    assert reply.status == 400  # not ready: nothing to compose yet
    assert "queued" in reply.error["message"]
    api.fake.speed = 10_000
    ec = (await api.create_ec()).data
    await api.wait_status(ec["id"], "succeeded")
    reply = await api.post(f"/v1/music-video/tasks/{ec['id']}/compose", {"shot_ids": ["shot_x"]})
    assert reply.status == 400  # an Ecommerce Video has no storyboard


async def test_unknown_tasks_and_shots_are_404(api: Api) -> None:
    ready = await manual_ready(api)
    task_id = ready["id"]
    for path, body in [
        ("/v1/music-video/tasks/task_nope/shots/shot_x/edit", {"prompt": "x"}),
        (f"/v1/music-video/tasks/{task_id}/shots/shot_nope/edit", {"prompt": "x"}),
        ("/v1/music-video/tasks/task_nope/shots/shot_x/media", None),
        (f"/v1/music-video/tasks/{task_id}/shots/shot_nope/media", None),
        ("/v1/music-video/tasks/task_nope/compose", {"shot_ids": ["shot_x"]}),
        (f"/v1/music-video/tasks/{task_id}/compose", {"shot_ids": ["shot_nope"]}),
    ]:
        reply = await api.post(path, body)
        assert reply.status == 404, path
        assert reply.error["code"] == "not_found"
    assert (await api.get("/v1/tasks/task_nope")).status == 404


async def test_edit_and_compose_bodies_are_validated(api: Api) -> None:
    ready = await manual_ready(api)
    base = f"/v1/music-video/tasks/{ready['id']}"
    shot_id = ready["storyboard"]["shots"][0]["id"]
    assert (await api.post(f"{base}/shots/{shot_id}/edit", {})).status == 400
    assert (await api.post(f"{base}/shots/{shot_id}/edit", {"prompt": "x", "duration": 0})).status == 400
    reply = await api.post(f"{base}/shots/{shot_id}/edit", {"prompt": "x", "quality": "high", "resolution": "540p"})
    assert reply.status == 400
    assert (await api.post(f"{base}/compose", {"shot_ids": []})).status == 400
    assert (await api.post(f"{base}/compose", {})).status == 400


async def test_shot_media_needs_a_finished_shot(api: Api) -> None:
    api.fake.speed = 100  # processing starts after 50 ms and lasts 1.2 s
    created = (await api.create_mv()).data
    task = await api.wait_status(created["id"], "processing")
    shot_id = task["storyboard"]["shots"][0]["id"]
    reply = await api.post(f"/v1/music-video/tasks/{created['id']}/shots/{shot_id}/media")
    assert reply.status == 400
    assert "processing" in reply.error["message"]


async def test_script_fail_with_code(api: Api) -> None:
    api.fake.script("fail", error_code="processing_timeout")
    created = (await api.create_mv()).data
    failed = await api.wait_status(created["id"], "failed")
    assert failed["error_code"] == "processing_timeout"
    assert failed["error_message"] == "Task waited too long for platform capacity."
    assert failed["output"] is None and failed["completed_at"] is not None
    assert failed["usage"]["credits_refunded"] == failed["usage"]["credits_charged"] == 75
    assert failed["usage"]["credits_settled"] == 0
    assert all(s["status"] == "failed" for s in failed["storyboard"]["shots"])


@pytest.mark.beatapi_fake(concurrency_limit=10)
async def test_script_match_and_times(api: Api) -> None:
    api.fake.script("fail", error_message="custom", match=lambda body: body.get("prompt") == "doomed", times=1)
    doomed = (await api.create_ec(prompt="doomed")).data
    fine = (await api.create_ec(prompt="fine")).data
    doomed_again = (await api.create_ec(prompt="doomed")).data
    assert (await api.wait_status(doomed["id"], "failed"))["error_message"] == "custom"
    await api.wait_status(fine["id"], "succeeded")
    await api.wait_status(doomed_again["id"], "succeeded")  # times=1 is used up


async def test_newest_script_wins(api: Api) -> None:
    api.fake.script("fail")
    api.fake.script("succeed", times=1)
    first = (await api.create_ec()).data
    second = (await api.create_ec()).data
    await api.wait_status(first["id"], "succeeded")
    await api.wait_status(second["id"], "failed")


async def test_hang_until_set_outcome(api: Api) -> None:
    api.fake.script("hang")
    created = (await api.create_ec()).data
    await api.wait_status(created["id"], "processing")
    await asyncio.sleep(0.15)  # 150 BeatAPI seconds: well past the 90 s render
    assert api.fake.task_json(created["id"])["status"] == "processing"
    assert api.fake.running_count == 1
    api.fake.set_outcome(created["id"], "fail", error_code="result_transfer_failed")
    failed = api.fake.task_json(created["id"])
    assert failed["status"] == "failed" and failed["error_code"] == "result_transfer_failed"
    assert api.fake.running_count == 0
    with pytest.raises(KeyError):
        api.fake.set_outcome("task_nope", "succeed")


async def test_set_outcome_fails_a_compose_and_refunds_only_it(api: Api) -> None:
    ready = await manual_ready(api)
    api.fake.set_outcome(ready["id"], "fail")
    shot_ids = [s["id"] for s in ready["storyboard"]["shots"]]
    assert (await api.post(f"/v1/music-video/tasks/{ready['id']}/compose", {"shot_ids": shot_ids})).status == 202
    failed = await api.wait_status(ready["id"], "failed")
    usage = failed["usage"]
    assert usage == {
        "credits_reserved": 61, "credits_charged": 61, "billable_duration_seconds": 12,
        "credits_settled": 60, "credits_refunded": 1,
    }  # fmt: skip


async def test_failed_edit_refunds_it_and_returns_to_the_storyboard(api: Api) -> None:
    ready = await manual_ready(api)
    shot_id = ready["storyboard"]["shots"][0]["id"]
    api.fake.set_outcome(ready["id"], "fail")
    assert (await api.post(f"/v1/music-video/tasks/{ready['id']}/shots/{shot_id}/edit", {"prompt": "x"})).status == 202
    back = await api.wait_status(ready["id"], "storyboard_ready")
    assert back["storyboard"]["shots"][0]["status"] == "failed"
    assert back["usage"]["credits_refunded"] == 25  # 5 credits/s x 5 s
    assert back["usage"]["credits_settled"] + back["usage"]["credits_refunded"] == back["usage"]["credits_charged"]


async def test_task_json_matches_the_poll_answer(api: Api, fake_beatapi: FakeBeatAPI) -> None:
    created = (await api.create_ec()).data
    done = await api.wait_status(created["id"], "succeeded")
    polled = (await api.get(f"/v1/tasks/{created['id']}")).data
    assert {k: v for k, v in polled.items() if k != "request_id"} == {
        k: v for k, v in done.items() if k != "request_id"
    }
    assert fake_beatapi.tasks[created["id"]].status == "succeeded"
