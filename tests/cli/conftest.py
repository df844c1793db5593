"""Fixtures of the CLI tests: an emulator on its own thread, and the CLI bound to it.

The CLI runs ``asyncio.run`` per command, so it cannot share the test's event loop:
the emulator serves from a background thread (loopback only) while the tests are
plain functions that invoke the command line (click's runner, or a subprocess).
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest
from click.testing import CliRunner, Result

from beatapi_async.cli._app import cli
from beatapi_async.testing import FakeBeatAPI

T = TypeVar("T")
ENV_VARS = ("BEATAPI_API_KEY", "BEATAPI_BASE_URL", "BEATAPI_WEBHOOK_SECRET", "BEATAPI_LOG")
FAST_POLL = ("--poll-interval", "0.005", "--poll-budget", "100000")
ROOT = Path(__file__).resolve().parents[2]


class ThreadedEmulator:
    """A ``FakeBeatAPI`` serving from its own event loop on a background thread."""

    def __init__(self, **options: Any) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="fake-beatapi", daemon=True)
        self._thread.start()
        self.fake: FakeBeatAPI = self._run(FakeBeatAPI(**options).start())
        self.base_url = self.fake.base_url
        self.api_key = self.fake.api_key

    def _run(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=10)

    def call(self, fn: Callable[[FakeBeatAPI], T]) -> T:
        """Run ``fn(fake)`` on the emulator's loop (its state is not thread-safe)."""
        result: Future[T] = Future()

        def run() -> None:
            try:
                result.set_result(fn(self.fake))
            except BaseException as exc:
                result.set_exception(exc)

        self.loop.call_soon_threadsafe(run)
        return result.result(timeout=10)

    def creates(self) -> list[Any]:
        """Every create request the emulator received."""
        return self.call(lambda f: f.requests_to("POST", "/v1/*-video/tasks"))

    def wait_for(self, predicate: Callable[[FakeBeatAPI], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not self.call(predicate):
            if time.monotonic() > deadline:
                raise AssertionError("the emulator never reached the expected state")
            time.sleep(0.01)

    def close(self) -> None:
        self._run(self.fake.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No BEATAPI_* variable of the machine leaks into a test."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def emulator(request: pytest.FixtureRequest) -> Iterator[ThreadedEmulator]:
    """A running emulator (speed 1000; options via ``@pytest.mark.emulator(...)``)."""
    options: dict[str, Any] = {"speed": 1000.0}
    marker = request.node.get_closest_marker("emulator")
    if marker is not None:
        options.update(marker.kwargs)
    emu = ThreadedEmulator(**options)
    try:
        yield emu
    finally:
        emu.close()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "emulator(**options): FakeBeatAPI options for the emulator fixture")


Invoke = Callable[..., Result]


@pytest.fixture
def invoke(emulator: ThreadedEmulator) -> Invoke:
    """Run the CLI in-process against the emulator (key, base URL and fast polling given)."""

    def run(*args: str, key: bool = True, input: str | None = None) -> Result:
        prefix = ["--base-url", emulator.base_url, *FAST_POLL]
        if key:
            prefix += ["--api-key", emulator.api_key]
        return CliRunner().invoke(cli, [*prefix, *args], input=input, catch_exceptions=False)

    return run


# A child starts with SIGINT ignored when the tests run as a background job of a
# non-interactive shell (some CI runners), and then Python raises no KeyboardInterrupt:
# the processes the tests interrupt restore Ctrl-C before running the command line.
_INTERRUPTIBLE = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('beatapi_async', run_name='__main__', alter_sys=True)"
)


def interruptible(*args: str) -> list[str]:
    """The argv of ``python -m beatapi_async ARGS`` that Ctrl-C (SIGINT) always reaches."""
    return [sys.executable, "-c", _INTERRUPTIBLE, *args]


def run_cli(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m beatapi_async ARGS`` as a real subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "beatapi_async", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=subprocess_env(env),
        cwd=ROOT,
    )


def subprocess_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update({"PYTHONUNBUFFERED": "1", "COLUMNS": "200"})
    env.update(extra or {})
    return env


def wav_file(path: Path, seconds: float = 11.0) -> Path:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(1)
        writer.setframerate(8000)
        writer.writeframes(b"\x80" * int(seconds * 8000))
    path.write_bytes(buffer.getvalue())
    return path


def png_file(path: Path) -> Path:
    from beatapi_async.cli._demo import png_bytes

    path.write_bytes(png_bytes((10, 200, 30), width=4, height=4))
    return path
