"""``run`` when the gate's first usage read fails: one read for the whole batch, one message."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from beatapi_async.cli._app import cli

from .conftest import FAST_POLL, ThreadedEmulator


def test_a_wrong_key_stops_the_batch_with_one_401_and_one_message(emulator: ThreadedEmulator, tmp_path: Path) -> None:
    line = {"workflow": "ecommerce-video", "images": ["https://example.com/p.png"], "duration": 15}
    batch = tmp_path / "batch.jsonl"
    batch.write_text((json.dumps(line) + "\n") * 12)
    args = ["--base-url", emulator.base_url, "--api-key", "sk_test_wrong_key_000", *FAST_POLL, "run", str(batch)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines()[-1].startswith("error: nothing was created, every request failed with")
    assert "401" in result.stderr.strip().splitlines()[-1]
    assert len(emulator.call(lambda f: f.requests_to("GET", "/v1/usage"))) == 1  # was one per line
    assert emulator.creates() == []
