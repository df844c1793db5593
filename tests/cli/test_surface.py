"""CLI details a new user hits: local paths that do not exist, plurals, empty batches, --out order."""

from __future__ import annotations

import json
from pathlib import Path

from beatapi_async.cli._batch import Output
from beatapi_async.cli._lines import Result

from .conftest import Invoke, ThreadedEmulator

IMAGE = "https://example.com/product.png"
SONG = "https://example.com/song.mp3"


def test_a_local_path_that_does_not_exist_is_named(invoke: Invoke, emulator: ThreadedEmulator) -> None:
    result = invoke("create", "music-video", "--image", "nope.png", "--audio", SONG)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: invalid input: images[0]: no such file: nope.png"
    result = invoke("create", "music-video", "--image", IMAGE, "--audio", "missing/song.mp3")
    assert result.exit_code == 2 and "audio_url: no such file: missing/song.mp3" in result.stderr
    # An URL is still checked as an URL.
    result = invoke("create", "ecommerce-video", "--image", "http://example.com/x.png", "--duration", "15")
    assert result.exit_code == 2 and "images[0]: must be an https:// URL" in result.stderr
    assert emulator.creates() == []


def test_ecommerce_help_does_not_mention_audio(invoke: Invoke) -> None:
    help_text = invoke("create", "ecommerce-video", "--help").stdout
    assert "audio" not in help_text.lower()
    assert "audio" in invoke("create", "music-video", "--help").stdout.lower()


def test_summary_counts_are_grammatical(invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    batch = tmp_path / "batch.jsonl"
    good = {"workflow": "ecommerce-video", "images": [IMAGE], "duration": 15}
    batch.write_text(json.dumps(good) + "\n{not json\n")
    result = invoke("run", str(batch), "--json")
    assert "2 requests: 1 done, 1 bad line skipped" in result.stderr
    batch.write_text(json.dumps(good) + "\n")
    result = invoke("run", str(batch), "--json")
    assert "1 request: 1 done" in result.stderr and "1 requests" not in result.stderr


def test_an_empty_batch_says_so_and_fails(invoke: Invoke, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    batch = tmp_path / "empty.jsonl"
    for text in ("", "\n\n  \n"):
        batch.write_text(text)
        for extra in ((), ("--dry-run",)):
            result = invoke("run", str(batch), *extra)
            assert result.exit_code == 2
            assert "holds no requests" in result.stderr
    assert emulator.creates() == []


def _result(line: int) -> Result:
    return Result(line=line, id=None, workflow="ecommerce-video", task_id=f"task_{line}", status="succeeded")


def test_out_is_written_in_line_order_as_results_come(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"

    def lines_written() -> list[int]:
        return [json.loads(row)["line"] for row in path.read_text().splitlines()]

    with Output(str(path), [1, 2, 4, 5]) as output:
        output.write(_result(4))
        output.write(_result(5))
        assert lines_written() == []  # line 1 has no result yet: a killed run leaves an ordered file
        output.write(_result(1))
        assert lines_written() == [1]
        output.write(_result(2))
        assert lines_written() == [1, 2, 4, 5]
        output.finish([_result(n) for n in (1, 2, 4, 5)])
    assert lines_written() == [1, 2, 4, 5]
