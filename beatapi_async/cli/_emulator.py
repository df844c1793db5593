"""``beatapi-async emulator``: the offline BeatAPI (``beatapi_async.testing``) as a standalone server."""

from __future__ import annotations

import click

from ._common import USAGE_ERROR, CliError, run_async


@click.command(short_help="Run the BeatAPI emulator as a local server.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, help="Port (default: a free one).")
@click.option(
    "--speed",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="BeatAPI seconds per real second (60: a two-minute render takes two seconds).",
)
@click.option(
    "--concurrency-limit",
    type=click.IntRange(min=1),
    default=2,
    show_default=True,
    help="Tasks the account may run at once.",
)
@click.option(
    "--credit-balance", type=click.IntRange(min=0), default=10_000, show_default=True, help="Starting credits."
)
@click.option("--key", metavar="KEY", help="The API key to accept (default: a generated sk_test_ key).")
def emulator(host: str, port: int, speed: float, concurrency_limit: int, credit_balance: int, key: str | None) -> None:
    """Run the BeatAPI emulator and print its base URL and key (Ctrl-C stops)."""
    from ..testing import serve_forever

    async def serve() -> None:
        try:
            await serve_forever(
                host=host,
                port=port,
                speed=speed,
                concurrency_limit=concurrency_limit,
                credit_balance=credit_balance,
                api_key=key,
            )
        except OSError as exc:
            raise CliError(f"cannot listen on {host}:{port}: {exc.strerror or exc}", USAGE_ERROR) from None

    try:
        run_async(serve)
    except KeyboardInterrupt:
        click.echo("stopped", err=True)
