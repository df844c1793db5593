"""``python -m beatapi_async.testing`` as a separate process, and ``serve_forever``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys

import aiohttp

from beatapi_async.testing import FakeBeatAPI, banner, serve_forever


async def test_module_serves_until_interrupted() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "beatapi_async.testing", "--port", "0", "--speed", "1000",
        "--concurrency-limit", "7", "--api-key", "sk_test_standalone",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        lines: list[str] = []
        while not lines or not lines[-1].startswith("export BEATAPI_API_KEY="):
            line = await asyncio.wait_for(process.stdout.readline(), 20)
            assert line, "the emulator exited early"
            lines.append(line.decode().strip())
        env = dict(line.removeprefix("export ").split("=", 1) for line in lines if line.startswith("export "))
        base_url, key = env["BEATAPI_BASE_URL"], env["BEATAPI_API_KEY"]
        assert base_url.startswith("http://127.0.0.1:") and key == "sk_test_standalone"
        headers = {"Authorization": f"Bearer {key}"}
        async with aiohttp.ClientSession(headers=headers) as session, session.get(base_url + "/v1/usage") as response:
            assert response.status == 200
            assert (await response.json())["data"]["concurrency"]["limit"] == 7
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 20)
    assert code == 0


async def test_serve_forever_runs_until_cancelled() -> None:
    ready: asyncio.Future[FakeBeatAPI] = asyncio.get_running_loop().create_future()
    server = asyncio.create_task(serve_forever(on_ready=ready.set_result, speed=50, concurrency_limit=3))
    fake = await asyncio.wait_for(ready, 5)
    text = banner(fake)
    assert fake.base_url in text and fake.api_key in text and "speed 50" in text
    assert f"{fake.base_url}/openapi.json" in text
    async with aiohttp.ClientSession() as session, session.get(fake.base_url + "/v1/workflows") as response:
        assert response.status == 200
    server.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await server
    async with aiohttp.ClientSession() as session:
        try:
            async with session.get(fake.base_url + "/v1/workflows"):
                raise AssertionError("still serving after cancel")
        except aiohttp.ClientConnectionError:
            pass
