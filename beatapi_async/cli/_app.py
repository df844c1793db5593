"""The ``beatapi-async`` command group, its global options, and the read commands.

Exit codes: 0 success, 1 a task failed, 2 usage or validation error, 3 API error
(or a wait that timed out), 130 interrupted. Expected errors print one line on
stderr; the API key is never printed.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

import click
from rich.console import RenderableType

from .. import AsyncBeatAPI, Task, __version__
from .._params import UsagePeriod
from . import _output as out
from ._common import (
    ENV_API_KEY,
    ENV_BASE_URL,
    INTERRUPTED,
    OK,
    TASK_FAILED,
    CliError,
    Settings,
    error_exit,
    run_async,
    settings,
    wants_json,
)

T = TypeVar("T")
F = TypeVar("F", bound=Callable[..., Any])


# click >= 8.2 raises this (a UsageError carrying the help) for a bare group.
_NO_ARGS_IS_HELP: tuple[type[click.ClickException], ...] = tuple(
    e for e in (getattr(click.exceptions, "NoArgsIsHelpError", None),) if e is not None
)

# Commands in their own modules, imported only when used (or listed by --help).
LAZY_COMMANDS = {
    "create": "._create:create",
    "demo": "._demo:demo",
    "emulator": "._emulator:emulator",
    "run": "._batch:run",
    "webhooks": "._webhooks:webhooks",
}


class RootGroup(click.Group):
    """The root group: lazy commands, and expected errors and Ctrl-C turned into exit codes."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted([*super().list_commands(ctx), *LAZY_COMMANDS])

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = LAZY_COMMANDS.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module, _, name = target.partition(":")
        command = getattr(importlib.import_module(module, __package__), name)
        assert isinstance(command, click.Command)
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        """Run the command line; every error, usage errors included, is one line on stderr."""
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
            code = result if isinstance(result, int) and not isinstance(result, bool) else OK
        except _NO_ARGS_IS_HELP as exc:  # a group run bare: its help, not an error line
            click.echo(exc.format_message(), err=True)
            code = exc.exit_code
        except click.UsageError as exc:
            where = exc.ctx.command_path if exc.ctx is not None else "beatapi-async"
            click.echo(f"error: {exc.format_message()} (see `{where} --help`)", err=True)
            code = exc.exit_code
        except click.ClickException as exc:
            click.echo(f"error: {exc.format_message()}", err=True)
            code = exc.exit_code
        except click.Abort:
            click.echo("interrupted", err=True)
            code = INTERRUPTED
        if standalone_mode:
            sys.exit(code)
        return code

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None
        except CliError as exc:
            raise exc.exit() from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            mapped = error_exit(exc)
            if mapped is None:
                raise
            raise mapped.exit() from None


