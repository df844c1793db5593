"""Real fleets: two ``beatapi-async run --redis`` processes, and two arq workers, against one emulator."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ..cli.conftest import FAST_POLL, ROOT, ThreadedEmulator, subprocess_env
from ._redis import RedisServer

IMAGE = "https://example.com/product.png"


@pytest.fixture
def emulator():
    emu = ThreadedEmulator(speed=1000.0, concurrency_limit=2, credit_balance=10_000_000, poll_limit_per_minute=None)
    try:
        yield emu
    finally:
        emu.close()


def cli(emulator: ThreadedEmulator, *args: str) -> subprocess.Popen[str]:
    argv = [sys.executable, "-m", "beatapi_async", "--base-url", emulator.base_url, "--api-key", emulator.api_key,
            *FAST_POLL, *args]  # fmt: skip
    return subprocess.Popen(argv, cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)  # fmt: skip


def batch(path: Path, tag: str, n: int) -> Path:
    lines = [{"workflow": "ecommerce-video", "images": [IMAGE], "duration": 15, "prompt": f"{tag} {i}"}
             for i in range(n)]  # fmt: skip
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def test_two_cli_runs_share_the_account_through_redis(emulator, redis_server, tmp_path):
    runs = [cli(emulator, "run", str(batch(tmp_path / f"b{n}.jsonl", f"run{n}", 4)), "--redis", redis_server.url,
                "--json") for n in range(2)]  # fmt: skip
    outputs = [p.communicate(timeout=60) for p in runs]
    for p, (out, err) in zip(runs, outputs, strict=True):
        assert p.returncode == 0, err
        assert [json.loads(line)["status"] for line in out.splitlines()] == ["succeeded"] * 4
    peak, rejected, tasks = emulator.call(lambda f: (f.peak_running, f.concurrency_rejections, len(f.tasks)))
    assert peak <= 2 and rejected == 0 and tasks == 8


def test_cli_run_with_redis_down_stops_with_one_line_and_sends_nothing(emulator, own_redis, tmp_path):
    own_redis.stop()
    p = cli(emulator, "run", str(batch(tmp_path / "b.jsonl", "x", 3)), "--redis", own_redis.url)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 2
    assert err.count("error: --redis: Redis is unreachable") == 1, err
    assert emulator.creates() == []


def test_two_arq_workers_render_jobs_through_one_coordinator(emulator, redis_server: RedisServer):
    arq = pytest.importorskip("arq")
    from arq.connections import RedisSettings

    env = subprocess_env({"REDIS_URL": redis_server.url, "BEATAPI_API_KEY": emulator.api_key,
                          "BEATAPI_BASE_URL": emulator.base_url, "PYTHONPATH": str(ROOT)})  # fmt: skip

    async def main() -> list[list[dict[str, object]]]:
        pool = await arq.create_pool(RedisSettings.from_dsn(redis_server.url))
        try:
            jobs = [await pool.enqueue_job("render_products", [f"https://cdn.example.com/j{j}-{i}.png"
                                                                for i in range(3)]) for j in range(4)]  # fmt: skip
            argv = [sys.executable, "-m", "arq", "--burst", "tests.fleet._arq_fast.WorkerSettings"]
            quiet = asyncio.subprocess.DEVNULL
            workers = [
                await asyncio.create_subprocess_exec(*argv, cwd=ROOT, env=env, stdout=quiet, stderr=quiet)
                for _ in range(2)
            ]
            results = [await job.result(timeout=60) for job in jobs if job is not None]
            for w in workers:
                await asyncio.wait_for(w.wait(), 60)
                assert w.returncode == 0
            return results
        finally:
            await pool.aclose()

    results = asyncio.run(main())
    assert len(results) == 4
    assert all(r["status"] == "succeeded" for job in results for r in job)
    peak, rejected, tasks = emulator.call(lambda f: (f.peak_running, f.concurrency_rejections, len(f.tasks)))
    assert peak <= 2 and rejected == 0 and tasks == 12
    keys = {r.headers["Idempotency-Key"] for r in emulator.creates()}
    assert len(keys) == 12  # the job's id made each request's key
