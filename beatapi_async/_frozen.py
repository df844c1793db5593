"""Building frozen attrs instances quickly, where ``__init__`` would only store each field.

A frozen slotted class's ``__init__`` stores every field through ``object.__setattr__``
(a C call with its argument tuple, per field), and a call with keywords costs more. Its
*filler* is a subclass that adds nothing but ordinary attribute stores: an instance is
made as the filler, its slots are stored directly, then it becomes the class itself
(``__class__`` assignment; the layouts are the same, so nothing is copied). The result is
exactly what ``cls(...)`` would build, frozen from then on; about a quarter of the cost
for a model of many fields. Classes with validators, converters or init hooks, and any
interpreter where the switch is refused, are built by their ``__init__`` as usual.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar, cast

import attrs

T = TypeVar("T")

_SLOT = types.MemberDescriptorType
_fillers: dict[type[Any], type[Any] | None] = {}


def assigns_only(cls: type[Any]) -> bool:
    """True if ``cls.__init__`` does nothing but set each field's slot (no hook of any kind)."""
    if any(hasattr(cls, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__", "_attrs_cached_hash")):
        return False
    return all(
        a.init and a.validator is None and a.converter is None and type(getattr(cls, a.name, None)) is _SLOT
        for a in attrs.fields(cls)
    )


def filler(cls: type[Any]) -> type[Any] | None:
    """The subclass whose instances take plain attribute stores and then become ``cls``.

    None when ``cls`` is not a slotted attrs class whose ``__init__`` only assigns (frozen
    or not), or when this interpreter refuses the switch.
    """
    if cls in _fillers:
        return _fillers[cls]
    made: type[Any] | None = None
    if attrs.has(cls) and assigns_only(cls):
        body = {
            "__slots__": (),
            "__module__": cls.__module__,
            "__setattr__": object.__setattr__,  # ordinary stores (both, so the type's setattr
            "__delattr__": object.__delattr__,  # slot is the generic one, not the frozen guard)
            "__init__": object.__init__,
        }
        candidate = type(f"_{cls.__name__}Filler", (cls,), body)
        try:
            probe = candidate()
            probe.__class__ = cls
            made = candidate
        except TypeError:  # another layout, or an interpreter without the switch
            pass
    _fillers[cls] = made
    return made


def builder(cls: type[T]) -> Callable[..., T]:
    """A function taking ``cls``'s fields in order (positionally) and returning the instance."""
    names = [a.name for a in attrs.fields(cast(Any, cls))]
    fill = filler(cls)
    if fill is None:
        init = cls

        def build(*values: Any) -> T:
            return init(**dict(zip(names, values, strict=True)))

        return build
    params = ", ".join(names)
    lines = [f"def build({params}):", "    self = _fill()"]
    lines += [f"    self.{name} = {name}" for name in names]
    lines += ["    self.__class__ = _cls", "    return self"]
    ns: dict[str, Any] = {"_fill": fill, "_cls": cls}
    exec(compile("\n".join(lines), f"<{cls.__name__} builder>", "exec"), ns)  # our own source, from the fields
    made: Callable[..., T] = ns["build"]
    return made