def json_option(func: F) -> F:
    """``--json``: print JSON for scripts instead of tables."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")(func)


def call(ctx: click.Context, action: Callable[[AsyncBeatAPI], Awaitable[T]], *, auth: bool = True) -> T:
    """Open a client from the global options, run ``action`` with it, close it."""
    options = settings(ctx)

    async def go() -> T:
        async with options.client(auth=auth) as client:
            return await action(client)

    return run_async(go)


def show(ctx: click.Context, as_json: bool, value: object, render: Callable[[Any], RenderableType | None]) -> None:
    """Print ``value`` as JSON (``--json``) or through ``render``."""
    if wants_json(ctx, as_json):
        click.echo(out.dumps(value))
        return
    renderable = render(value)
    if renderable is not None:
        out.console().print(renderable)


def show_task(ctx: click.Context, as_json: bool, task: Task) -> None:
    """Print a task (with its storyboard); a failed task exits 1."""
    if wants_json(ctx, as_json):
        click.echo(out.dumps(task))
    else:
        con = out.console()
        con.print(out.task_table(task))
        shots = out.shots_table(task)
        if shots is not None:
            con.print(shots)
    if task.status == "failed":
        raise CliError(
            f"task {task.id} failed: {task.error_code or 'unknown_error'}: {task.error_message or ''}".rstrip(": "),
            TASK_FAILED,
        )


@click.group(
    "beatapi-async",
    cls=RootGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.option("--api-key", envvar=ENV_API_KEY, metavar="KEY", help=f"API key (default: ${ENV_API_KEY}).")
@click.option(
    "--base-url",
    envvar=ENV_BASE_URL,
    metavar="URL",
    help=f"API base URL (default: ${ENV_BASE_URL}, else https://api.beatapi.io).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (also accepted after a read command).")
@click.option(
    "--poll-interval",
    type=click.FloatRange(min=0.001),
    metavar="SECONDS",
    help="Poll a task this often when BeatAPI gives no hint (default 5, rising to 10).",
)
@click.option(
    "--poll-budget",
    type=click.FloatRange(min=1),
    metavar="PER_MINUTE",
    help="Task polls per minute for all waits together (default 100; BeatAPI allows 120 per key).",
)
@click.version_option(__version__, prog_name="beatapi-async")
@click.pass_context
def cli(
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    as_json: bool,
    poll_interval: float | None,
    poll_budget: float | None,
) -> None:
    """BeatAPI from the command line: images + a song -> music videos; product images -> ecommerce videos.

    Try it with no key and no network: `beatapi-async demo`.
    """
    ctx.obj = Settings(
        api_key=api_key or None,
        base_url=base_url or None,
        json=as_json,
        poll_interval=poll_interval,
        poll_budget=poll_budget,
    )


@cli.command()
@json_option
@click.pass_context
def workflows(ctx: click.Context, as_json: bool) -> None:
    """List the workflows tasks can be created with (needs no key)."""
    result = call(ctx, lambda c: c.workflows.list(), auth=False)
    show(ctx, as_json, result, out.workflows_table)


@cli.command()
@click.option("--period", type=click.Choice(["24h", "7d", "30d", "all"]), help="Totals over this period.")
@json_option
@click.pass_context
def usage(ctx: click.Context, period: UsagePeriod | None, as_json: bool) -> None:
    """Show the account's credits, totals and concurrency."""
    result = call(ctx, lambda c: c.usage.get(period=period))
    show(ctx, as_json, result, out.usage_table)


@cli.command(short_help="Upload a file to use as a workflow input.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@json_option
@click.pass_context
def upload(ctx: click.Context, path: str, as_json: bool) -> None:
    """Upload an image, audio or .srt file; its URL can be a workflow input."""
    result = call(ctx, lambda c: c.files.upload(path))
    show(ctx, as_json, result, out.file_table)


@cli.group()
def tasks() -> None:
    """Read and wait for tasks."""


@tasks.command("get")
@click.argument("task_id")
@json_option
@click.pass_context
def tasks_get(ctx: click.Context, task_id: str, as_json: bool) -> None:
    """Show a task."""
    show_task(ctx, as_json, call(ctx, lambda c: c.tasks.get(task_id)))


@tasks.command("wait")
@click.argument("task_id")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    metavar="SECONDS",
    default=900,
    show_default=True,
    help="Give up waiting after this many seconds (0: never); the task keeps running.",
)
@click.option(
    "--until",
    type=click.Choice(["terminal", "actionable"]),
    default="terminal",
    show_default=True,
    help="actionable: also stop when a manual music video's storyboard is ready.",
)
@json_option
@click.pass_context
def tasks_wait(ctx: click.Context, task_id: str, timeout: float, until: str, as_json: bool) -> None:
    """Wait for a task to finish (exit 1 if it failed), showing its progress."""
    from ._progress import wait_with_progress

    task = call(ctx, lambda c: wait_with_progress(c, task_id, timeout=timeout or None, until=until))
    show_task(ctx, as_json, task)
