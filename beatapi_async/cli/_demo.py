"""``beatapi-async demo``: a whole BeatAPI session against the built-in emulator (no key, no network).

Everything goes through the public API, as a user's program would: list workflows,
read usage, upload a generated song and images, run a batch inside the concurrency
limit with ``as_completed``, walk the manual compose flow, and show a failed task.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import struct
import sys
import time
import wave
import zlib
from array import array
from typing import Any

import attrs
import click
from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.text import Text

from .. import AsyncBeatAPI, EcommerceVideoRequest, MusicVideoRequest, PollPolicy, Task, TaskFailedError
from . import _output as out
from ._common import run_async

# The emulator fails the batch request whose prompt carries this mark (FakeBeatAPI.script).
FAIL_MARK = "[demo: this one fails]"
MUSIC_PROMPTS = (
    "neon city at night, slow dolly through rain",
    "sunrise over the sea, handheld, warm film grain",
    "a dancer in an empty theatre, single spotlight",
    "paper boats drifting down a street after rain",
)
PRODUCT_PROMPTS = (
    "sneaker launch: bold, fast cuts, studio light",
    "ceramic mug: cosy morning kitchen, steam rising",
    "headphones: close-ups, deep blue backdrop",
    "water bottle: trail run, bright daylight",
)
COLOURS = ((230, 57, 70), (69, 123, 157), (241, 196, 15))

# -- generated inputs --------------------------------------------------------------------


def wav_bytes(seconds: float = 12.0, *, rate: int = 16_000, frequency: float = 440.0) -> bytes:
    """A mono 16-bit WAV of a sine tone (the emulator measures its length, as BeatAPI does)."""
    samples = array(
        "h", (int(12_000 * math.sin(2 * math.pi * frequency * i / rate)) for i in range(int(seconds * rate)))
    )
    if sys.byteorder == "big":
        samples.byteswap()  # WAV is little-endian
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(samples.tobytes())
    return buffer.getvalue()


def png_bytes(rgb: tuple[int, int, int], *, width: int = 64, height: int = 64) -> bytes:
    """A small PNG: a vertical gradient from ``rgb`` to black."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    rows = b"".join(b"\x00" + bytes(int(c * (1 - y / height)) for c in rgb) * width for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def demo_requests(count: int, song_url: str, image_urls: list[str]) -> list[MusicVideoRequest | EcommerceVideoRequest]:
    """``count`` requests, music and ecommerce videos in turn; the third (or last) is scripted to fail."""
    failing = 2 if count >= 3 else count - 1
    requests: list[MusicVideoRequest | EcommerceVideoRequest] = []
    for i in range(count):
        if i % 2 == 0:
            prompt = MUSIC_PROMPTS[(i // 2) % len(MUSIC_PROMPTS)]
        else:
            prompt = PRODUCT_PROMPTS[(i // 2) % len(PRODUCT_PROMPTS)]
        if i == failing:
            prompt = f"{prompt} {FAIL_MARK}"
        if i % 2 == 0:
            requests.append(
                MusicVideoRequest(
                    images=image_urls,
                    audio_url=song_url,
                    prompt=prompt,
                    language="en",
                    resolution="720p",
                    aspect_ratio="16:9",
                )
            )
        else:
            requests.append(
                EcommerceVideoRequest(images=image_urls[:2], duration=15, prompt=prompt, aspect_ratio="9:16")
            )
    return requests


# -- the live board --------------------------------------------------------------------------


@attrs.define
class Row:
    task: Task
    seen: float
    ended: float | None = None
    printed: str | None = None


class Board:
    """The batch as it runs: a live table on a terminal, a line per change in a pipe."""

    def __init__(self, con: Console, fake: Any, limit: int, total: int) -> None:
        self.con = con
        self.fake = fake
        self.limit = limit
        self.total = total
        self.rows: dict[str, Row] = {}
        self.started = time.monotonic()
        self.running = self.peak = self.created = self.done = 0
        self._live: Live | None = None

    def __enter__(self) -> Board:
        if self.con.is_terminal:
            self._live = Live(get_renderable=self.render, console=self.con, refresh_per_second=10)
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live is not None:
            self._live.refresh()
            self._live.stop()

    def sample(self) -> None:
        """Read the emulator's side (its running count and peak), in the event loop."""
        self.running = self.fake.running_count
        self.peak = self.fake.peak_running
        self.created = len(self.fake.tasks)

    def update(self, task: Task) -> None:
        now = time.monotonic()
        row = self.rows.get(task.id)
        if row is None:
            row = self.rows[task.id] = Row(task, now)
        row.task = task
        if task.is_terminal and row.ended is None:
            row.ended = now
        self.sample()
        if self._live is None and row.printed != task.status:
            row.printed = str(task.status)
            self.con.print(
                f"{now - self.started:6.2f}s  {task.id}  {task.workflow or '':<16} {task.status:<11}"
                f"  (running {self.running} of {self.limit})",
                markup=False,
            )

    def finished(self, task: Task) -> None:
        self.done += 1
        self.update(task)

    def render(self) -> RenderableType:
        slots = Text("slots ")
        for i in range(self.limit):
            slots.append("■ " if i < self.running else "□ ", style="cyan" if i < self.running else "dim")
        header = Text.assemble(
            slots,
            f" running {self.running}/{self.limit} (peak {self.peak})   "
            f"created {self.created}/{self.total}   done {self.done}/{self.total}   "
            f"waiting for a slot {max(0, self.total - self.created)}",
        )
        table = out.table("TASK", "WORKFLOW", "STATUS", "TIME", "CREDITS")
        now = time.monotonic()
        for row in self.rows.values():
            elapsed = (row.ended or now) - row.seen
            table.add_row(
                row.task.id,
                row.task.workflow or "",
                out.status_text(row.task.status),
                f"{elapsed:4.1f}s",
                out.task_credits(row.task),
            )
        return Group(header, table)


# -- the session -----------------------------------------------------------------------------


def _section(con: Console, number: int, title: str) -> None:
    con.print()
    if con.is_terminal:
        con.rule(f"[bold]{number}. {title}", align="left")
    else:
        con.print(f"== {number}. {title}", markup=False)


async def _sampler(board: Board) -> None:
    while True:
        board.sample()
        await asyncio.sleep(0.05)


async def run_demo(con: Console, *, speed: float, tasks: int, limit: int) -> int:
    """Run the session; return the exit code (0 when everything went as scripted)."""
    from ..testing import FakeBeatAPI

    clock = time.monotonic()
    async with FakeBeatAPI(speed=speed, concurrency_limit=limit) as fake:
        fake.script("fail", error_code="processing_failed", match=lambda body: FAIL_MARK in str(body.get("prompt")))
        # Poll at the emulator's pace: its minute lasts 60/speed real seconds.
        poll = PollPolicy(interval=5 / speed, max_interval=10 / speed, budget_per_minute=100 * speed)
        async with AsyncBeatAPI(api_key=fake.api_key, base_url=fake.base_url, poll=poll) as client:
            if con.is_terminal:
                con.rule("[bold]beatapi-async demo")
            con.print(
                f"A BeatAPI emulator runs in this process at {fake.base_url}, {speed:g}x faster than real "
                f"time (a 2-minute render takes {125 / speed:.1f}s). No key, no network."
            )

            _section(con, 1, "Workflows  (client.workflows.list)")
            con.print(out.workflows_table(await client.workflows.list()))

            _section(con, 2, "Usage  (client.usage.get)")
            before = await client.usage.get()
            con.print(out.usage_table(before))

            _section(con, 3, "Uploads  (client.files.upload)")
            song = await client.files.upload(wav_bytes(12.0), filename="demo-song.wav")
            images = [
                await client.files.upload(png_bytes(c), filename=f"frame-{i + 1}.png") for i, c in enumerate(COLOURS)
            ]
            uploads = out.table("FILE", "TYPE", "SIZE", "URL")
            for f in (song, *images):
                size = f"{f.size_bytes:,} B" + (f", {f.audio_duration_seconds:g} s" if f.audio_duration_seconds else "")
                uploads.add_row(f.id, f.mime_type or "", size, f.url)
            con.print(uploads)

            requests = demo_requests(tasks, song.url, [i.url for i in images])
            music = sum(isinstance(r, MusicVideoRequest) for r in requests)
            _section(
                con, 4, f"A batch: {music} music + {len(requests) - music} ecommerce videos  (client.as_completed)"
            )
            con.print(
                f"The account may run {before.concurrency.limit} tasks at once; the SDK's gate admits the rest "
                f"as slots free up. One request is scripted to fail."
            )
            results: list[Task] = []
            board = Board(con, fake, limit, len(requests))
            with board:
                sampler = asyncio.get_running_loop().create_task(_sampler(board))
                try:
                    async for item in client.as_completed(requests, return_exceptions=True, on_update=board.update):
                        if isinstance(item, TaskFailedError):
                            item = item.task
                        if isinstance(item, BaseException):
                            raise item
                        results.append(item)
                        board.finished(item)
                finally:
                    sampler.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await sampler
            peak = fake.peak_running
            verdict = "[green]within the limit[/]" if peak <= limit else "[red]over the limit![/]"
            con.print(
                f"Peak running at BeatAPI: {peak} of {limit} allowed: {verdict}. "
                f"Every create was admitted by the gate; 429 rejections: {fake.concurrency_rejections}."
            )

            _section(con, 5, "Manual compose: storyboard -> edit a shot -> compose")
            manual = await _manual_flow(con, client, song.url, [i.url for i in images])
            results.append(manual)

            _section(con, 6, "Results")
            final = out.table("TASK", "WORKFLOW", "STATUS", "CREDITS", "VIDEO URL / ERROR")
            for t in results:
                detail = t.video_url or f"{t.error_code}: {t.error_message}"
                final.add_row(t.id, t.workflow or "", out.status_text(t.status), out.task_credits(t), detail)
            con.print(final)
            after = await client.usage.get()
            spent = before.credit_balance - after.credit_balance
            con.print(
                f"Credits: {out.credits(before.credit_balance)} -> [bold]{out.credits(after.credit_balance)}[/] "
                f"(spent {out.credits(spent)}; the failed task's credits were refunded: "
                f"{out.credits(after.credits_refunded)})"
            )
            con.print(out.usage_table(after))

    failed = [t for t in results if t.status == "failed"]
    expected = len(failed) == 1 and len(results) == tasks + 1  # only the scripted failure
    con.print()
    con.print(
        f"Demo finished in {time.monotonic() - clock:.1f}s. Next: point the same commands at BeatAPI with "
        "BEATAPI_API_KEY set, e.g. `beatapi-async usage` or `beatapi-async run batch.jsonl`."
    )
    return 0 if expected else 1


async def _manual_flow(con: Console, client: AsyncBeatAPI, song_url: str, image_urls: list[str]) -> Task:
    started = time.monotonic()

    def log(task: Task) -> None:
        con.print(f"  {time.monotonic() - started:5.2f}s  {task.id}  {out.status_text(task.status).markup}")

    request = MusicVideoRequest(
        images=image_urls, audio_url=song_url, prompt="a road trip in five scenes", compose_mode="manual"
    )
    task = await client.run(request, until="actionable", on_update=log)
    shots = task.storyboard.shots if task.storyboard is not None else ()
    con.print(
        f"{task.id} is {task.status}: a storyboard of {len(shots)} shots to review "
        "(it no longer counts toward the concurrency limit)."
    )
    shots_view = out.shots_table(task)
    if shots_view is not None:
        con.print(shots_view)
    if not shots:
        return task
    preview = await client.music_video.shot_media(task.id, shots[0].id)
    con.print(f"Preview of {shots[0].id}: {preview.media.url}")
    target = shots[min(1, len(shots) - 1)]
    con.print(f"Editing {target.id}: 'make it golden hour'  (client.music_video.edit_shot)")
    task = await client.music_video.edit_shot(task.id, target.id, prompt="make it golden hour")
    log(task)
    task = await client.wait_for_task(task, until="actionable", on_update=log)
    con.print(f"Composing {len(shots)} shots  (client.music_video.compose)")
    task = await client.music_video.compose(task.id, shot_ids=[s.id for s in shots])
    log(task)
    return await client.wait_for_task(task, on_update=log, raise_on_failure=False)


@click.command(short_help="Watch videos get made on a built-in emulator (no key).")
@click.option(
    "--speed",
    type=click.FloatRange(min=1),
    default=60,
    show_default=True,
    help="Emulator time per real second (60: a two-minute render takes two seconds).",
)
@click.option(
    "--tasks",
    type=click.IntRange(2, 60),
    default=8,
    show_default=True,
    help="Videos in the batch (one is scripted to fail).",
)
@click.option(
    "--concurrency-limit",
    type=click.IntRange(1, 30),
    default=3,
    show_default=True,
    help="Tasks the demo account may run at once.",
)
def demo(speed: float, tasks: int, concurrency_limit: int) -> None:
    """Watch videos get made on the built-in emulator: no key, no network, under a minute."""
    code = run_async(lambda: run_demo(out.console(), speed=speed, tasks=tasks, limit=concurrency_limit))
    if code:
        raise click.exceptions.Exit(code)
