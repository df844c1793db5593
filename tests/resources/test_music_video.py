"""``client.music_video`` over real loopback HTTP: create, shot media, shot edit, compose."""

from __future__ import annotations

import pytest

from beatapi_async import AsyncBeatAPI, MusicVideoRequest, RequestValidationError, ShotMedia, Task, TaskStatus

from .._helpers import AUDIO, IMG
from .._loopback import LoopbackBeatAPI


async def test_create_with_fields_sends_only_what_was_set(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    task = await live.music_video.create(
        images=[IMG],
        audio_url=AUDIO,
        prompt="Neon rooftop.",
        language="en",
        lip_sync=False,
        add_subtitle=True,
        subtitle_color="#FFFFFF",
    )
    assert isinstance(task, Task) and task.status is TaskStatus.QUEUED
    assert task.usage is not None and task.usage.billable_duration_seconds == 15
    (seen,) = server.seen("POST", "/v1/music-video/tasks")
    assert seen.json == {
        "images": [IMG],
        "audio_url": AUDIO,
        "prompt": "Neon rooftop.",
        "language": "en",
        "lip_sync": False,
        "add_subtitle": True,
        "subtitle_color": "#FFFFFF",
    }
    assert b"null" not in seen.body
    assert seen.headers["Content-Type"] == "application/json"
    assert seen.headers["Idempotency-Key"]


async def test_create_with_request_object(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    request = MusicVideoRequest(
        images=[IMG], audio_url=AUDIO, resolution="1080p", quality="high", compose_mode="manual", duration=30
    )
    await live.music_video.create(request)
    assert server.requests[-1].json == {
        "images": [IMG],
        "audio_url": AUDIO,
        "resolution": "1080p",
        "quality": "high",
        "compose_mode": "manual",
        "duration": 30,
    }


async def test_unknown_kwarg_is_named(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    with pytest.raises(RequestValidationError, match="lyrics") as info:
        await live.music_video.create(images=[IMG], audio_url=AUDIO, lyrics="la la")
    assert info.value.field == "lyrics"
    with pytest.raises(RequestValidationError, match="audio_url"):
        await live.music_video.create(images=[IMG])
    with pytest.raises(RequestValidationError, match="prompt"):
        await live.music_video.create(MusicVideoRequest(images=[IMG], audio_url=AUDIO), prompt="both")
    with pytest.raises(RequestValidationError, match="request"):
        await live.music_video.create([IMG])  # type: ignore[arg-type]
    assert server.requests == []


async def test_shot_media(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    media = await live.music_video.shot_media("task_8K2qA", "shot_xxx")
    assert isinstance(media, ShotMedia)
    assert media.shot_id == "shot_xxx" and media.task_id == "task_8K2qA" and media.status == "succeeded"
    assert media.media.url.endswith("/shots/shot_xxx.mp4") and media.media.mime_type == "video/mp4"
    (seen,) = server.requests
    assert (seen.method, seen.raw_path) == ("POST", "/v1/music-video/tasks/task_8K2qA/shots/shot_xxx/media")


async def test_edit_shot(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    task = await live.music_video.edit_shot("task_8K2qA", "shot/1", prompt="Brighter face light.", duration=5)
    assert task.status is TaskStatus.EDITING
    (seen,) = server.requests
    assert seen.raw_path == "/v1/music-video/tasks/task_8K2qA/shots/shot%2F1/edit"
    assert seen.json == {"prompt": "Brighter face light.", "duration": 5}
    assert seen.headers["Idempotency-Key"]


async def test_compose(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    task = await live.music_video.compose("task_8K2qA", ("shot_1", "shot_2"), idempotency_key="compose-1")
    assert task.status is TaskStatus.COMPOSING
    (seen,) = server.requests
    assert seen.raw_path == "/v1/music-video/tasks/task_8K2qA/compose"
    assert seen.json == {"shot_ids": ["shot_1", "shot_2"]}
    assert seen.headers["Idempotency-Key"] == "compose-1"


async def test_manual_flow_bad_input(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    with pytest.raises(RequestValidationError, match="shot_ids"):
        await live.music_video.compose("task_1", [])
    with pytest.raises(RequestValidationError, match="shot_ids"):
        await live.music_video.compose("task_1", "shot_1")
    with pytest.raises(RequestValidationError, match="prompt"):
        await live.music_video.edit_shot("task_1", "shot_1", prompt="")
    with pytest.raises(RequestValidationError, match="prompt"):
        await live.music_video.edit_shot("task_1", "shot_1", prompt="x" * 3001)
    with pytest.raises(RequestValidationError, match="duration"):
        await live.music_video.edit_shot("task_1", "shot_1", prompt="x", duration=0)
    with pytest.raises(RequestValidationError, match="quality"):
        await live.music_video.edit_shot("task_1", "shot_1", prompt="x", quality="high", resolution="540p")
    assert server.requests == []
