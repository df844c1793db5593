"""Type-checker checks of the public surface: mypy --strict over small snippet files.

The lines marked ``# error`` must be mypy errors (a misspelt create field, a value
outside a ``Literal``, an option the call does not take); every other line, and the
README's quickstart as written, must pass ``mypy --strict``.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

api = pytest.importorskip("mypy.api", reason="mypy (the dev extra) is needed to type-check snippets")

README = Path(__file__).resolve().parents[1] / "README.md"

GOOD = '''
from beatapi_async import AsyncBeatAPI, BeatAPIError, MusicVideoRequest, RawResponse, Task, TaskRequest


async def main(client: AsyncBeatAPI) -> None:
    task: Task = await client.music_video.create(
        images=["https://a.example/x.png"], audio_url="https://a.example/a.mp3", language="en", quality="high",
        resolution="1080p", compose_mode="manual", timeout=5.0, extra_body={"seed": 1}, extra_headers={"X": "y"},
    )
    task = await client.ecommerce_video.create(images=["https://a.example/x.png"], duration=15, aspect_ratio="9:16")
    task = await client.tasks.get(task.id, timeout=None, max_retries=0, extra_query={"a": 1})
    request = MusicVideoRequest(images=["https://a.example/x.png"], audio_url="https://a.example/a.mp3")
    task = await client.music_video.create(request)
    requests: list[TaskRequest] = [request]
    done: list[Task] = await client.run_many(requests)
    usage = await client.with_options(timeout=30, extra_headers={"X-Team": "a"}).usage.get(period="7d")
    raw: RawResponse[object] = await client.with_raw_response.tasks.get(task.id)
    print(raw.status, raw.headers["x-request-id"], raw.request_id, raw.elapsed, usage.credit_balance)
    try:
        await client.webhooks.create(url="https://h.example/in", events=["task.succeeded"], extra_body={"k": 1})
    except BeatAPIError as exc:
        code: str = exc.code
        request_id: str | None = exc.request_id
        print(code, request_id, task.to_dict(), Task.from_dict(task.to_dict()).to_json())
'''

BAD = '''
import beatapi_async
from beatapi_async import AsyncBeatAPI, MusicVideoRequest


async def main(client: AsyncBeatAPI) -> None:
    await client.music_video.create(imagez=["https://a.example/x.png"], audio_url="u")  # error
    await client.music_video.create(images=["u"], audio_url="u", language="fr")  # error
    await client.ecommerce_video.create(images=["u"], duration=15, aspect_ratio="4:3")  # error
    await client.tasks.get("task_1", extra_body={"a": 1})  # error
    await client.tasks.get("task_1", retries=2)  # error
    await client.usage.get(period="1y")  # error
    await client.webhooks.update("wh_1", status="paused")  # error
    MusicVideoRequest(images=["u"], audio_url="u", resolution="4k")  # error
    client.with_options(extra_body={"a": 1})  # error
    # The lazily loaded names keep their types, and a misspelt one is an error.
    beatapi_async.File(id=1, url="u")  # error
    print(beatapi_async.Taks)  # error
'''


def _mypy(tmp_path: Path, files: dict[str, str]) -> dict[str, set[int]]:
    for name, text in files.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    stdout, stderr, _ = api.run([
        "--strict", "--no-incremental", "--cache-dir", str(tmp_path / ".mypy_cache"), "--python-version", "3.10",
        "--no-error-summary", *(str(tmp_path / n) for n in files),
    ])  # fmt: skip
    assert not stderr, stderr
    errors: dict[str, set[int]] = {name: set() for name in files}
    for line in stdout.splitlines():
        match = re.match(r"(.+?):(\d+): error:", line)
        if match:
            errors[Path(match.group(1)).name].add(int(match.group(2)))
    return errors


def _quickstart() -> str:
    text = README.read_text()
    section = text.split("## Quickstart", 1)[1]
    return re.search(r"```python\n(.*?)```", section, re.S).group(1)  # type: ignore[union-attr]


def test_public_surface_types(tmp_path: Path) -> None:
    errors = _mypy(tmp_path, {"good.py": GOOD, "bad.py": BAD, "quickstart.py": _quickstart()})
    assert errors["good.py"] == set(), "the correct uses must type-check"
    assert errors["quickstart.py"] == set(), "the README quickstart must pass mypy --strict as written"
    marked = {i for i, line in enumerate(textwrap.dedent(BAD).splitlines(), 1) if line.endswith("# error")}
    assert errors["bad.py"] == marked
