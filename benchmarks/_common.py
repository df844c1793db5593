"""Helpers the benchmark scripts share: tables, the final JSON line, medians, a server in a child process.

Each script prints a human table and, as its last line, one JSON object; the same
object is saved to ``benchmarks/results/<name>.json`` (``<name>.quick.json`` for
``--quick`` runs) so that ``plot.py`` and the README can be regenerated from it.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import platform
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
    }


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, title: str | None = None) -> str:
    """Render a plain-text table (numbers right-aligned)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    out = []
    if title:
        out.append(title)
    out.append(_line(headers, widths))
    out.append("  ".join("-" * w for w in widths))
    out.extend(_line(row, widths) for row in cells)
    return "\n".join(out)


def _line(cells: Sequence[str], widths: Sequence[int]) -> str:
    # First column left-aligned (labels), the rest right-aligned (numbers).
    return "  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True)))


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def emit(name: str, result: dict[str, Any], *, quick: bool, save: bool = True) -> None:
    """Print the final JSON line and save it under ``benchmarks/results``."""
    result = {"benchmark": name, "quick": quick, "machine": machine(), "when": time.strftime("%Y-%m-%dT%H:%M:%S"),
              **result}  # fmt: skip
    line = json.dumps(result, sort_keys=False, separators=(",", ":"))
    if save:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / f"{name}{'.quick' if quick else ''}.json").write_text(line + "\n")
    print(line, flush=True)


def max_in_window(times: Sequence[float], window: float) -> int:
    """The most events (sorted timestamps) in any span of ``window`` seconds."""
    best = start = 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def rss_bytes() -> int:
    """Resident set size of this process now (Linux ``/proc``)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds() -> float:
    """User + system CPU time of this process so far (all threads, ns resolution)."""
    return time.process_time()


class ServerProcess:
    """Run ``target(port_conn, *args)`` in a spawned process; ``target`` sends its port, then serves.

    Use as a context manager; the child is terminated (by its own pid) on exit.
    """

    def __init__(self, target: Callable[..., None], *args: Any) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._parent, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=target, args=(child, *args), daemon=True)
        self.port = 0

    def __enter__(self) -> ServerProcess:
        self._proc.start()
        if not self._parent.poll(30):
            self._proc.terminate()
            raise RuntimeError("benchmark server did not start")
        self.port = self._parent.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._proc.terminate()
        self._proc.join(5)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def serve_in_child(conn: Any, routes: Sequence[tuple[str, Any]], *, backlog: int = 1024) -> None:
    """Serve GET ``routes`` on 127.0.0.1 (a free port, sent on ``conn``) until killed.

    Runs in a child process, so the server's CPU never competes inside the measured client.
    """
    import asyncio

    from aiohttp import web

    async def main() -> None:
        app = web.Application()
        for path, handler in routes:
            app.router.add_get(path, handler)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0, backlog=backlog)
        await site.start()
        conn.send(runner.addresses[0][1])
        await asyncio.Event().wait()

    asyncio.run(main())
