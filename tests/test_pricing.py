"""``client.estimate`` and the one price table: by hand, and equal to the emulator's reservations."""

from __future__ import annotations

import itertools
from decimal import Decimal

import attrs
import pytest

from beatapi_async import (
    AsyncBeatAPI,
    EcommerceVideoRequest,
    Estimate,
    MusicVideoRequest,
    PollPolicy,
    RequestValidationError,
)
from beatapi_async import _pricing as P
from beatapi_async.testing import FakeBeatAPI

from ._helpers import wav_bytes

IMAGES = ["https://cdn.example.com/a.png"]
SONG = "https://cdn.example.com/song.mp3"

# NOTES.md "Pricing", written out by hand (not read from the module under test).
LAUNCH = {
    ("standard", "540p", False): 4,
    ("standard", "720p", False): 5,
    ("standard", "1080p", False): 6,
    ("standard", "720p", True): 7,
    ("standard", "1080p", True): 8,
    ("high", "720p", False): 16,
    ("high", "1080p", False): 18,
    ("high", "720p", True): 18,
    ("high", "1080p", True): 20,
}


def settings() -> list[tuple[str | None, str | None, bool | None]]:
    """Every quality x resolution x lip-sync a request may carry (None: BeatAPI's default), valid ones only."""
    combos = []
    for quality, resolution, lip_sync in itertools.product(
        (None, "standard", "high"), (None, "540p", "720p", "1080p"), (None, False, True)
    ):
        try:
            MusicVideoRequest(images=IMAGES, audio_url=SONG, quality=quality, resolution=resolution, lip_sync=lip_sync)
        except RequestValidationError:
            continue  # high or lip-sync at 540p: refused before any price applies
        combos.append((quality, resolution, lip_sync))
    return combos


def launch_rate(quality: str | None, resolution: str | None, lip_sync: bool | None) -> int:
    return LAUNCH[(quality or "standard", resolution or "720p", lip_sync is True)]



# -- pure --------------------------------------------------------------------------------


def test_every_valid_setting_is_priced() -> None:
    combos = settings()
    assert len(combos) == 36 - 3 - 2  # high at 540p (3), lip-sync at 540p (2) are refused
    for quality, resolution, lip_sync in combos:
        request = MusicVideoRequest(
            images=IMAGES, audio_url=SONG, quality=quality, resolution=resolution, lip_sync=lip_sync
        )
        est = P.estimate(request, audio_seconds=30)
        rate = launch_rate(quality, resolution, lip_sync)
        assert est.credits == Decimal(rate * 30), (quality, resolution, lip_sync)
        assert est.rate == rate and est.billable_seconds == 30 and est.exact
        assert est.unit == "credits" and est.seconds_from == "audio_seconds"
        assert isinstance(est.credits, Decimal)


def test_the_combinations_beatapi_refuses_have_no_price() -> None:
    with pytest.raises(KeyError):
        P.music_video_rate("high", "540p")


@pytest.mark.parametrize("duration", [10, 15, 37, 60])
def test_ecommerce_is_fifteen_per_second(duration: int) -> None:
    est = P.estimate(EcommerceVideoRequest(images=IMAGES, duration=duration))
    assert est == Estimate(
        credits=Decimal(15 * duration), workflow="ecommerce-video", rate=Decimal(15), billable_seconds=duration
    )
    assert est.exact and est.reason == f"15 credits/s x {duration} s (the request's duration) = {15 * duration} credits"


def test_unknown_audio_is_the_upper_bound_and_inexact() -> None:
    request = MusicVideoRequest(images=IMAGES, audio_url=SONG, resolution="1080p", quality="high", duration=20)
    est = P.estimate(request)
    assert not est.exact
    assert est.billable_seconds == 180 and est.credits == Decimal(18 * 180)
    assert est.seconds_from == "upper_bound"
    assert "at most" in est.reason and "180" in est.reason


def test_audio_seconds_round_up_to_whole_seconds() -> None:
    request = MusicVideoRequest(images=IMAGES, audio_url=SONG)
    assert P.estimate(request, audio_seconds=12.2).billable_seconds == 13
    assert P.estimate(request, audio_seconds=Decimal("12.00")).billable_seconds == 12
    # the length as BeatAPI reports it (2 decimals) is what is billed
    assert P.estimate(request, audio_seconds=12.001).billable_seconds == 12


@pytest.mark.parametrize("bad", [0, 5, 181, -1, float("nan"), float("inf"), "30", True, Decimal("NaN")])
def test_bad_audio_seconds_is_named(bad: object) -> None:
    request = MusicVideoRequest(images=IMAGES, audio_url=SONG)
    with pytest.raises(RequestValidationError, match="audio_seconds"):
        P.estimate(request, audio_seconds=bad)  # type: ignore[arg-type]


def test_shot_edit_is_the_tasks_rate_times_shot_seconds() -> None:
    request = MusicVideoRequest(images=IMAGES, audio_url=SONG, resolution="1080p", lip_sync=True)
    est = P.estimate(request, operation="edit_shot")
    assert (est.credits, est.rate, est.billable_seconds, est.operation) == (Decimal(40), 8, 5, "edit_shot")
    assert P.estimate(request, operation="edit_shot", shot_seconds=12).credits == Decimal(96)
    with pytest.raises(RequestValidationError, match="shot_seconds"):
        P.estimate(request, operation="edit_shot", shot_seconds=0)


