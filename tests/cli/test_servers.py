"""The long-running commands as real processes: ``emulator``, ``webhooks listen`` and ``demo``."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

import pytest
from click.testing import CliRunner

from beatapi_async.cli._app import cli
from beatapi_async.webhooks import sign

from .conftest import ROOT, Invoke, ThreadedEmulator, interruptible, run_cli, subprocess_env


@contextmanager
def process(*args: str, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[str]]:
    proc = subprocess.Popen(
        interruptible(*args),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=subprocess_env(env),
        cwd=ROOT,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)


def read_until(stream: IO[str] | None, pattern: str, timeout: float = 15.0) -> re.Match[str]:
    """Read lines until one matches (the process prints as it goes: PYTHONUNBUFFERED)."""
    assert stream is not None
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        found = re.search(pattern, line)
        if found:
            return found
    raise AssertionError(f"no line matched {pattern!r}; got {seen!r}")


def stop(proc: subprocess.Popen[str]) -> tuple[int, str]:
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=10)
    return proc.returncode, stderr


def test_emulator_prints_its_url_and_key_and_serves() -> None:
    with process(
        "emulator", "--port", "0", "--speed", "500", "--concurrency-limit", "4", "--key", "sk_test_cli"
    ) as proc:
        base_url = read_until(proc.stdout, r"export BEATAPI_BASE_URL=(http://127\.0\.0\.1:\d+)").group(1)
        read_until(proc.stdout, r"export BEATAPI_API_KEY=sk_test_cli")
        env = {"BEATAPI_BASE_URL": base_url, "BEATAPI_API_KEY": "sk_test_cli"}
        result = CliRunner(env=env).invoke(cli, ["usage", "--json"], catch_exceptions=False)
        assert result.exit_code == 0, result.stderr
        assert json.loads(result.stdout)["concurrency"]["limit"] == 4
        code, stderr = stop(proc)
    assert code == 0 and "Traceback" not in stderr


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def test_webhooks_listen_verifies_and_prints_deliveries(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/beatapi/webhooks"
    hook = json.loads(invoke("webhooks", "create", "--url", url, "--json").stdout)
    env = {"BEATAPI_WEBHOOK_SECRET": hook["secret"]}
    with process("webhooks", "listen", "--port", str(port), env=env) as proc:
        read_until(proc.stderr, rf"listening on http://127\.0\.0\.1:{port}/beatapi/webhooks")
        created = invoke(
            "create", "ecommerce-video", "--image", "https://example.com/a.png", "--duration", "15", "--wait", "--json"
        )
        task_id = json.loads(created.stdout)["id"]
        line = read_until(proc.stdout, r"task\.succeeded (task_\S+) succeeded (\S+)")
        assert line.group(1) == task_id and line.group(2).endswith(f"/outputs/{task_id}.mp4")
        # A forged delivery is refused and reported, not printed as an event.
        body = json.dumps({"event": "task.failed", "id": "evt_forged", "data": {"id": task_id, "status": "failed"}})
        forged = urllib.request.Request(
            url, data=body.encode(), headers=sign(body.encode(), "whsec_wrong"), method="POST"
        )
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(forged, timeout=5)
        refused.value.close()
        assert refused.value.code == 400
        read_until(proc.stderr, r"rejected a delivery from 127\.0\.0\.1: .*signature")
        code, _ = stop(proc)
    assert code == 0
    assert emulator.call(lambda f: [d.ok for d in f.deliveries]) == [True]


def test_webhooks_listen_needs_a_secret(invoke: Invoke) -> None:
    result = invoke("webhooks", "listen")
    assert result.exit_code == 2
    assert "BEATAPI_WEBHOOK_SECRET" in result.stderr


def test_demo_runs_offline_as_a_subprocess() -> None:
    done = run_cli(["demo", "--speed", "3000", "--tasks", "4"], env={"BEATAPI_BASE_URL": "https://unused.invalid"})
    assert done.returncode == 0, done.stdout + done.stderr
    text = done.stdout
    for needle in (
        "1. Workflows",
        "2. Usage",
        "3. Uploads",
        "audio/wav",
        "4. A batch",
        "within the limit",
        "5. Manual compose",
        "storyboard_ready",
        "editing",
        "composing",
        "6. Results",
        "Credits:",
    ):
        assert needle in text, needle
    rows = [line.split() for line in text.split("6. Results")[1].splitlines() if line.startswith("task_")]
    assert len(rows) == 5  # the batch and the manual one
    assert sorted(row[2] for row in rows) == ["failed"] + ["succeeded"] * 4
    assert "processing_failed" in next(" ".join(row) for row in rows if row[2] == "failed")
    assert "\x1b[" not in text  # plain text in a pipe
    assert "Traceback" not in done.stderr


def test_demo_in_process_with_options(invoke: Invoke) -> None:
    result = CliRunner().invoke(cli, ["demo", "--speed", "3000", "--tasks", "2", "--concurrency-limit", "1"])
    assert result.exit_code == 0, result.output
    assert "Peak running at BeatAPI: 1 of 1 allowed" in result.stdout


def test_options_are_checked() -> None:
    assert CliRunner().invoke(cli, ["demo", "--tasks", "1"]).exit_code == 2
    assert CliRunner().invoke(cli, ["emulator", "--port", "70000"]).exit_code == 2
