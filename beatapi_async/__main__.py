"""``python -m beatapi_async``: the command line."""

from beatapi_async.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
