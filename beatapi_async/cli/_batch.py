"""``beatapi-async run BATCH.jsonl``: many tasks from JSON Lines, within the account's limits, resumable.

Each line is ``{"workflow": "music-video" | "ecommerce-video", "id": optional caller key,
...the request's fields}``. Every line is checked before anything is sent; a bad one
is reported with its line number and skipped (never half-run).

Resuming. Creating a task is billed, so the run keeps a durable record (the state
file: JSON Lines, appended, flushed and fsynced record by record) for each line:

1. before its create is sent: the Idempotency-Key it is sent with;
2. the moment the create returns: the task id.

A rerun of the same batch waits on recorded task ids instead of creating them again,
and re-sends a create whose answer never arrived with the recorded key, so BeatAPI
answers with the task it already made (same key and body: the same task, not
charged twice). Lines are matched by their ``id`` (else their line number) and a
fingerprint of their fields: a line edited since its task was made is reported, not
re-created.

Creates go through the client's concurrency gate (``client.gate``), so no more of the
account's tasks run than its limit allows, and a slot is given back as soon as a task
stops running.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import IO, Any, Literal

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .. import AsyncBeatAPI, BeatAPIError, MusicVideoRequest, RequestValidationError, Task, WaitTimeoutError
from .._credits import CreditCap
from . import _output as out
from ._common import INTERRUPTED, OK, USAGE_ERROR, CliError, run_async, settings, wants_json
from ._lines import Line, Result, credits_of, exit_code, invalid_result, read_batch, result_of
from ._state import StateFile, check_against_state

# -- progress -----------------------------------------------------------------------------


class View:
    """Progress on stderr: a bar on a terminal, one line per event in a pipe."""

    def __init__(self, total: int) -> None:
        self.err = out.console(stderr=True)
        self.total = total
        self.running: set[str] = set()
        self.failed = 0
        self._progress: Progress | None = None
        self._bar: Any = None

    def __enter__(self) -> View:
        if self.err.is_terminal and self.total:
            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("[bold]batch"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("{task.fields[info]}"),
                TimeElapsedColumn(),
                console=self.err,
            )
            self._progress.start()
            self._bar = self._progress.add_task("batch", total=self.total, info="")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()

    def note(self, text: str) -> None:
        (self._progress.console if self._progress is not None else self.err).print(text, highlight=False)

    def _refresh(self, advance: int = 0) -> None:
        if self._progress is not None:
            info = f"{len(self.running)} running" + (f", [red]{self.failed} failed[/]" if self.failed else "")
            self._progress.update(self._bar, advance=advance, info=info)

    def started(self, line: Line, task: Task, resumed: bool) -> None:
        if task.is_running:
            self.running.add(task.id)
        if self._progress is None:
            self.note(f"{line.label}: {'waiting on recorded' if resumed else 'created'} {task.id}")
        self._refresh()

    def update(self, task: Task) -> None:
        if task.is_running:
            self.running.add(task.id)
        else:
            self.running.discard(task.id)
        self._refresh()

    def finished(self, line: Line, result: Result) -> None:
        if result.task_id is not None:
            self.running.discard(result.task_id)
        if result.outcome in ("failed", "error"):
            self.failed += 1
        detail = result.video_url or result.error or ""
        self.note(f"{line.label}: {result.status} {result.task_id or ''} {detail}".replace("  ", " ").rstrip())
        self._refresh(advance=1)


# -- running ---------------------------------------------------------------------------------


def _new_key() -> str:
    return f"beatapi-cli-{uuid.uuid4().hex}"


def _key_source(line: Line, state: StateFile) -> Callable[[], str]:
    """Keys for a line's create attempts, each recorded durably before it is sent.

    The first attempt reuses a key an earlier run recorded (its answer may have been
    lost: BeatAPI then returns the task it already made); after a 429
    ``user_concurrency_exceeded`` nothing was created, so the next attempt gets a fresh key.
    """
    recorded = state.records.get(line.key, {}).get("idempotency_key")

    def next_key() -> str:
        nonlocal recorded
        if recorded is not None:
            key, recorded = recorded, None
            return str(key)
        key = _new_key()
        state.record(line, idempotency_key=key)
        return key

    return next_key


async def _run_line(
    client: AsyncBeatAPI, line: Line, state: StateFile, view: View, timeout: float | None, cap: CreditCap | None
) -> Result:
    request = line.request
    assert request is not None
    until: Literal["terminal", "actionable"] = (
        "actionable" if isinstance(request, MusicVideoRequest) and request.compose_mode == "manual" else "terminal"
    )
    recorded = state.records.get(line.key, {}).get("task_id")
    task_id: str | None = recorded
    last: Task | None = None
    try:
        if recorded is not None:
            # Created by an earlier run: wait on it, never create it again. It holds its
            # own slot at BeatAPI (the gate counts it among the account's active tasks).
            task = await client.tasks.get(recorded)
            view.started(line, task, resumed=True)
            task = await client.wait_for_task(
                task, timeout=timeout, until=until, on_update=view.update, raise_on_failure=False
            )
            return result_of(line, task, resumed=True)

        def on_created(created: Task) -> None:
            nonlocal task_id, last
            task_id, last = created.id, created
            state.record(line, task_id=created.id)  # before waiting: a rerun must not create it again
            view.started(line, created, resumed=False)

        done = await client.run(
            request, timeout=timeout, until=until, on_update=view.update, raise_on_failure=False,
            idempotency_key=_key_source(line, state), on_created=on_created, max_credits=cap,
        )  # fmt: skip
        return result_of(line, done, resumed=False)
    except WaitTimeoutError as exc:
        status = str(exc.last_task.status) if exc.last_task is not None else "unknown"
        return _unfinished(line, exc.task_id, status, exc, resumed=recorded is not None, task=exc.last_task)
    except BeatAPIError as exc:
        return _unfinished(line, task_id, "error", exc, resumed=recorded is not None, task=last)


def _unfinished(
    line: Line, task_id: str | None, status: str, error: BaseException, *, resumed: bool, task: Task | None = None
) -> Result:
    return Result(
        **credits_of(task),
        line=line.number,
        id=line.caller_id,
        workflow=line.workflow,
        task_id=task_id,
        status=status,
        error=str(error),
        resumed=resumed,
    )


class Output:
    """``--out``: one result line per request, in the batch's line order.

    A result is written as soon as every line before it has its result, so a run that
    is killed leaves a file in line order (the lines not yet written are recorded in
    the resume record, and the next run writes them).
    """

    def __init__(self, path: str | None, order: list[int] | None = None) -> None:
        self.path = path
        self._file: IO[str] | None = None
        self._order = order or []
        self._next = 0  # index in _order of the next line to write
        self._waiting: dict[int, Result] = {}

    def __enter__(self) -> Output:
        if self.path is not None:
            try:
                self._file = open(self.path, "w", encoding="utf-8")
            except OSError as exc:
                raise CliError(f"cannot write {self.path}: {exc.strerror or exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._file is not None:
            self._file.close()

    def write(self, result: Result) -> None:
        if self._file is None:
            return
        self._waiting[result.line] = result
        ready: list[Result] = []
        while self._next < len(self._order) and self._order[self._next] in self._waiting:
            ready.append(self._waiting.pop(self._order[self._next]))
            self._next += 1
        if ready:
            self._file.writelines(r.to_json() + "\n" for r in ready)
            self._file.flush()

    def finish(self, results: list[Result]) -> None:
        if self._file is None:
            return
        # Every line has its result by now; anything left (none expected) goes in line order.
        self._file.writelines(r.to_json() + "\n" for r in sorted(self._waiting.values(), key=lambda r: r.line))
        self._waiting.clear()
        self._file.close()
        self._file = None


async def run_batch(
    client: AsyncBeatAPI,
    lines: list[Line],
    state: StateFile,
    output: Output,
    timeout: float | None,
    cap: CreditCap | None = None,
) -> list[Result]:
    """Run every valid line (each within the gate); report bad ones; return a result per line."""
    results = [invalid_result(line) for line in lines if line.error is not None]
    for result in results:
        output.write(result)
    valid = [line for line in lines if line.error is None]
    with View(len(valid)) as view:
        for line in lines:
            if line.error is not None:
                view.note(f"{line.label}: skipped: {line.error}")

        async def one(line: Line) -> None:
            result = await _run_line(client, line, state, view, timeout, cap)
            results.append(result)
            output.write(result)
            view.finished(line, result)

        # Plain asyncio tasks: a fatal error (the state file cannot be written) surfaces as itself.
        tasks = [asyncio.ensure_future(one(line)) for line in valid]
        try:
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    return sorted(results, key=lambda r: r.line)


# -- the command ------------------------------------------------------------------------------


def _one_error_for_all(results: list[Result]) -> str | None:
    """The error every sent line ended with before anything was created, if they all share one."""
    sent = [r for r in results if r.outcome != "invalid"]
    errors = {r.error for r in sent if r.outcome == "error" and r.task_id is None}
    if len(sent) > 1 and len(errors) == 1 and all(r.outcome == "error" and r.task_id is None for r in sent):
        return str(next(iter(errors)))
    return None


def _coordinator(url: str) -> Any:
    """``--redis``: the fleet's coordinator (the redis extra is imported only when asked for)."""
    try:
        from ..redis import RedisCoordinator
    except ImportError:
        raise CliError("--redis needs the redis extra: pip install 'beatapi-async[redis]'") from None
    try:
        return RedisCoordinator(url)
    except RequestValidationError as exc:
        raise CliError(f"--redis: {exc.rule}") from None


