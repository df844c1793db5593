"""``run BATCH.jsonl``: bad lines, limits, results, and resuming without creating anything twice."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import FAST_POLL, ROOT, Invoke, ThreadedEmulator, interruptible, subprocess_env

IMAGE = "https://example.com/product.png"


def ecommerce(prompt: str, **extra: Any) -> dict[str, Any]:
    return {"workflow": "ecommerce-video", "images": [IMAGE], "duration": 15, "prompt": prompt, **extra}


def write_batch(path: Path, *lines: dict[str, Any] | str) -> Path:
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def created_prompts(emulator: ThreadedEmulator) -> list[str]:
    return sorted(t.body.get("prompt", "") for t in emulator.call(lambda f: list(f.tasks.values())))


def test_bad_lines_are_reported_by_number_and_skipped(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    batch = write_batch(
        tmp_path / "batch.jsonl",
        ecommerce("good one", id="a"),
        "{not json",
        {"workflow": "podcast", "images": [IMAGE]},
        "",
        ecommerce("too short", duration=5),
        ecommerce("private", images=["https://192.168.1.2/x.png"]),
        ecommerce("dup", id="a"),
        ecommerce("unknown field", colour="red"),
        '["a list"]',
        {"workflow": "music-video", "images": [IMAGE], "audio_url": "https://example.com/s.mp3", "prompt": "good two"},
    )
    out = tmp_path / "results.jsonl"
    result = invoke("run", str(batch), "--out", str(out))
    assert result.exit_code == 2, result.stderr
    rows = {row["line"]: row for row in read_jsonl(out)}
    assert sorted(rows) == [1, 2, 3, 5, 6, 7, 8, 9, 10]
    assert [row["line"] for row in read_jsonl(out)] == sorted(rows)  # rewritten in line order
    assert rows[1]["status"] == rows[10]["status"] == "succeeded"
    assert rows[1]["id"] == "a" and rows[1]["task_id"] and rows[1]["video_url"]
    errors = {n: rows[n]["error"] for n in rows if rows[n]["status"] == "invalid"}
    assert errors[2].startswith("not valid JSON")
    assert "unknown workflow 'podcast'" in errors[3]
    assert errors[5] == "duration: must be from 10 to 60 (got 5)"
    assert errors[6].startswith("images[0]: must be a public URL")
    assert errors[7] == "duplicate id 'a' (first on line 1)"
    assert errors[8] == "colour: is not a field of ecommerce-video"
    assert "JSON object" in errors[9]
    for n in errors:
        assert f"line {n}" in result.stderr
    # Only the two good lines reached BeatAPI, each once.
    assert created_prompts(emulator) == ["good one", "good two"]
    assert len(emulator.creates()) == 2


@pytest.mark.emulator(concurrency_limit=2)
def test_runs_within_the_limit_and_reports_failures(invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    emulator.call(lambda f: f.script("fail", match=lambda body: body.get("prompt") == "p3"))
    batch = write_batch(tmp_path / "batch.jsonl", *(ecommerce(f"p{i}", id=f"r{i}") for i in range(6)))
    result = invoke("run", str(batch), "--json")
    assert result.exit_code == 1, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == [f"r{i}" for i in range(6)]
    assert [r["status"] for r in rows] == ["succeeded"] * 3 + ["failed"] + ["succeeded"] * 2
    assert rows[3]["error"].startswith("processing_failed") and rows[3]["video_url"] is None
    assert emulator.call(lambda f: f.peak_running) <= 2
    assert emulator.call(lambda f: f.concurrency_rejections) == 0
    assert len(emulator.creates()) == 6
    # The state file sits beside the batch when there is no --out.
    assert (tmp_path / "batch.jsonl.state").exists()


def test_resume_after_a_timeout_waits_instead_of_creating(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    emulator.call(lambda f: f.script("hang", match=lambda body: body.get("prompt") == "slow"))
    batch = write_batch(tmp_path / "batch.jsonl", ecommerce("fast", id="f"), ecommerce("slow", id="s"))
    out = tmp_path / "results.jsonl"
    first = invoke("run", str(batch), "--out", str(out), "--timeout", "0.3")
    assert first.exit_code == 3
    rows = {r["id"]: r for r in read_jsonl(out)}
    assert rows["f"]["status"] == "succeeded"
    assert rows["s"]["status"] == "processing" and "wait_timeout" in rows["s"]["error"]
    state = read_jsonl(tmp_path / "results.jsonl.state")
    assert {r["task_id"] for r in state if "task_id" in r} == {rows["f"]["task_id"], rows["s"]["task_id"]}

    emulator.call(lambda f: f.set_outcome(rows["s"]["task_id"], "succeed"))
    second = invoke("run", str(batch), "--out", str(out))
    assert second.exit_code == 0, second.stderr
    again = {r["id"]: r for r in read_jsonl(out)}
    assert again["s"]["status"] == "succeeded" and again["s"]["resumed"] is True
    assert {k: r["task_id"] for k, r in again.items()} == {k: r["task_id"] for k, r in rows.items()}
    assert len(emulator.creates()) == 2  # nothing created twice


def test_a_line_edited_after_its_task_was_made_is_not_rerun(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", ecommerce("one", id="x"))
    assert invoke("run", str(batch)).exit_code == 0
    write_batch(batch, ecommerce("one, edited", id="x"), ecommerce("new", id="y"))
    result = invoke("run", str(batch), "--json")
    assert result.exit_code == 2
    rows = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert rows["x"]["status"] == "invalid" and "changed since an earlier run" in rows["x"]["error"]
    assert rows["y"]["status"] == "succeeded"
    assert created_prompts(emulator) == ["new", "one"]


def test_dry_run_sends_nothing(invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", ecommerce("a"), ecommerce("b", duration=1))
    result = invoke("run", str(batch), "--dry-run", key=False)
    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        "line 1: create ecommerce-video: 15 credits/s x 15 s (the request's duration) = 225 credits",
        "line 2: skip: duration: must be from 10 to 60 (got 1)",
        "total: 225 credits for 1 create (launch prices)",
        "balance: unknown (no API key)",
    ]
    assert emulator.call(lambda f: f.requests) == []


def test_missing_key_before_anything_is_written(invoke: Invoke, tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", ecommerce("a"))
    result = invoke("run", str(batch), "--out", str(tmp_path / "out.jsonl"), key=False)
    assert result.exit_code == 2 and "BEATAPI_API_KEY" in result.stderr
    assert not (tmp_path / "out.jsonl").exists() and not (tmp_path / "out.jsonl.state").exists()


def test_a_torn_state_line_from_a_crash_is_ignored(invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    batch = write_batch(tmp_path / "batch.jsonl", ecommerce("a", id="a"))
    (tmp_path / "batch.jsonl.state").write_text('{"key":"id:a","line":1,"finger')
    result = invoke("run", str(batch), "--json")
    assert result.exit_code == 0, result.stderr
    state = (tmp_path / "batch.jsonl.state").read_text().splitlines()
    assert state[0] == '{"key":"id:a","line":1,"finger'
    assert all(json.loads(line)["key"] == "id:a" for line in state[1:])


def _wait_until(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.02)


@pytest.mark.emulator(concurrency_limit=5)
def test_ctrl_c_then_rerun_creates_nothing_twice(invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    """Interrupt a real process mid-batch: one task hangs, one create's answer never arrives."""
    emulator.call(lambda f: f.script("hang", match=lambda body: body.get("prompt") == "hangs"))
    # The music video is created at BeatAPI, but its answer stalls: the run only knows the key it sent.
    emulator.call(lambda f: f.add_fault("POST", "/v1/music-video/tasks", stall=30, after=True))
    music = {"workflow": "music-video", "id": "m", "images": [IMAGE], "audio_url": "https://example.com/s.mp3"}
    batch = write_batch(tmp_path / "batch.jsonl", ecommerce("ok", id="e1"), ecommerce("hangs", id="e2"), music)
    out, state_path = tmp_path / "results.jsonl", tmp_path / "results.jsonl.state"
    args = [
        "--base-url",
        emulator.base_url,
        "--api-key",
        emulator.api_key,
        *FAST_POLL,
        "run",
        str(batch),
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(
        interruptible(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(),
        cwd=ROOT,
    )
    try:

        def recorded() -> dict[str, dict[str, Any]]:
            merged: dict[str, dict[str, Any]] = {}
            if state_path.exists():
                for line in state_path.read_text().splitlines():
                    merged.setdefault(json.loads(line)["key"], {}).update(json.loads(line))
            return merged

        _wait_until(
            lambda: (
                {"id:e1", "id:e2", "id:m"} <= recorded().keys()
                and all("task_id" in recorded()[k] for k in ("id:e1", "id:e2"))
            )
        )
        emulator.wait_for(lambda f: len(f.tasks) == 3)  # the music video exists at BeatAPI
        assert "task_id" not in recorded()["id:m"]
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, stderr
    assert "run the same command again to resume" in stderr
    assert "Traceback" not in stderr

    tasks_before = emulator.call(lambda f: set(f.tasks))
    hung = recorded()["id:e2"]["task_id"]
    emulator.call(lambda f: f.clear_faults())
    emulator.call(lambda f: f.set_outcome(hung, "succeed"))
    result = invoke("run", str(batch), "--out", str(out))
    assert result.exit_code == 0, result.stderr
    rows = {r["id"]: r for r in read_jsonl(out)}
    assert {r["status"] for r in rows.values()} == {"succeeded"}
    # Three lines, three tasks: the rerun waited on e1/e2 and re-sent m with its recorded key.
    assert emulator.call(lambda f: set(f.tasks)) == tasks_before
    assert {r["task_id"] for r in rows.values()} == tasks_before
    creates = emulator.creates()
    assert [c.path for c in creates].count("/v1/ecommerce-video/tasks") == 2
    music_keys = {c.headers["Idempotency-Key"] for c in creates if c.path == "/v1/music-video/tasks"}
    assert music_keys == {recorded()["id:m"]["idempotency_key"]}
