"""Pricing, the ledger, 402, the concurrency limit, the poll limit and usage."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import pytest

from .._helpers import wav_bytes
from ._support import Api


@pytest.mark.parametrize(
    ("fields", "billable", "price"),
    [
        ({}, 15, 75),  # no measurable audio, no duration: 15 s at 720p standard (5/s)
        ({"duration": 40}, 40, 200),
        ({"resolution": "540p", "duration": 10}, 10, 40),
        ({"resolution": "1080p", "duration": 10}, 10, 60),
        ({"resolution": "1080p", "lip_sync": True, "duration": 10}, 10, 80),
        ({"quality": "high", "duration": 10}, 10, 160),
        ({"quality": "high", "resolution": "1080p", "lip_sync": True, "duration": 10}, 10, 200),
    ],
)
async def test_music_video_pricing(api: Api, fields: dict[str, Any], billable: int, price: int) -> None:
    usage = (await api.create_mv(**fields)).data["usage"]
    assert usage["billable_duration_seconds"] == billable
    assert usage["credits_reserved"] == usage["credits_charged"] == price
    assert api.fake.credit_balance == 10_000 - price


async def test_uploaded_audio_duration_wins_over_the_duration_field(api: Api) -> None:
    upload = await api.call("POST", "/v1/files", data=wav_bytes(12.3), headers={"Content-Type": "audio/wav"})
    audio_url = upload.data["url"]
    usage = (await api.create_mv(audio_url=audio_url, duration=100)).data["usage"]
    assert usage["billable_duration_seconds"] == 13  # 12.3 s, rounded up
    assert usage["credits_charged"] == 65


async def test_ecommerce_pricing(api: Api) -> None:
    usage = (await api.create_ec(duration=20)).data["usage"]
    assert usage["billable_duration_seconds"] == 20
    assert usage["credits_charged"] == 300


@pytest.mark.beatapi_fake(concurrency_limit=20)
async def test_ledger_adds_up_at_terminal_states(api: Api) -> None:
    api.fake.script("fail", times=3)
    ids = [(await api.create_mv(duration=10 + i)).data["id"] for i in range(8)]
    for task_id in ids:
        await api.wait_status(task_id, "succeeded", "failed")
    for task_id in ids:
        usage = api.fake.task_json(task_id)["usage"]
        assert usage["credits_settled"] + usage["credits_refunded"] == usage["credits_charged"]
    ledger = api.fake.ledger
    charged = sum(e.amount for e in ledger if e.kind == "charge")
    settled = sum(e.amount for e in ledger if e.kind == "settle")
    refunded = sum(e.amount for e in ledger if e.kind == "refund")
    assert charged == settled + refunded
    assert api.fake.credit_balance == 10_000 - settled
    assert sum(1 for e in ledger if e.kind == "refund") == 3
    assert all(isinstance(e.amount, Decimal) for e in ledger)


@pytest.mark.beatapi_fake(credit_balance=100)
async def test_insufficient_credits_is_402_and_creates_nothing(api: Api) -> None:
    reply = await api.create_mv(duration=30)  # 150 credits
    assert reply.status == 402
    assert reply.error["code"] == "insufficient_credits"
    assert api.fake.tasks == {} and api.fake.ledger == []
    assert api.fake.credit_balance == 100
    assert (await api.create_mv(duration=20)).status == 201  # exactly 100
    assert api.fake.credit_balance == 0
    # Dollars-and-cents balances (newer deployments) go out as JSON decimals,
    # which the launch contract's integer schema does not cover.
    api.fake.credit_balance = Decimal("12.5")
    assert (await api.get("/v1/usage", check=False)).data["credit_balance"] == 12.5


@pytest.mark.beatapi_fake(speed=1, concurrency_limit=2)
async def test_concurrency_limit_429_creates_nothing(api: Api) -> None:
    assert (await api.create_ec()).status == 201
    assert (await api.create_ec()).status == 201
    reply = await api.create_ec()
    assert reply.status == 429
    assert reply.error["code"] == "user_concurrency_exceeded"
    assert "limit of 2" in reply.error["message"]
    # The launch answer carries no retry hint.
    assert "retryable" not in reply.error and "retry_after_seconds" not in reply.error
    assert "Retry-After" not in reply.headers
    assert len(api.fake.tasks) == 2
    assert api.fake.concurrency_rejections == 1
    assert api.fake.credit_balance == 10_000 - 2 * 225
    api.fake.concurrency_limit = 3
    assert (await api.create_ec()).status == 201
    assert api.fake.peak_running == api.fake.running_count == 3


@pytest.mark.beatapi_fake(speed=1, concurrency_limit=3, other_active=2)
async def test_other_processes_hold_slots(api: Api) -> None:
    usage = (await api.get("/v1/usage")).data
    assert usage["concurrency"] == {"limit": 3, "active": 2}
    assert (await api.create_ec()).status == 201
    assert (await api.create_ec()).status == 429
    api.fake.other_active = 0
    assert (await api.create_ec()).status == 201
    assert (await api.get("/v1/usage")).data["concurrency"] == {"limit": 3, "active": 2}
    assert api.fake.peak_running == 2  # only this key's tasks


@pytest.mark.beatapi_fake(speed=1, concurrency_limit=1, concurrency_retry_after=30)
async def test_concurrency_429_can_carry_a_retry_hint(api: Api) -> None:
    await api.create_ec()
    reply = await api.create_ec()
    assert reply.status == 429
    assert reply.error["retryable"] is True
    assert reply.error["retry_after_seconds"] == 30  # 30 BeatAPI s at speed 1
    assert reply.headers["Retry-After"] == "30"


async def test_storyboard_ready_frees_the_slot(api: Api) -> None:
    created = (await api.create_mv(compose_mode="manual")).data
    assert api.fake.running_count == 1
    await api.wait_status(created["id"], "requires_action")
    assert api.fake.running_count == 0
    assert (await api.get("/v1/usage")).data["concurrency"]["active"] == 0


@pytest.mark.beatapi_fake(speed=60, poll_limit_per_minute=3)
async def test_poll_limit_429_with_retry_after(api: Api) -> None:
    task_id = (await api.create_ec()).data["id"]
    for _ in range(3):
        assert (await api.get(f"/v1/tasks/{task_id}")).status == 200
    reply = await api.get(f"/v1/tasks/{task_id}")
    assert reply.status == 429
    assert reply.error["code"] == "rate_limit_exceeded"
    # The window is 60 BeatAPI s = 1 real s at speed 60: wait about one second.
    assert reply.headers["Retry-After"] == "1"
    assert reply.error["retry_after_seconds"] == 1
    assert api.fake.rate_limited_count == 1
    # Other routes are not limited.
    assert (await api.get("/v1/usage")).status == 200
    api.fake.speed = 6000  # the rest of the window passes at once
    await asyncio.sleep(0.02)
    assert (await api.get(f"/v1/tasks/{task_id}")).status == 200


@pytest.mark.beatapi_fake(speed=1, poll_limit_per_minute=1)
async def test_retry_after_counts_real_seconds_of_the_window(api: Api) -> None:
    task_id = (await api.create_ec()).data["id"]
    await api.get(f"/v1/tasks/{task_id}")
    reply = await api.get(f"/v1/tasks/{task_id}")
    assert 59 <= int(reply.headers["Retry-After"]) <= 60


@pytest.mark.beatapi_fake(poll_limit_per_minute=None)
async def test_max_polls_in_window(api: Api) -> None:
    task_id = (await api.create_ec()).data["id"]
    for _ in range(5):
        await api.get(f"/v1/tasks/{task_id}")
    await asyncio.sleep(0.3)
    for _ in range(2):
        await api.get(f"/v1/tasks/{task_id}")
    assert api.fake.max_polls_in_window(0.2) == 5
    assert api.fake.max_polls_in_window(10) == 7
    assert api.fake.rate_limited_count == 0


@pytest.mark.beatapi_fake(concurrency_limit=10)
async def test_usage_totals_add_up(api: Api) -> None:
    api.fake.script("fail", times=1)
    ids = [(await api.create_mv(duration=10)).data["id"] for _ in range(2)]
    ids.append((await api.create_ec(duration=10)).data["id"])
    for task_id in ids:
        await api.wait_status(task_id, "succeeded", "failed")
    usage = (await api.get("/v1/usage")).data
    assert usage["object"] == "usage"
    assert usage["total_tasks"] == 3
    assert usage["credits_refunded"] == 50
    assert usage["credits_settled"] == 50 + 150
    by = {row["workflow"]: row for row in usage["by_workflow"]}
    assert by["music-video"] == {"workflow": "music-video", "tasks": 2, "credits_settled": 50}
    assert by["ecommerce-video"] == {"workflow": "ecommerce-video", "tasks": 1, "credits_settled": 150}
    assert sum(r["tasks"] for r in usage["by_workflow"]) == usage["total_tasks"]
    assert sum(r["credits_settled"] for r in usage["by_workflow"]) == usage["credits_settled"]
    assert usage["credit_balance"] == 10_000 - usage["credits_settled"]
    assert usage["realtime"] == {"sessions": 0, "credits": 0, "active": 0}


@pytest.mark.beatapi_fake(concurrency_limit=10)
async def test_usage_period_filters_by_creation_time(api: Api) -> None:
    old = (await api.create_ec()).data["id"]
    await api.wait_status(old, "succeeded")
    api.fake.speed = 10_000_000  # two BeatAPI days pass in ~17 ms
    await asyncio.sleep(0.03)
    api.fake.speed = 1000
    new = (await api.create_ec()).data["id"]
    await api.wait_status(new, "succeeded")
    periods = {}
    for period in ("24h", "7d", "30d", "all"):
        periods[period] = (await api.get(f"/v1/usage?period={period}")).data
    assert periods["24h"]["total_tasks"] == 1
    assert periods["7d"]["total_tasks"] == periods["30d"]["total_tasks"] == periods["all"]["total_tasks"] == 2
    assert periods["24h"]["credits_settled"] == 225
    assert periods["all"]["credits_settled"] == 450
    assert (await api.get("/v1/usage")).data == {**periods["all"]}
    reply = await api.get("/v1/usage?period=1y")
    assert reply.status == 400
    assert reply.error["details"]["field"] == "period"


@pytest.mark.beatapi_fake(speed=1)
async def test_now_runs_on_the_scaled_clock(api: Api) -> None:
    before = api.fake.now()
    api.fake.speed = 1_000_000
    await asyncio.sleep(0.01)
    assert api.fake.now() - before >= 10_000