async def _check_redis(coordinator: Any) -> None:
    # One clear line before anything starts, rather than the same error on every line.
    try:
        await coordinator.ping()
    except BeatAPIError as exc:
        raise CliError(f"--redis: {exc.message}") from None


def _count(n: int, one: str, many: str | None = None) -> str:
    """``1 request``, ``2 requests`` (``many`` when the plural is not just an "s")."""
    return f"{n} {one if n == 1 else many or one + 's'}"


def _results_table(results: list[Result]) -> Any:
    t = out.table("LINE", "ID", "WORKFLOW", "TASK", "STATUS", "RESERVED", "SETTLED", "REFUNDED", "VIDEO / ERROR")
    for r in results:
        t.add_row(
            str(r.line),
            r.id or "",
            r.workflow or "",
            r.task_id or "",
            out.status_text(r.status),
            out.credits(r.credits_reserved),
            out.credits(r.credits_settled),
            out.credits(r.credits_refunded),
            r.video_url or r.error or "",
        )
    return t


def _credits_summary(results: list[Result]) -> str:
    """The batch's credits in all, as BeatAPI reported them per task."""

    def total(name: str) -> str:
        return out.credits(sum((getattr(r, name) or Decimal(0) for r in results), Decimal(0)))

    unsent = sum(isinstance(r.error, str) and r.error.startswith(("insufficient_credits:", "max_credits:"))
                 and r.task_id is None for r in results)  # fmt: skip
    text = f"credits: {total('credits_reserved')} reserved, {total('credits_settled')} settled, "
    text += f"{total('credits_refunded')} refunded"
    return text + (f"; {unsent} not sent (credits)" if unsent else "")


