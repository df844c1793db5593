"""``import beatapi_async`` stays light: what a client and a task read do not need loads on first use.

The package's rarely used public names and the models of the other resources are
loaded by a PEP 562 ``__getattr__`` (in ``beatapi_async`` and in ``_models``). These
tests pin what the import leaves out, that every lazy name is the object its
defining module holds, that a name that cannot be loaded says so, and that a call
on the hot path runs no import statement once the first call has loaded what it needs.
"""

from __future__ import annotations

import builtins
import importlib
import inspect
import subprocess
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

import pytest

import beatapi_async
from beatapi_async import AsyncBeatAPI, _models

# What neither ``import beatapi_async`` nor making a client may load.
DEFERRED = (
    "anyio",
    "cattrs",
    "tenacity",
    "beatapi_async._budget",
    "beatapi_async._convert",
    "beatapi_async._credits",
    "beatapi_async._gate",
    "beatapi_async._ledger",
    "beatapi_async._pricing",
    "beatapi_async._raw",
    "beatapi_async._resource_models",
    "beatapi_async._runner",
    "beatapi_async._task_requests",
    *(
        f"beatapi_async.resources.{name}"
        for name in ("ecommerce_video", "files", "music_video", "realtime", "usage", "webhooks", "workflows")
    ),
    "beatapi_async.cli",
    "beatapi_async.testing",
    "beatapi_async.waiting",
    "beatapi_async.webhooks",
)


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _defining_module(name: str) -> str:
    """The module that declares a lazily exported name (following ``_models``' own lazy names)."""
    module = importlib.import_module(beatapi_async._LAZY[name], "beatapi_async").__name__
    if module == _models.__name__:
        module = importlib.import_module(_models._LAZY[name], "beatapi_async").__name__
    return module


def test_import_and_a_client_load_none_of_the_deferred_modules() -> None:
    probe = (
        "import sys, beatapi_async\n"
        f"before = sorted(m for m in {DEFERRED!r} if m in sys.modules)\n"
        "beatapi_async.AsyncBeatAPI('sk_test_probe_0000')\n"
        f"after = sorted(m for m in {DEFERRED!r} if m in sys.modules)\n"
        "print(before, after)"
    )
    assert _run(probe) == "[] []"


def test_every_lazy_name_is_public_and_its_defining_modules_object() -> None:
    assert set(beatapi_async._LAZY) <= set(beatapi_async.__all__)
    for name in beatapi_async._LAZY:
        value = getattr(beatapi_async, name)
        defining = importlib.import_module(_defining_module(name))
        assert value is getattr(defining, name), name
        if inspect.isclass(value) or inspect.isfunction(value):
            assert value.__module__ == defining.__name__, name  # declared there, not re-exported
    for name, module in _models._LAZY.items():
        assert getattr(_models, name) is getattr(importlib.import_module(module, "beatapi_async"), name), name


def test_lazy_names_load_on_first_use_and_stay_listed() -> None:
    probe = (
        "import beatapi_async as b\n"
        # Not loaded yet: exactly the lazy names are missing from the module...
        "print(sorted(set(b.__all__) - set(vars(b))) == sorted(b._LAZY))\n"
        # ...yet dir() lists every public name, and `import *` gets them all.
        "print(set(b.__all__) <= set(dir(b)))\n"
        "ns = {}\n"
        "exec('from beatapi_async import *', ns)\n"
        "print(set(b.__all__) <= set(ns))\n"
        # Once used, a name is kept in the module (``__getattr__`` runs once per name).
        "print('File' in vars(b), 'File' in vars(b._models))"
    )
    assert _run(probe).splitlines() == ["True", "True", "True", "True True"]


def test_models_lists_its_lazy_names_and_refuses_unknown_ones() -> None:
    assert set(_models._LAZY) <= set(dir(_models))
    with pytest.raises(AttributeError, match="no_such_model"):
        _models.no_such_model  # noqa: B018


def test_resources_are_made_on_first_use_once_per_client() -> None:
    client = AsyncBeatAPI("sk_test_probe_0000")
    derived = client.with_options(timeout=3)
    for name in ("workflows", "usage", "files", "music_video", "ecommerce_video", "webhooks", "realtime"):
        resource = getattr(client, name)
        assert getattr(client, name) is resource, name  # kept: later reads are plain attribute reads
        assert resource._client is client, name
        # A client from with_options has its own (made before or after the parent's).
        assert getattr(derived, name)._client is derived, name
        assert getattr(client.with_options(max_retries=0), name)._client is not client, name
    from beatapi_async import resources

    for name in resources.__all__:
        assert getattr(resources, name).__name__ == name
    assert set(resources.__all__) <= set(dir(resources))
    with pytest.raises(AttributeError, match="Nothing"):
        resources.Nothing  # noqa: B018


def test_a_lazy_name_that_cannot_be_loaded_says_which() -> None:
    probe = (
        "import sys\n"
        "sys.modules['beatapi_async._pricing'] = None  # as if it could not be imported\n"
        "import beatapi_async\n"
        "try:\n"
        "    beatapi_async.Estimate\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "try:\n"
        "    from beatapi_async import Estimate\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "print(beatapi_async.File.__name__)  # the other lazy names still load"
    )
    lines = _run(probe).splitlines()
    assert len(lines) == 3, lines
    for line in lines[:2]:
        assert line.startswith("ImportError beatapi_async.Estimate could not be loaded:"), line
        assert "beatapi_async._pricing" in line, line
    assert lines[2] == "File"


Call = Callable[[AsyncBeatAPI], Awaitable[Any]]
HOT_CALLS: Mapping[str, Call] = {
    "tasks.get": lambda c: c.tasks.get("task_8K2qA"),
    "usage.get": lambda c: c.usage.get(),  # its model is one of _models' lazy names
    "workflows.list": lambda c: c.workflows.list(),
}


@pytest.mark.parametrize("call", HOT_CALLS.values(), ids=list(HOT_CALLS))
async def test_a_repeated_call_runs_no_import_statement(
    live: AsyncBeatAPI, call: Call, monkeypatch: pytest.MonkeyPatch
) -> None:
    await call(live)  # the first call loads what it needs (the converter, the model)
    seen: list[str] = []
    real_import = builtins.__import__

    def spy(
        name: str,
        globals: Mapping[str, object] | None = None,
        locals: Mapping[str, object] | None = None,
        fromlist: Sequence[str] = (),
        level: int = 0,
    ) -> Any:
        importer = str((globals or {}).get("__name__", ""))
        if importer.startswith("beatapi_async"):
            seen.append(f"{importer} imports {name or '.'} {tuple(fromlist or ())}")
        return real_import(name, globals, locals, fromlist, level)

    monkeypatch.setattr(builtins, "__import__", spy)
    try:
        await call(live)
    finally:
        monkeypatch.undo()
    assert seen == []
