"""``run --dry-run`` prices every line; ``run --max-credits``; the final table's credits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from .conftest import Invoke, ThreadedEmulator

IMAGE = "https://example.com/product.png"
SONG = "https://example.com/song.mp3"


def ecommerce(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"workflow": "ecommerce-video", "images": [IMAGE], "duration": 10, "prompt": prompt, **extra}


def music(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"workflow": "music-video", "images": [IMAGE], "audio_url": SONG, "prompt": prompt, **extra}


def write_batch(path: Path, *lines: dict[str, Any]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.mark.emulator(credit_balance=1234)
def test_dry_run_prints_each_estimate_the_total_and_the_balance(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    batch = write_batch(
        tmp_path / "batch.jsonl",
        ecommerce("a", id="a"),
        music("b", resolution="1080p", lip_sync=True),
    )
    result = invoke("run", str(batch), "--dry-run")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "line 1: create ecommerce-video: 15 credits/s x 10 s (the request's duration) = 150 credits",
        "line 2: create music-video: standard 1080p + lip-sync: 8 credits/s x 180 s "
        "(audio length unknown: the longest audio BeatAPI accepts (180 s)) = at most 1440 credits",
        "total: at most 1590 credits for 2 creates (launch prices)",
        "balance: 1234 (less than the total: creates it cannot cover end unsent)",
    ]
    sent = emulator.call(lambda f: [(r.method, r.path) for r in f.requests])
    assert sent == [("GET", "/v1/usage")]  # the balance, and nothing billable


@pytest.mark.emulator(credit_balance=5000)
def test_dry_run_json_has_an_estimate_per_line_and_a_total(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", ecommerce("a", duration=20), ecommerce("b", duration=5))
    result = invoke("run", str(batch), "--dry-run", "--json")
    assert result.exit_code == 2  # a bad line
    first, second, summary = (json.loads(line) for line in result.stdout.splitlines())
    assert first["action"] == "create" and first["workflow"] == "ecommerce-video"
    estimate = first["estimate"]
    assert (estimate["credits"], estimate["rate"], estimate["billable_seconds"]) == (300, 15, 20)
    assert estimate["exact"] is True and estimate["unit"] == "credits" and "300 credits" in estimate["reason"]
    assert second["action"] == "skip" and second["estimate"] is None
    assert summary == {
        "total": {"credits": 300, "exact": True, "unit": "credits", "creates": 1},
        "balance": 5000,
    }


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.emulator(credit_balance=100_000)
def test_max_credits_stops_the_batch_at_the_cap(invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", *(ecommerce(f"p{i}", id=f"p{i}") for i in range(4)))
    out = tmp_path / "out.jsonl"
    result = invoke("run", str(batch), "--max-credits", "300", "--out", str(out))
    assert result.exit_code == 3, result.stderr  # lines ended unsent: not all done
    rows = read_jsonl(out)
    done = [r for r in rows if r["status"] == "succeeded"]
    unsent = [r for r in rows if r["status"] == "error"]
    assert len(done) == 2 and len(unsent) == 2
    assert all(r["credits_reserved"] == 150 and r["credits_settled"] == 150 for r in done)
    assert all(r["credits_refunded"] == 0 for r in done)
    assert all(r["error"].startswith("max_credits:") and r["task_id"] is None for r in unsent)
    assert all(r["credits_reserved"] is None for r in unsent)
    assert len(emulator.creates()) == 2
    assert "credits: 300 reserved, 300 settled, 0 refunded; 2 not sent (credits)" in result.stderr


@pytest.mark.emulator(credit_balance=300)
def test_a_small_balance_ends_the_rest_unsent_and_the_table_shows_credits(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    emulator.call(lambda f: f.script("fail", times=1))  # the first task fails: refunded
    batch = write_batch(tmp_path / "batch.jsonl", *(ecommerce(f"p{i}") for i in range(4)))
    result = invoke("run", str(batch))
    statuses = [r.status for r in emulator.creates()]
    assert 402 not in statuses  # nothing the balance could not cover was sent
    assert "RESERVED" in result.stdout and "REFUNDED" in result.stdout
    assert "150 refunded" in result.stderr
    assert "insufficient_credits" in result.stdout


@pytest.mark.parametrize("bad", ["lots", "-5", "nan"])
def test_a_bad_max_credits_is_a_usage_error(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path, bad: str
) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", ecommerce("a"))
    result = invoke("run", str(batch), "--max-credits", bad)
    assert result.exit_code == 2 and "--max-credits" in result.stderr
    assert emulator.call(lambda f: f.requests) == []
