"""Every ```python block of README.md runs, against a live emulator, so the examples cannot rot.

Each block runs in its own interpreter with ``BEATAPI_API_KEY`` / ``BEATAPI_BASE_URL`` set to a
running ``FakeBeatAPI`` and the current directory holding small valid sample files
(``song.mp3``, ``song.wav``, ``cover.png``, ...). A block may use top-level ``await`` (it then runs
in ``asyncio.run``); a block that defines ``test_`` functions is run by pytest, as a user's test
file would be. Only a block preceded by ``<!-- not run: <reason> -->`` is skipped, with that reason.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import attrs
import pytest

from beatapi_async.cli._demo import png_bytes

from ._helpers import wav_bytes
from .cli.conftest import ThreadedEmulator

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
_NOT_RUN = re.compile(r"<!--\s*not run:\s*(.+?)\s*-->")
_TEST_FUNCTION = re.compile(r"^(async\s+)?def\s+test_", re.M)
# Runs a block as __main__; top-level ``await`` / ``async with`` run in asyncio.run.
_RUNNER = """
import ast, asyncio, sys
with open(sys.argv[1], encoding="utf-8") as f:
    source = f.read()
code = compile(source, sys.argv[2], "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
result = eval(code, {"__name__": "__main__", "__builtins__": __builtins__})
if asyncio.iscoroutine(result):
    asyncio.run(result)
"""


@attrs.frozen
class Block:
    line: int  # of the opening fence
    source: str
    skip: str | None  # the reason given in ``<!-- not run: ... -->``


def readme_blocks(text: str) -> list[Block]:
    """The ```python blocks of a Markdown text, each with its ``not run`` reason, if any."""
    blocks: list[Block] = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if lines[i].strip() == "```python":
            start = i
            body: list[str] = []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            before = next((lines[j] for j in range(start - 1, -1, -1) if lines[j].strip()), "")
            reason = _NOT_RUN.search(before)
            blocks.append(Block(start + 1, "\n".join(body) + "\n", reason.group(1) if reason else None))
        i += 1
    return blocks


def test_block_parser() -> None:
    text = "x\n```python\na = 1\n```\n<!-- not run: a fragment -->\n\n```python\nawait x\n```\n```sh\nls\n```\n"
    assert readme_blocks(text) == [Block(2, "a = 1\n", None), Block(7, "await x\n", "a fragment")]


def _params() -> list[object]:
    if not README.exists():  # pragma: no cover - the README is part of the repository
        return []
    return [
        pytest.param(b, id=f"README.md:{b.line}", marks=[pytest.mark.skip(reason=b.skip)] if b.skip else [])
        for b in readme_blocks(README.read_text(encoding="utf-8"))
    ]


def _mp3(seconds: float) -> bytes:
    # MPEG-1 Layer III frames at 128 kbit/s, 44.1 kHz (417 bytes each), holding silence.
    frame = b"\xff\xfb\x90\x64" + bytes(413)
    return frame * int(seconds * 128_000 / 8 / len(frame) + 1)


SAMPLES = {
    "song.mp3": _mp3(12),
    "song.wav": wav_bytes(12),
    "voice.wav": wav_bytes(11),
    "cover.png": png_bytes((200, 40, 120), width=8, height=8),
    "product.png": png_bytes((20, 140, 220), width=8, height=8),
    "subtitles.srt": b"1\n00:00:00,000 --> 00:00:02,000\nHello\n",
}


@pytest.fixture(scope="module")
def emulator() -> Iterator[ThreadedEmulator]:
    # Fast clock: tasks finish in milliseconds; BeatAPI's 5-10 s poll hint shrinks with it.
    em = ThreadedEmulator(speed=2000, concurrency_limit=5, credit_balance=1_000_000)
    try:
        yield em
    finally:
        em.close()


@pytest.mark.parametrize("block", _params())
def test_readme_block_runs(block: Block, emulator: ThreadedEmulator, tmp_path: Path) -> None:
    for name, data in SAMPLES.items():
        (tmp_path / name).write_bytes(data)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BEATAPI_", "PYTEST_"))}
    env.update(BEATAPI_API_KEY=emulator.api_key, BEATAPI_BASE_URL=emulator.base_url)
    env["PYTHONWARNINGS"] = "error::ResourceWarning"  # an unclosed session or file in an example is a bug
    where = f"README.md:{block.line}"
    if _TEST_FUNCTION.search(block.source):
        (tmp_path / "test_readme_example.py").write_text(block.source, encoding="utf-8")
        argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_readme_example.py"]
    else:
        (tmp_path / "block.py").write_text(block.source, encoding="utf-8")
        argv = [sys.executable, "-c", _RUNNER, "block.py", where]
    done = subprocess.run(argv, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    output = f"{where} failed:\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    assert done.returncode == 0, output
    assert "Unclosed" not in done.stderr and "Exception ignored" not in done.stderr, output
