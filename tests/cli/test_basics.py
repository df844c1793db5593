"""The entry points, global options, exit codes and error lines."""

from __future__ import annotations

import subprocess
import sys

import pytest
from click.testing import CliRunner

from beatapi_async.cli import main
from beatapi_async.cli._app import cli

from .conftest import ROOT, Invoke, ThreadedEmulator, run_cli

COMMANDS = ("create", "demo", "emulator", "run", "tasks", "upload", "usage", "webhooks", "workflows")


def test_python_m_help_lists_every_command() -> None:
    done = run_cli(["--help"], timeout=30)
    assert done.returncode == 0, done.stderr
    for command in COMMANDS:
        assert command in done.stdout


LIGHT_IMPORT_AND_NO_EXTRAS = """
import sys
import beatapi_async
print(sorted(m for m in ("beatapi_async.cli", "click", "rich", "beatapi_async.testing") if m in sys.modules))
from beatapi_async.cli import main
for extra in ("click", "rich"):
    sys.modules[extra] = None  # as if it were not installed
    print(main(["usage"]))
    del sys.modules[extra]
"""


def test_import_is_light_and_the_cli_extra_is_named_when_missing() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LIGHT_IMPORT_AND_NO_EXTRAS], capture_output=True, text=True, timeout=30, cwd=ROOT
    )
    # `import beatapi_async` loads neither the CLI nor its extras (nor the emulator).
    assert done.stdout.splitlines() == ["[]", "2", "2"], done.stdout + done.stderr
    # Without click or rich: one line naming the extra, exit 2.
    assert (
        done.stderr.splitlines()
        == ["beatapi-async: the command line needs its extras: pip install 'beatapi-async[cli]'"] * 2
    )


def test_main_returns_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert "beatapi-async" in capsys.readouterr().out
    assert main(["no-such-command"]) == 2


def test_missing_key_names_the_variable_in_one_line() -> None:
    result = CliRunner().invoke(cli, ["usage"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "error: no API key: set BEATAPI_API_KEY or pass --api-key "
        "(no key? `beatapi-async demo` runs everything against a built-in emulator)"
    ]


def test_key_and_base_url_come_from_the_environment(emulator: ThreadedEmulator) -> None:
    env = {"BEATAPI_API_KEY": emulator.api_key, "BEATAPI_BASE_URL": emulator.base_url}
    result = CliRunner(env=env).invoke(cli, ["usage", "--json"])
    assert result.exit_code == 0, result.stderr
    assert '"credit_balance": 10000' in result.stdout


def test_a_wrong_key_is_an_api_error_and_never_printed(emulator: ThreadedEmulator) -> None:
    secret = "sk_live_this_must_never_show_0123456789"
    result = CliRunner().invoke(cli, ["--base-url", emulator.base_url, "--api-key", secret, "usage"])
    assert result.exit_code == 3
    assert secret not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: 401"), lines
    assert "Traceback" not in result.output


def test_refuses_a_clear_text_base_url() -> None:
    result = CliRunner().invoke(cli, ["--base-url", "http://api.example.com", "--api-key", "k", "usage"])
    assert result.exit_code == 2
    assert "base_url" in result.stderr and "https" in result.stderr


def test_unreachable_api_is_exit_3(emulator: ThreadedEmulator) -> None:
    emulator.call(lambda f: f.add_fault("GET", "/v1/usage", status=500, times=None))
    result = CliRunner().invoke(
        cli, ["--base-url", emulator.base_url, "--api-key", emulator.api_key, "usage"], catch_exceptions=False
    )
    assert result.exit_code == 3
    assert result.stderr.startswith("error: 500")


def test_usage_errors_are_exit_2_in_one_line(invoke: Invoke) -> None:
    for args in (("usage", "--period", "1y"), ("tasks", "wait"), ("nope",), ("upload", "/no/such/file.png")):
        result = invoke(*args)
        assert result.exit_code == 2, args
        [line] = result.stderr.splitlines()
        assert line.startswith("error: ") and line.endswith("--help`)"), line
    period = invoke("usage", "--period", "1y").stderr
    assert "'1y' is not one of '24h', '7d', '30d', 'all'" in period and "`beatapi-async usage --help`" in period
