"""Every endpoint through the client against the emulator, each answer also read strictly.

The strict converter refuses fields our models do not declare, so drift between the
emulator (built from the contract) and the models shows up here.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from beatapi_async import (
    AsyncBeatAPI,
    ConflictError,
    Deleted,
    EcommerceVideoRequest,
    File,
    MusicVideoRequest,
    NotFoundError,
    PollPolicy,
    RealtimeSession,
    ShotMedia,
    Task,
    Usage,
    WebhookEndpoint,
    Workflow,
)
from beatapi_async._convert import make_converter, unstructure
from beatapi_async.testing import FakeBeatAPI

from ._helpers import wav_bytes

STRICT = make_converter(strict=True)
# Fields newer deployments add that the launch contract lacks; the emulator sends them.
NEWER = {"poll_after_seconds", "retryable"}


def strictly(model: object) -> None:
    data = unstructure(model)
    if isinstance(data, dict):
        for name in NEWER:
            data.pop(name, None)
    assert STRICT.structure(data, type(model)) is not None



@pytest.fixture
async def fake():
    async with FakeBeatAPI(speed=1000, concurrency_limit=3) as f:
        yield f


@pytest.fixture
async def client(fake):
    poll = PollPolicy(interval=0.01, max_interval=0.02, budget_per_minute=60_000)
    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=poll) as c:
        yield c


async def test_workflows_and_usage(client, fake):
    workflows = await client.workflows.list()
    assert {w.id for w in workflows} == {"music-video", "ecommerce-video"}
    assert all(isinstance(w, Workflow) for w in workflows)
    assert "authorization" not in {k.lower() for k in fake.requests_to("GET", "/v1/workflows")[0].headers}
    usage = await client.usage.get(period="7d")
    assert isinstance(usage, Usage) and usage.concurrency.limit == 3
    assert usage.credit_balance == Decimal(10_000)
    for m in (*workflows, usage):
        strictly(m)


async def test_upload_then_music_video_with_the_uploaded_song(client, fake, tmp_path):
    path = tmp_path / "song.wav"
    path.write_bytes(wav_bytes())
    song = await client.files.upload(path)
    assert isinstance(song, File) and song.mime_type == "audio/wav"
    assert song.audio_duration_seconds == pytest.approx(12.0, abs=0.1)
    cover = await client.files.upload(b"\x89PNG\r\n\x1a\n" + b"\0" * 64, filename="cover.png")
    strictly(song)
    strictly(cover)
    task = await client.music_video.create(images=[cover.url], audio_url=song.url, prompt="neon", resolution="720p")
    assert isinstance(task, Task) and task.status in ("queued", "processing")
    strictly(task)
    done = await client.wait_for_task(task, timeout=10)
    assert done.status == "succeeded" and done.video_url
    assert done.usage is not None
    assert done.usage.credits_settled + done.usage.credits_refunded == done.usage.credits_charged
    assert done.usage.credits_charged == 5 * 12  # 720p standard: 5 credits/s of the detected 12 s
    strictly(done)
    assert (await client.tasks.get(task.id)).status == "succeeded"


async def test_manual_flow_shot_media_edit_compose(client):
    request = MusicVideoRequest(images=["https://cdn.example.com/a.png"], audio_url="https://cdn.example.com/a.mp3",
                                compose_mode="manual")
    board = await client.wait_for_task(await client.music_video.create(request), until="actionable", timeout=10)
    assert board.status == "requires_action"
    assert board.storyboard is not None and board.storyboard.shots
    shot = board.storyboard.shots[0]
    media = await client.music_video.shot_media(board.id, shot.id)
    assert isinstance(media, ShotMedia) and media.shot_id == shot.id and media.media.url
    strictly(media)
    edited = await client.music_video.edit_shot(board.id, shot.id, prompt="golden hour", duration=5)
    strictly(edited)
    board = await client.wait_for_task(edited, until="actionable", timeout=10)
    composed = await client.music_video.compose(board.id, [s.id for s in board.storyboard.shots])
    final = await client.wait_for_task(composed, timeout=10)
    assert final.status == "succeeded"
    with pytest.raises(NotFoundError):
        await client.music_video.shot_media(board.id, "shot_missing")


async def test_ecommerce_video_request_object(client):
    task = await client.ecommerce_video.create(
        EcommerceVideoRequest(images=["https://cdn.example.com/p.png"], duration=15, aspect_ratio="9:16")
    )
    assert task.workflow == "ecommerce-video"
    assert task.usage is not None and task.usage.credits_charged == 15 * 15


async def test_webhook_endpoint_crud(client):
    hook = await client.webhooks.create(url="https://example.com/hook", events=["task.succeeded"], description="prod")
    assert isinstance(hook, WebhookEndpoint) and hook.secret and hook.secret.startswith("whsec_")
    assert hook.secret not in repr(hook)
    strictly(hook)
    listed = await client.webhooks.list()
    assert [h.id for h in listed] == [hook.id]
    assert listed[0].secret != hook.secret  # masked after create
    fetched = await client.webhooks.get(hook.id)
    updated = await client.webhooks.update(hook.id, status="disabled")
    assert updated.status == "disabled" and updated.description == fetched.description == "prod"
    deleted = await client.webhooks.delete(hook.id)
    assert isinstance(deleted, Deleted) and deleted.deleted and deleted.id == hook.id
    with pytest.raises(NotFoundError):
        await client.webhooks.get(hook.id)


async def test_realtime_sessions_and_idempotency(client, fake):
    session = await client.realtime.create_session(
        max_duration_seconds=60, allowed_origins=["https://app.example.com"], idempotency_key="rt-1"
    )
    assert isinstance(session, RealtimeSession) and session.client_secret
    assert session.client_secret not in repr(session)
    strictly(session)
    again = await client.realtime.create_session(
        max_duration_seconds=60, allowed_origins=["https://app.example.com"], idempotency_key="rt-1"
    )
    assert again.id == session.id
    with pytest.raises(ConflictError) as info:
        await client.realtime.create_session(
            max_duration_seconds=15, allowed_origins=["https://app.example.com"], idempotency_key="rt-1"
        )
    assert info.value.code == "idempotency_conflict"
    got = await client.realtime.get_session(session.id)
    assert got.id == session.id and got.client_secret is None
    closed = await client.realtime.close_session(session.id)
    assert closed.status == "closed"
    assert (await client.realtime.close_session(session.id)).status == "closed"  # idempotent
    with pytest.raises(NotFoundError):
        await client.realtime.get_session("rts_a/b")


async def test_a_retried_create_is_one_task(client, fake):
    fake.add_fault("POST", "/v1/ecommerce-video/tasks", reset=True, after=True)
    task = await client.ecommerce_video.create(images=["https://cdn.example.com/p.png"], duration=10)
    creates = fake.requests_to("POST", "/v1/ecommerce-video/tasks")
    assert len(creates) == 2
    assert creates[0].headers["Idempotency-Key"] == creates[1].headers["Idempotency-Key"]
    assert list(fake.tasks) == [task.id]
