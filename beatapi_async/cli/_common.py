"""What every command shares: global options, the client, exit codes and error lines."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import attrs
import click

from .. import (
    AsyncBeatAPI,
    AuthenticationError,
    BeatAPIError,
    Coordinator,
    PollPolicy,
    RequestValidationError,
    TaskFailedError,
)

T = TypeVar("T")

ENV_API_KEY = "BEATAPI_API_KEY"
ENV_BASE_URL = "BEATAPI_BASE_URL"
ENV_WEBHOOK_SECRET = "BEATAPI_WEBHOOK_SECRET"

# Exit codes (README "Command line").
OK = 0
TASK_FAILED = 1
USAGE_ERROR = 2
API_ERROR = 3
INTERRUPTED = 130


class CliError(Exception):
    """An expected failure: one line on stderr and an exit code, no traceback."""

    def __init__(self, message: str, exit_code: int = USAGE_ERROR) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def exit(self) -> click.exceptions.Exit:
        """Print the line; return the exit to raise."""
        click.echo(f"error: {self.message}", err=True)
        return click.exceptions.Exit(self.exit_code)


@attrs.define
class Settings:
    """The global options, resolved once per invocation."""

    api_key: str | None = attrs.field(default=None, repr=False)
    base_url: str | None = None
    json: bool = False
    poll_interval: float | None = None
    poll_budget: float | None = None

    def poll_policy(self) -> PollPolicy | None:
        if self.poll_interval is None and self.poll_budget is None:
            return None
        default = PollPolicy()
        interval = self.poll_interval if self.poll_interval is not None else default.interval
        return PollPolicy(
            interval=interval,
            max_interval=2 * interval if self.poll_interval is not None else default.max_interval,
            budget_per_minute=self.poll_budget if self.poll_budget is not None else default.budget_per_minute,
        )

    def require_key(self) -> None:
        """Refuse to go on without a key (one line naming the variable, exit 2)."""
        if not self.api_key:
            raise CliError(
                f"no API key: set {ENV_API_KEY} or pass --api-key "
                "(no key? `beatapi-async demo` runs everything against a built-in emulator)"
            )

    def client(self, *, auth: bool = True, coordinator: Coordinator | None = None) -> AsyncBeatAPI:
        """A client from the options; ``auth`` commands refuse to start without a key."""
        if auth:
            self.require_key()
        return AsyncBeatAPI(api_key=self.api_key, base_url=self.base_url, poll=self.poll_policy(),
                            coordinator=coordinator)  # fmt: skip


def settings(ctx: click.Context) -> Settings:
    """The global options of this invocation."""
    found = ctx.find_object(Settings)
    return found if found is not None else Settings()


def wants_json(ctx: click.Context, local: bool) -> bool:
    """``--json`` given on the command or before it."""
    return local or settings(ctx).json


def run_async(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run one command's coroutine: the one ``asyncio.run`` of the invocation.

    Ctrl-C cancels the command's task (so its cleanup runs) and then surfaces as
    ``KeyboardInterrupt``. Python 3.11's ``asyncio.run`` does this by itself; on 3.10
    the interrupt could otherwise strike inside any callback and print a traceback.
    """

    async def main() -> T:
        loop = asyncio.get_running_loop()
        task = asyncio.current_task()
        interrupted = False

        def on_sigint() -> None:
            nonlocal interrupted
            interrupted = True
            if task is not None:
                task.cancel()

        try:
            loop.add_signal_handler(signal.SIGINT, on_sigint)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread, or no signals here
            return await factory()
        try:
            return await factory()
        except asyncio.CancelledError:
            if interrupted:
                raise KeyboardInterrupt from None
            raise
        finally:
            loop.remove_signal_handler(signal.SIGINT)

    return asyncio.run(main())


def error_exit(exc: BaseException) -> CliError | None:
    """Map an SDK error to the CLI's one-line message and exit code (None: not an expected error)."""
    if isinstance(exc, RequestValidationError):
        return CliError(f"invalid input: {exc.field}: {exc.rule}", USAGE_ERROR)
    if isinstance(exc, AuthenticationError) and exc.code == "missing_api_key":
        return CliError(f"no API key: set {ENV_API_KEY} or pass --api-key", USAGE_ERROR)
    if isinstance(exc, TaskFailedError):
        return CliError(str(exc), TASK_FAILED)
    if isinstance(exc, BeatAPIError):
        return CliError(str(exc), API_ERROR)
    return None
