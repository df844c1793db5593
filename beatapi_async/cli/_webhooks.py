"""``beatapi-async webhooks list|create|delete|listen``."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable

import click
from aiohttp import web

from .. import WebhookEvent
from .._params import WebhookEventType
from . import _output as out
from ._app import call, json_option, show
from ._common import ENV_WEBHOOK_SECRET, USAGE_ERROR, CliError, run_async, wants_json

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
    "--secret",
    "secrets",
    multiple=True,
    envvar=ENV_WEBHOOK_SECRET,
    metavar="SECRET",
    help=f"The endpoint's secret (default: ${ENV_WEBHOOK_SECRET}); repeat during a rotation.",
)
@json_option
@click.pass_context
def webhooks_listen(
    ctx: click.Context, host: str, port: int, path: str, secrets: tuple[str, ...], as_json: bool
) -> None:
    """Receive deliveries on a local HTTP server: verify each one and print it (Ctrl-C stops)."""
    from ..webhooks import aiohttp_handler

    if not secrets:
        raise CliError(f"no webhook secret: pass --secret or set {ENV_WEBHOOK_SECRET} (`webhooks create` shows it)")
    if not path.startswith("/"):
        raise click.BadParameter("must start with /", param_hint="--path")
    emit_json = wants_json(ctx, as_json)
    con = out.console()
    err = out.console(stderr=True)

    def on_event(event: WebhookEvent) -> None:
        if emit_json:
            click.echo(json.dumps(out.to_jsonable(event), ensure_ascii=False))
        else:
            con.print(describe_event(event))

    @web.middleware
    async def report_rejects(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if response.status == 400 and isinstance(response, web.Response) and isinstance(response.body, bytes):
            try:
                reason = json.loads(response.body)["error"]["message"]
            except (ValueError, KeyError, TypeError):
                reason = "not a valid delivery"
            err.print(f"rejected a delivery from {request.remote}: {reason}")
        return response

    async def serve() -> None:
        app = web.Application(middlewares=[report_rejects])
        app.router.add_post(path, aiohttp_handler(list(secrets), on_event=on_event))
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        try:
            try:
                await web.TCPSite(runner, host, port).start()
            except OSError as exc:
                raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", USAGE_ERROR) from None
            bound_host, bound_port = runner.addresses[0][:2]
            shown = f"[{bound_host}]" if ":" in bound_host else bound_host
            err.print(f"listening on http://{shown}:{bound_port}{path} for BeatAPI deliveries; Ctrl-C stops")
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    try:
        run_async(serve)
    except KeyboardInterrupt:
        err.print("stopped")
