"""``python -m beatapi_async.testing``: serve the emulator on a port until Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from collections.abc import Sequence

from ._serve import serve_forever


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve."""
    parser = argparse.ArgumentParser(prog="python -m beatapi_async.testing", description="Run FakeBeatAPI.")
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    parser.add_argument("--speed", type=float, default=1.0, help="BeatAPI seconds per real second")
    parser.add_argument("--concurrency-limit", type=int, default=2, help="running tasks allowed")
    parser.add_argument("--credit-balance", type=int, default=10_000, help="starting credits")
    parser.add_argument("--poll-limit", type=int, default=120, help="GET /v1/tasks/{id} per minute (0: none)")
    parser.add_argument("--api-key", default=None, help="key to accept (default: a generated sk_test_ key)")
    parser.add_argument("--no-poll-hint", action="store_true", help="omit poll_after_seconds (launch contract)")
    args = parser.parse_args(argv)
    options = {
        "host": args.host,
        "port": args.port,
        "speed": args.speed,
        "concurrency_limit": args.concurrency_limit,
        "credit_balance": args.credit_balance,
        "poll_limit_per_minute": args.poll_limit or None,
        "api_key": args.api_key,
        "poll_hint": not args.no_poll_hint,
    }
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve_forever(**options))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
