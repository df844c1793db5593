"""Module attributes loaded on first use (PEP 562): what keeps ``import beatapi_async`` light."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(
    namespace: dict[str, Any], where: Mapping[str, str], *, listed: Iterable[str] = ()
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's ``__getattr__`` and ``__dir__`` for the names in ``where`` (name -> relative module).

    ``namespace`` is the module's ``globals()``. A name is imported on its first lookup and
    kept in the module, so later lookups are plain ones; ``dir()`` lists the names not yet
    loaded too (and ``listed``). A module that fails to import is named in the error.
    """
    module_name, package = namespace["__name__"], namespace["__package__"]

    def __getattr__(name: str) -> Any:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        try:
            value = getattr(import_module(source, package), name)
        except ImportError as exc:
            raise ImportError(f"{module_name}.{name} could not be loaded: {exc}", name=module_name) from exc
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where, *listed})

    return __getattr__, __dir__