@click.command(short_help="Run a JSON Lines batch of requests (resumable).")
@click.argument("batch", type=click.Path(exists=True, dir_okay=False))
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False, writable=True),
    help="Write one JSON result line per request here.",
)
@click.option(
    "--state",
    "state_path",
    type=click.Path(dir_okay=False),
    help="The resume record (default: OUT.state, else BATCH.state).",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    default=0,
    help="Stop waiting on a task after this many seconds (default 0: never).",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Check every line; show what each would do and cost, the total and the balance; create nothing.",
)
@click.option(
    "--max-credits",
    metavar="N",
    help="Reserve at most N in all (credits; dollars on deployments that bill in dollars); "
    "lines past it end unsent.",
)
@click.option(
    "--redis",
    "redis_url",
    envvar="BEATAPI_REDIS_URL",
    metavar="URL",
    help="Share the account's limits with every other process using this Redis (redis://...; "
    "needs the redis extra). Default: $BEATAPI_REDIS_URL.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON Lines.")
@click.pass_context
def run(
    ctx: click.Context,
    batch: str,
    out_path: str | None,
    state_path: str | None,
    timeout: float,
    dry_run: bool,
    max_credits: str | None,
    redis_url: str | None,
    as_json: bool,
) -> None:
    """Run every request of a JSON Lines batch within the account's limits (resumable).

    Each line: {"workflow": "music-video" or "ecommerce-video", "id": "optional-key", ...fields}.
    Bad lines are reported by number and skipped. Created task ids are recorded as they are
    made, so running the same command again after Ctrl-C or a crash waits on them instead of
    creating (and paying for) them again.
    """
    options = settings(ctx)
    try:
        cap = None if max_credits is None else CreditCap(max_credits)
    except RequestValidationError as exc:
        raise CliError(f"--max-credits: {exc.rule}") from None
    coordinator = _coordinator(redis_url) if redis_url and not dry_run else None
    # Made first: input URLs on the client's own base URL (a local emulator's uploads) are valid.
    client = options.client(auth=not dry_run, coordinator=coordinator)
    state = StateFile(state_path or f"{out_path or batch}.state")
    state.load()
    lines = read_batch(batch)
    check_against_state(lines, state)
    json_out = wants_json(ctx, as_json)

    if not lines:
        # Nothing to do is almost always a mistake (the wrong file, or a failed export).
        raise CliError(f"{batch} holds no requests (every line is blank)", USAGE_ERROR)

    if dry_run:
        from ._plan import plan_items, print_plan, read_balance

        items = plan_items(client, lines, state.records)
        balance, why = read_balance(client) if options.api_key else (None, None)
        print_plan(items, balance=balance, why_no_balance=why, json_out=json_out)
        if any(line.error for line in lines):
            raise click.exceptions.Exit(USAGE_ERROR)
        return

    async def go() -> list[Result]:
        try:
            if coordinator is not None:
                await _check_redis(coordinator)
            async with client:
                return await run_batch(client, lines, state, output, timeout or None, cap)
        finally:
            if coordinator is not None:
                await coordinator.aclose()

    state.open()
    try:
        with Output(out_path, [line.number for line in lines]) as output:
            try:
                results = run_async(go)
            except KeyboardInterrupt:
                click.echo(
                    f"interrupted: {_count(state.created, 'created task')} recorded in {state.path}; "
                    "run the same command again to resume (nothing is created twice)",
                    err=True,
                )
                raise click.exceptions.Exit(INTERRUPTED) from None
            output.finish(results)
    finally:
        state.close()

    stopped = _one_error_for_all(results)
    if stopped is not None:
        # The gate's first usage read failed (a wrong key, BeatAPI unreachable): every line
        # failed with it before anything was created. One line says so, not one per request.
        where = f"; results in {out_path}" if out_path else ""
        raise CliError(f"nothing was created, every request failed with: {stopped}{where}", exit_code(results))

    if json_out:
        for result in results:
            click.echo(result.to_json())
    elif out_path is None:
        out.console().print(_results_table(results))
    labels = {
        "ok": ("done", "done"),
        "failed": ("failed", "failed"),
        "invalid": ("bad line skipped", "bad lines skipped"),
        "error": ("API error", "API errors"),
    }
    counts = {k: sum(r.outcome == k for r in results) for k in labels}
    summary = ", ".join(_count(n, *labels[k]) for k, n in counts.items() if n)
    where = f"; results in {out_path}" if out_path else ""
    click.echo(f"{_count(len(results), 'request')}: {summary}{where}; resume record {state.path}", err=True)
    click.echo(_credits_summary(results), err=True)
    code = exit_code(results)
    if code != OK:
        raise click.exceptions.Exit(code)
