"""The pytest plugin as a user's own project meets it (issue #13 items 6 and 10).

The README's pytest example is taken from README.md verbatim and run by a
separate pytest, in a new directory with its own configuration: pytest-asyncio's
strict mode (its default), auto mode, and anyio's marker without pytest-asyncio.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def readme_example() -> str:
    """The first ```python block of the README's 'pytest fixtures' section."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### pytest fixtures", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match, "README: no python block under 'pytest fixtures'"
    return match.group(1)


def run_pytest(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # -p no:cacheprovider: leave nothing behind; a pytest.ini of its own makes the
    # directory its own rootdir, so this repository's configuration does not apply.
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:schemathesis", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_readme_example_runs_verbatim_in_a_new_project(tmp_path: Path, mode: str) -> None:
    (tmp_path / "pytest.ini").write_text(f"[pytest]\nasyncio_mode = {mode}\n")
    (tmp_path / "test_render.py").write_text(readme_example())
    result = run_pytest(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_fixtures_run_under_anyio_without_pytest_asyncio(tmp_path: Path) -> None:
    example = readme_example().replace("@pytest.mark.asyncio", "@pytest.mark.anyio")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\n@pytest.fixture\ndef anyio_backend():\n    return 'asyncio'\n"
    )
    (tmp_path / "test_render.py").write_text(example)
    result = run_pytest(tmp_path, "-p", "no:asyncio")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_plugin_pytest_loads_imports_neither_the_sdk_nor_aiohttp() -> None:
    """pytest imports its plugins at every start-up: ours must cost nothing there."""
    from importlib.metadata import entry_points

    (plugin,) = [ep for ep in entry_points(group="pytest11") if ep.name == "beatapi_async"]
    probe = (
        f"import sys, {plugin.value}; "
        "print(sorted(m for m in sys.modules if m.startswith(('beatapi_async', 'aiohttp'))))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == f"[{plugin.value!r}]"


def test_the_plugin_under_the_packages_name_imports_nothing_of_the_emulator() -> None:
    probe = (
        "import sys, beatapi_async.testing.pytest_plugin as p; "
        "assert p.fake_beatapi and p.beatapi_client; "
        "print(sorted(m for m in sys.modules if m.startswith('beatapi_async.testing.') or m == 'aiohttp.web'))"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "['beatapi_async.testing.pytest_plugin']"


def test_the_package_still_exports_the_emulator_lazily() -> None:
    import beatapi_async.testing as testing

    assert testing.FakeBeatAPI.__name__ == "FakeBeatAPI"
    assert set(testing.__all__) <= set(dir(testing))
    with pytest.raises(AttributeError):
        _ = testing.NoSuchThing  # type: ignore[attr-defined]