def test_compose_is_one_credit_fixed() -> None:
    request = MusicVideoRequest(images=IMAGES, audio_url=SONG, quality="high", resolution="1080p")
    est = P.estimate(request, operation="compose")
    assert (est.credits, est.rate, est.billable_seconds, est.exact) == (Decimal(1), None, None, True)
    assert "fixed" in est.reason


def test_edit_and_compose_are_music_video_only_and_operations_are_checked() -> None:
    with pytest.raises(RequestValidationError, match="operation"):
        P.estimate(EcommerceVideoRequest(images=IMAGES, duration=10), operation="compose")
    with pytest.raises(RequestValidationError, match="operation"):
        P.estimate(MusicVideoRequest(images=IMAGES, audio_url=SONG), operation="refund")  # type: ignore[arg-type]
    with pytest.raises(RequestValidationError, match="request"):
        P.estimate({"images": IMAGES, "duration": 10})


async def test_estimate_sends_nothing() -> None:
    # No server at this address: a request would fail loudly.
    async with AsyncBeatAPI("sk_test_x", base_url="http://127.0.0.1:9") as client:
        est = client.estimate(EcommerceVideoRequest(images=IMAGES, duration=20))
    assert est.credits == Decimal(300)


# -- against the emulator -----------------------------------------------------------------


@pytest.fixture
async def fake():
    async with FakeBeatAPI(
        speed=1000, concurrency_limit=100, credit_balance=1_000_000, poll_limit_per_minute=None
    ) as f:
        yield f


@pytest.fixture
async def client(fake):
    poll = PollPolicy(interval=0.01, max_interval=0.02, budget_per_minute=60_000, burst=10)
    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url, poll=poll) as c:
        yield c


async def test_an_uploaded_songs_length_makes_the_estimate_exact(fake, client) -> None:
    song = await client.files.upload(wav_bytes(12.3), filename="song.wav")
    request = MusicVideoRequest(images=IMAGES, audio_url=song.url)
    est = client.estimate(request)
    assert est.exact and est.seconds_from == "measured" and est.billable_seconds == 13
    # the argument wins over what the client knows
    assert client.estimate(request, audio_seconds=20).billable_seconds == 20
    # another client never uploaded it: unknown
    async with AsyncBeatAPI(fake.api_key, base_url=fake.base_url) as other:
        assert not other.estimate(request).exact


async def test_estimates_equal_the_emulators_reservations_for_every_setting(fake, client) -> None:
    song = await client.files.upload(wav_bytes(21.5), filename="song.wav")
    for quality, resolution, lip_sync in settings():
        request = MusicVideoRequest(
            images=IMAGES, audio_url=song.url, quality=quality, resolution=resolution, lip_sync=lip_sync
        )
        est = client.estimate(request)
        task = await client.music_video.create(request)
        assert task.usage is not None
        assert task.usage.credits_reserved == est.credits, (quality, resolution, lip_sync)
        assert task.usage.billable_duration_seconds == est.billable_seconds
    for duration in (10, 23, 60):
        request_ec = EcommerceVideoRequest(images=IMAGES, duration=duration)
        task = await client.ecommerce_video.create(request_ec)
        assert task.usage is not None and task.usage.credits_reserved == client.estimate(request_ec).credits


async def test_a_songs_declared_duration_is_priced_with_audio_seconds(fake, client) -> None:
    # An audio BeatAPI cannot measure is billed by ``duration``: the caller passes the length.
    request = MusicVideoRequest(images=IMAGES, audio_url=SONG, duration=42, resolution="1080p")
    task = await client.music_video.create(request)
    assert task.usage is not None
    assert task.usage.credits_reserved == client.estimate(request, audio_seconds=42).credits == Decimal(6 * 42)


async def test_shot_edits_and_compose_equal_the_emulators_charges(fake, client) -> None:
    song = await client.files.upload(wav_bytes(15), filename="song.wav")
    for lip_sync in (False, True):
        request = MusicVideoRequest(images=IMAGES, audio_url=song.url, compose_mode="manual", lip_sync=lip_sync)
        task = await client.wait_for_task(await client.music_video.create(request), until="actionable")
        assert task.storyboard is not None
        shot = task.storyboard.shots[0].id
        edits: list[tuple[str | None, str | None, int | None]] = [
            (None, None, None), ("high", "1080p", 7), ("standard", "540p", 3), (None, "1080p", 12), ("high", None, 5),
        ]
        for quality, resolution, seconds in edits:
            if lip_sync and resolution == "540p":
                continue
            await client.music_video.edit_shot(
                task.id, shot, prompt="brighter", duration=seconds, quality=quality, resolution=resolution
            )
            task = await client.wait_for_task(task.id, until="actionable")
            edited = attrs.evolve(
                request, quality=quality or request.quality, resolution=resolution or request.resolution
            )
            est = client.estimate(edited, operation="edit_shot", shot_seconds=seconds)
            charge = [e for e in fake.ledger if e.kind == "charge" and e.task_id == task.id][-1]
            assert (charge.operation, charge.amount) == ("edit", est.credits), (lip_sync, quality, resolution, seconds)
        await client.music_video.compose(task.id, shot_ids=[shot])
        charge = [e for e in fake.ledger if e.kind == "charge" and e.task_id == task.id][-1]
        assert (charge.operation, charge.amount) == ("compose", client.estimate(request, operation="compose").credits)
