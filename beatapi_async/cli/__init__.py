"""The ``beatapi-async`` command line (console script and ``python -m beatapi_async``).

Nothing here is imported by ``import beatapi_async``: the CLI and its extras
(click, rich) load only when the command runs.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]

INSTALL_HINT = "beatapi-async: the command line needs its extras: pip install 'beatapi-async[cli]'"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default ``sys.argv[1:]``) and return its exit code."""
    try:
        import click  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    try:
        from ._app import cli

        cli.main(args=list(argv) if argv is not None else None, prog_name="beatapi-async")
    except SystemExit as exc:
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except KeyboardInterrupt:  # Ctrl-C while starting up, before a command took over
        print("interrupted", file=sys.stderr)
        return 130
    return 0
