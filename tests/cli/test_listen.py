"""``webhooks listen`` as a hostile sender sees it: markup, escapes, slow-loris, secrets, exposure."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from beatapi_async.cli._listen import plain, plain_json, serve
from beatapi_async.webhooks import sign

from .._loopback import task
from .test_servers import free_port, process, read_until, stop

SECRET = "whsec_test_listen_0123456789"
ENV = {"BEATAPI_WEBHOOK_SECRET": SECRET}


def failed_delivery(message: str, event_id: str = "evt_1") -> bytes:
    body = task("task_f1", "failed") | {"error_code": "processing_failed", "error_message": message}
    return json.dumps({"id": event_id, "object": "event", "event": "task.failed", "data": body}).encode()


def lines_until(stream: Any, pattern: str, timeout: float = 15.0) -> list[str]:
    """Every line read up to and including the first matching ``pattern``."""
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = stream.readline()
        if not line:
            break
        seen.append(line)
        if re.search(pattern, line):
            return seen
    raise AssertionError(f"no line matched {pattern!r}; got {seen!r}")


def post(url: str, body: bytes, secret: str = SECRET) -> int:
    request = urllib.request.Request(url, data=body, headers=sign(body, secret), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


def test_plain_escapes_controls_and_keeps_text() -> None:
    assert plain("bad [/bold] output") == "bad [/bold] output"
    assert plain("\x1b[31mred\x1b]0;title\x07 \u202eevil\x9b") == "\\x1b[31mred\\x1b]0;title\\x07 \\u202eevil\\x9b"
    assert plain("café 🎵") == "café 🎵"
    assert json.loads(plain_json(json.dumps({"m": "\x9b\u202e"}, ensure_ascii=False))) == {"m": "\x9b\u202e"}


def test_markup_and_escapes_from_the_wire_print_literally() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/beatapi/webhooks"
    with process("webhooks", "listen", "--port", str(port), env=ENV) as proc:
        read_until(proc.stderr, "listening on")
        assert post(url, failed_delivery("bad [/bold] output")) == 200
        line = read_until(proc.stdout, r"task\.failed task_f1 failed (.*)$")
        assert line.group(1) == "processing_failed: bad [/bold] output"
        assert post(url, failed_delivery("\x1b[2J\x1b]0;pwned\x07gone", "evt_2")) == 200
        line = read_until(proc.stdout, r"task\.failed task_f1 failed (.*)$")
        assert line.group(1) == "processing_failed: \\x1b[2J\\x1b]0;pwned\\x07gone"
        code, stderr = stop(proc)
    assert code == 0 and "\x1b" not in stderr


def test_a_rejected_delivery_is_printed_once() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/beatapi/webhooks"
    with process("webhooks", "listen", "--port", str(port), env=ENV) as proc:
        read_until(proc.stderr, "listening on")
        assert post(url, failed_delivery("x"), secret="whsec_wrong_secret_000000") == 400
        seen = lines_until(proc.stderr, "rejected a delivery from 127.0.0.1")
        code, rest = stop(proc)
    assert code == 0
    assert "".join([*seen, rest]).count("rejected") == 1  # no library warning repeating it


def test_secret_file_and_warnings(tmp_path: Path) -> None:
    secret_file = tmp_path / "secret"
    secret_file.write_text(f"whsec_old_one_000000\n{SECRET}\n")
    port = free_port()
    url = f"http://127.0.0.1:{port}/beatapi/webhooks"
    with process("webhooks", "listen", "--port", str(port), "--secret-file", str(secret_file)) as proc:
        seen = lines_until(proc.stderr, "listening on")
        assert post(url, failed_delivery("rotated")) == 200
        read_until(proc.stdout, "rotated")
        code, rest = stop(proc)
    stderr = "".join(seen) + rest
    assert code == 0 and "warning" not in stderr and SECRET not in stderr


def test_secret_on_the_command_line_warns_about_ps() -> None:
    port = free_port()
    with process("webhooks", "listen", "--port", str(port), "--secret", SECRET) as proc:
        line = read_until(proc.stderr, "warning: .*")
        assert "ps" in line.group(0) and SECRET not in line.group(0)
        stop(proc)


def test_a_non_loopback_host_warns() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))  # a wildcard bind of the same port then fails: nothing is exposed
        taken.listen()
        port = taken.getsockname()[1]
        with process("webhooks", "listen", "--host", "0.0.0.0", "--port", str(port), env=ENV) as proc:
            read_until(proc.stderr, "warning: listening on 0.0.0.0 is reachable from other machines")
            read_until(proc.stderr, "cannot listen")
            assert proc.wait(timeout=10) == 2


def test_slow_loris_connections_cannot_starve_a_delivery() -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/beatapi/webhooks"
    with process("webhooks", "listen", "--port", str(port), env=ENV) as proc:
        read_until(proc.stderr, "listening on")
        loris = []
        try:
            for _ in range(300):  # more than the connection cap
                s = socket.create_connection(("127.0.0.1", port))
                s.sendall(b"POST /beatapi/webhooks HTTP/1.1\r\nHost: x\r\n")  # and never the rest
                loris.append(s)
            started = time.monotonic()
            assert post(url, failed_delivery("still here")) == 200
            assert time.monotonic() - started < 5
            read_until(proc.stdout, "still here")
        finally:
            for s in loris:
                s.close()
        code, stderr = stop(proc)
    assert code == 0 and "Too many open files" not in stderr


# -- the guard in process: deadlines ----------------------------------------------------------


@contextlib.asynccontextmanager
async def guarded(deadline: float, max_connections: int) -> AsyncIterator[tuple[int, Any]]:
    """A listener answering ``POST /`` with "ok" behind the guard: its port and the guard."""

    async def hello(_: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/", hello)
    runner, server, guard = await serve(app, "127.0.0.1", 0, deadline=deadline, max_connections=max_connections)
    try:
        yield server.sockets[0].getsockname()[1], guard
    finally:
        server.close()
        await runner.cleanup()


async def test_a_connection_that_never_finishes_its_request_is_closed() -> None:
    async with guarded(deadline=0.2, max_connections=4) as (port, guard):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc")  # a body that stalls
        started = time.monotonic()
        try:
            data = await asyncio.wait_for(reader.read(), 5)
        except ConnectionResetError:
            data = b""
        assert data == b"" and time.monotonic() - started < 3
        writer.close()
        # Slow heads are closed too, and a full request still gets its answer.
        _, slow = await asyncio.open_connection("127.0.0.1", port)
        slow.write(b"POST / HTTP/1.1\r\n")
        r2, w2 = await asyncio.open_connection("127.0.0.1", port)
        w2.write(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        answer = await asyncio.wait_for(r2.read(), 5)
        assert answer.startswith(b"HTTP/1.1 200") and answer.endswith(b"ok")
        w2.close()
        await asyncio.sleep(0.5)
        assert guard.open == 0  # the slow one was closed by its deadline
        slow.close()


async def test_the_connection_cap_evicts_the_oldest_unfinished() -> None:
    writers: list[Any] = []
    async with guarded(deadline=30, max_connections=3) as (port, guard):
        try:
            for _ in range(5):
                _, w = await asyncio.open_connection("127.0.0.1", port)
                w.write(b"POST / HTTP/1.1\r\n")
                writers.append(w)
            await asyncio.sleep(0.1)
            assert guard.open <= 3 and guard.evicted >= 2
        finally:
            for w in writers:
                w.close()


@pytest.fixture(autouse=True)
def _no_machine_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BEATAPI_WEBHOOK_SECRET", raising=False)
