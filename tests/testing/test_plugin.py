"""The pytest plugin's fixtures, used the way a user's test would."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest
from beatapi_async.testing import FakeBeatAPI
from beatapi_async.testing.pytest_plugin import FIXTURE_SPEED


async def test_fake_beatapi_fixture_is_running_fast(fake_beatapi: FakeBeatAPI) -> None:
    assert fake_beatapi.speed == FIXTURE_SPEED
    assert fake_beatapi.base_url.startswith("http://127.0.0.1:")


@pytest.mark.beatapi_fake(concurrency_limit=4, credit_balance=5000)
async def test_marker_options_reach_the_emulator(fake_beatapi: FakeBeatAPI) -> None:
    assert fake_beatapi.concurrency_limit == 4
    assert fake_beatapi.credit_balance == 5000


async def test_beatapi_client_is_bound_to_the_emulator(beatapi_client: AsyncBeatAPI, fake_beatapi: FakeBeatAPI) -> None:
    workflows = await beatapi_client.workflows.list()
    assert [w.id for w in workflows] == ["music-video", "ecommerce-video"]
    task = await beatapi_client.ecommerce_video.create(images=["https://cdn.example.com/p.png"], duration=15)
    done = await beatapi_client.wait_for_task(task, timeout=10)
    assert done.status == "succeeded"
    assert done.video_url
    assert fake_beatapi.tasks[task.id].status == "succeeded"


@pytest.mark.beatapi_fake(concurrency_limit=3)
async def test_run_many_stays_within_the_limit(beatapi_client: AsyncBeatAPI, fake_beatapi: FakeBeatAPI) -> None:
    requests = [EcommerceVideoRequest(images=["https://cdn.example.com/p.png"], duration=10) for _ in range(9)]
    results = await beatapi_client.run_many(requests)
    assert [r.status for r in results] == ["succeeded"] * 9
    assert fake_beatapi.peak_running <= 3
    assert fake_beatapi.concurrency_rejections == 0


USER_TEST = """
import pytest

pytestmark = pytest.mark.asyncio


async def test_user_code(fake_beatapi, beatapi_client):
    task = await beatapi_client.ecommerce_video.create(images=["https://cdn.example.com/p.png"], duration=10)
    assert (await beatapi_client.wait_for_task(task, timeout=10)).status == "succeeded"
    assert fake_beatapi.peak_running == 1
"""


async def test_plugin_works_for_users_in_strict_mode(tmp_path: Path) -> None:
    """A user's project with pytest-asyncio in strict mode gets the fixtures from the entry point alone."""
    (tmp_path / "pytest.ini").write_text(
        "[pytest]\nasyncio_mode = strict\nasyncio_default_fixture_loop_scope = function\nfilterwarnings = error\n"
    )
    (tmp_path / "test_user.py").write_text(USER_TEST)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path),
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    output, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, output.decode()
    assert "1 passed" in output.decode()
