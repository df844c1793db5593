"""The read and create commands, through the entry point, against the emulator."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import Invoke, ThreadedEmulator, png_file, wav_file

IMAGE = "https://example.com/product.png"


def test_workflows_needs_no_key(invoke: Invoke) -> None:
    result = invoke("workflows", key=False)
    assert result.exit_code == 0, result.stderr
    assert "music-video" in result.stdout and "ecommerce-video" in result.stdout
    data = json.loads(invoke("workflows", "--json", key=False).stdout)
    assert [w["id"] for w in data] == ["music-video", "ecommerce-video"]


def test_json_may_come_before_the_command(invoke: Invoke) -> None:
    result = invoke("--json", "usage")
    assert json.loads(result.stdout)["concurrency"]["limit"] == 2


@pytest.mark.emulator(credit_balance=1234)
def test_usage_table_and_json(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    table = invoke("usage", "--period", "7d")
    assert table.exit_code == 0, table.stderr
    assert "1234" in table.stdout and "0 running of 2 allowed" in table.stdout
    data = json.loads(invoke("usage", "--json").stdout)
    assert data["credit_balance"] == 1234
    assert emulator.call(lambda f: f.requests_to("GET", "/v1/usage")[0].query) == {"period": "7d"}


def test_upload(invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    song = wav_file(tmp_path / "song.wav")
    data = json.loads(invoke("upload", str(song), "--json").stdout)
    assert data["mime_type"] == "audio/wav" and data["url"].startswith(emulator.base_url)
    assert data["id"] in emulator.call(lambda f: f.files)
    assert invoke("upload", str(tmp_path / "missing.wav")).exit_code == 2
    (tmp_path / "notes.txt").write_text("hello")
    bad = invoke("upload", str(tmp_path / "notes.txt"))
    assert bad.exit_code == 2 and bad.stderr.startswith("error: invalid input: ")


def test_create_ecommerce_prints_the_task(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    result = invoke("create", "ecommerce-video", "--image", IMAGE, "--duration", "15", "--prompt", "mug", "--json")
    assert result.exit_code == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["workflow"] == "ecommerce-video" and task["status"] == "queued"
    [create] = emulator.creates()
    assert create.json == {"images": [IMAGE], "duration": 15, "prompt": "mug"}
    assert create.headers["Idempotency-Key"]


def test_create_rejects_bad_input_before_sending(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    result = invoke("create", "ecommerce-video", "--image", IMAGE, "--duration", "5")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: invalid input: duration: must be from 10 to 60 (got 5)"
    missing = invoke("create", "ecommerce-video", "--image", IMAGE)
    assert missing.exit_code == 2 and "duration: is required" in missing.stderr
    local = invoke("create", "music-video", "--image", "http://10.0.0.1/a.png", "--audio", "https://example.com/s.mp3")
    assert local.exit_code == 2 and "images[0]" in local.stderr
    assert emulator.creates() == []


def test_create_from_a_json_file_with_flags_overriding(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    request = tmp_path / "request.json"
    request.write_text(json.dumps({"workflow": "ecommerce-video", "images": [IMAGE], "duration": 20, "prompt": "a"}))
    result = invoke("create", "ecommerce-video", "--from-json", str(request), "--prompt", "b")
    assert result.exit_code == 0, result.stderr
    assert emulator.creates()[0].json == {"images": [IMAGE], "duration": 20, "prompt": "b"}
    from_stdin = invoke("create", "ecommerce-video", "--from-json", "-", input=json.dumps({"images": [IMAGE]}))
    assert from_stdin.exit_code == 2 and "duration: is required" in from_stdin.stderr
    wrong = invoke("create", "music-video", "--from-json", str(request))
    assert wrong.exit_code == 2 and "not music-video" in wrong.stderr


def test_create_music_video_uploads_local_files_and_waits(
    invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path
) -> None:
    image, song = png_file(tmp_path / "cover.png"), wav_file(tmp_path / "song.wav")
    result = invoke("create", "music-video", "--image", str(image), "--audio", str(song), "--wait", "--json")
    assert result.exit_code == 0, result.stderr
    task = json.loads(result.stdout)
    assert task["status"] == "succeeded" and task["output"]["media"][0]["url"].startswith(emulator.base_url)
    body = emulator.creates()[0].json
    assert body["images"][0].startswith(emulator.base_url) and body["audio_url"].endswith(".wav")
    assert "uploaded" in result.stderr and "succeeded" in result.stderr


def test_a_failed_task_exits_1(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    emulator.call(lambda f: f.script("fail", error_code="processing_timeout"))
    result = invoke("create", "ecommerce-video", "--image", IMAGE, "--duration", "15", "--wait")
    assert result.exit_code == 1
    assert "failed" in result.stdout
    assert result.stderr.strip().splitlines()[-1].startswith("error: task task_")
    assert "processing_timeout" in result.stderr


def test_tasks_get_and_wait(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    task_id = json.loads(invoke("create", "ecommerce-video", "--image", IMAGE, "--duration", "15", "--json").stdout)[
        "id"
    ]
    got = json.loads(invoke("tasks", "get", task_id, "--json").stdout)
    assert got["id"] == task_id
    waited = invoke("tasks", "wait", task_id)
    assert waited.exit_code == 0, waited.stderr
    assert "succeeded" in waited.stdout and f"/outputs/{task_id}.mp4" in waited.stdout
    assert json.loads(invoke("tasks", "get", task_id, "--json").stdout)["status"] == "succeeded"


def test_tasks_wait_until_actionable_shows_the_storyboard(invoke: Invoke) -> None:
    result = invoke(
        "create",
        "music-video",
        "--image",
        IMAGE,
        "--audio",
        "https://example.com/s.mp3",
        "--compose-mode",
        "manual",
        "--json",
    )
    task_id = json.loads(result.stdout)["id"]
    waited = invoke("tasks", "wait", task_id, "--until", "actionable")
    assert waited.exit_code == 0, waited.stderr
    assert "requires_action" in waited.stdout and "shot_" in waited.stdout


def test_tasks_wait_timeout_and_unknown_task(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    emulator.call(lambda f: f.script("hang"))
    task_id = json.loads(invoke("create", "ecommerce-video", "--image", IMAGE, "--duration", "15", "--json").stdout)[
        "id"
    ]
    result = invoke("tasks", "wait", task_id, "--timeout", "0.2")
    assert result.exit_code == 3
    assert "wait_timeout" in result.stderr and "can be waited on again" in result.stderr
    missing = invoke("tasks", "get", "task_nope")
    assert missing.exit_code == 3 and missing.stderr.startswith("error: 404")


def test_webhooks_create_list_delete(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    created = invoke("webhooks", "create", "--url", "https://example.com/hook", "--event", "task.failed", "--json")
    assert created.exit_code == 0, created.stderr
    hook = json.loads(created.stdout)
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["task.failed"]
    table = invoke("webhooks", "create", "--url", "https://example.com/other", "--description", "two")
    assert "whsec_" in table.stdout and "Store the secret now" in table.stderr
    listed = json.loads(invoke("webhooks", "list", "--json").stdout)
    assert {h["url"] for h in listed} == {"https://example.com/hook", "https://example.com/other"}
    assert hook["secret"] not in invoke("webhooks", "list").stdout
    deleted = json.loads(invoke("webhooks", "delete", hook["id"], "--json").stdout)
    assert deleted == {"id": hook["id"], "deleted": True}
    assert len(emulator.call(lambda f: f.webhook_endpoints)) == 1
    assert invoke("webhooks", "create", "--url", "ftp://example.com").exit_code == 2
