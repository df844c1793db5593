"""``beatapi-async webhooks list|create|delete|listen``."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import click
from aiohttp import web
from click.core import ParameterSource

from .. import WebhookEvent
from .._params import WebhookEventType
from .._validate import is_loopback_host
from . import _output as out
from ._app import call, json_option, show
from ._common import ENV_WEBHOOK_SECRET, USAGE_ERROR, CliError, run_async, wants_json
from ._listen import MAX_BODY, plain, plain_json, serve

EVENTS = ("task.succeeded", "task.failed")


@click.group()
def webhooks() -> None:
    """Manage webhook endpoints, or receive deliveries locally."""


@webhooks.command("list")
@json_option
@click.pass_context
def webhooks_list(ctx: click.Context, as_json: bool) -> None:
    """List the account's webhook endpoints (secrets masked)."""
    show(ctx, as_json, call(ctx, lambda c: c.webhooks.list()), out.webhooks_table)


@webhooks.command("create")
@click.option("--url", required=True, help="Where BeatAPI POSTs deliveries (https://; http:// only for localhost).")
@click.option(
    "--event", "events", multiple=True, type=click.Choice(EVENTS), help="An event to receive (repeat; default: all)."
)
@click.option("--description", help="A note for you.")
@json_option
@click.pass_context
def webhooks_create(
    ctx: click.Context, url: str, events: tuple[WebhookEventType, ...], description: str | None, as_json: bool
) -> None:
    """Register an endpoint. Its signing secret is shown this once: store it."""
    hook = call(ctx, lambda c: c.webhooks.create(url=url, events=list(events) or None, description=description))
    if wants_json(ctx, as_json):
        click.echo(out.dumps(hook))
        return
    con = out.console()
    con.print(
        out.fields_table(
            [
                ("id", hook.id),
                ("url", hook.url or ""),
                ("events", ",".join(hook.events)),
                ("status", hook.status or ""),
                ("secret", hook.secret or ""),
            ]
        )
    )
    out.console(stderr=True).print(
        f"Store the secret now; BeatAPI will not show it again. Receive deliveries with:\n"
        f"  {ENV_WEBHOOK_SECRET}=<secret> beatapi-async webhooks listen"
    )


@webhooks.command("delete")
@click.argument("webhook_id")
@json_option
@click.pass_context
def webhooks_delete(ctx: click.Context, webhook_id: str, as_json: bool) -> None:
    """Delete an endpoint."""
    deleted = call(ctx, lambda c: c.webhooks.delete(webhook_id))
    show(ctx, as_json, deleted, lambda d: f"deleted {d.id}" if d.deleted else f"{d.id} was not deleted")


def describe_event(event: WebhookEvent) -> str:
    """One line about a verified delivery."""
    stamp = time.strftime("%H:%M:%S")
    task = event.task
    if task is None:
        return f"{stamp} {event.event} {event.id or ''}".rstrip()
    detail = task.video_url or (
        f"{task.error_code}: {task.error_message or ''}".rstrip(": ") if task.error_code else ""
    )
    return f"{stamp} {event.event} {task.id} {task.status} {detail}".rstrip()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@webhooks.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="Port (0: a free one).")
@click.option("--path", default="/beatapi/webhooks", show_default=True, help="URL path deliveries are POSTed to.")
@click.option(
    "--secret-file",
    "secret_files",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="A file holding the endpoint's secret (one per line during a rotation).",
)
@click.option(
    "--secret",
    "secrets",
    multiple=True,
    envvar=ENV_WEBHOOK_SECRET,
    metavar="SECRET",
    help=f"The secret itself (default: ${ENV_WEBHOOK_SECRET}). On the command line it shows in `ps`: "
    "prefer the variable or --secret-file.",
)
@json_option
@click.pass_context
def webhooks_listen(
    ctx: click.Context,
    host: str,
    port: int,
    path: str,
    secret_files: tuple[Path, ...],
    secrets: tuple[str, ...],
    as_json: bool,
) -> None:
    """Receive deliveries on a local HTTP server: verify each one and print it (Ctrl-C stops).

    Deliveries are printed as plain text (control characters escaped). A connection
    has 10 s to send its request, and at most 128 are open at once.
    """
    from ..webhooks import aiohttp_handler

    if ctx.get_parameter_source("secrets") is ParameterSource.COMMANDLINE:
        click.echo(
            f"warning: a secret given with --secret is visible to other users in `ps`; "
            f"use {ENV_WEBHOOK_SECRET} or --secret-file",
            err=True,
        )
    all_secrets = [*secrets, *_read_secret_files(secret_files)]
    if not all_secrets:
        raise CliError(
            f"no webhook secret: set {ENV_WEBHOOK_SECRET} or pass --secret-file (`webhooks create` shows the secret)"
        )
    if not path.startswith("/"):
        raise click.BadParameter("must start with /", param_hint="--path")
    emit_json = wants_json(ctx, as_json)
    # The CLI reports rejections itself (once); the library's warning would repeat them.
    logging.getLogger("beatapi_async.webhooks").addHandler(logging.NullHandler())

    def on_event(event: WebhookEvent) -> None:
        if emit_json:
            click.echo(plain_json(json.dumps(out.to_jsonable(event), ensure_ascii=False)))
        else:
            click.echo(plain(describe_event(event)))

    @web.middleware
    async def report_rejects(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if response.status >= 400 and isinstance(response, web.Response) and isinstance(response.body, bytes):
            try:
                reason = json.loads(response.body)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                reason = "not a valid delivery"
            what = "rejected a delivery" if response.status < 500 else "could not handle a delivery"
            click.echo(plain(f"{what} from {request.remote}: {reason}"), err=True)
        return response

    if not is_loopback_host(host):
        click.echo(
            f"warning: listening on {host} is reachable from other machines; deliveries are verified, "
            "but prefer 127.0.0.1 behind a tunnel or proxy",
            err=True,
        )

    async def run() -> None:
        app = web.Application(middlewares=[report_rejects], client_max_size=MAX_BODY)
        app.router.add_post(path, aiohttp_handler(all_secrets, on_event=on_event))
        try:
            runner, server, _ = await serve(app, host, port)
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", USAGE_ERROR) from None
        try:
            bound_host, bound_port = server.sockets[0].getsockname()[:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            click.echo(f"listening on http://{shown}:{bound_port}{path} for BeatAPI deliveries; Ctrl-C stops", err=True)
            await asyncio.Event().wait()
        finally:
            server.close()
            await runner.cleanup()

    try:
        run_async(run)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)


def _read_secret_files(paths: tuple[Path, ...]) -> list[str]:
    found: list[str] = []
    for file in paths:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            why = getattr(exc, "strerror", None) or exc
            raise CliError(f"cannot read --secret-file {str(file)!r}: {why}") from None
        lines = [line.strip() for line in text.splitlines() if line.strip()]
        if not lines:
            raise CliError(f"--secret-file {str(file)!r} is empty")
        found.extend(lines)
    return found
