"""The one cattrs converter: JSON-ready data <-> the models of ``_models``.

Reading is lenient where BeatAPI may grow (unknown fields go to ``extra``, an unknown
status stays a plain string) and strict where a wrong type would mislead (a string
is not a list, ``true`` is not a number). ``make_converter(strict=True)`` refuses
unknown fields: the contract tests use it to catch our own drift.

The package's converter reads each model with a reader generated once for it (below);
its detailed twin keeps cattrs' own hooks, to explain a wrong shape field by field.
How each plain value (a time, an amount, a status...) is read lives in ``_values``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal
from typing import Any, TypeVar, get_args

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import _models as M
from ._frozen import filler
from ._values import (
    INT_DECIMALS,
    INT_TIMES,
    MODELS,
    STATUSES,
    has_extra,
    is_mapping,
    is_model,
    is_plain_optional,
    is_status,
    is_union,
    is_var_tuple,
    non_null,
    parse_bool,
    parse_decimal,
    parse_float,
    parse_int,
    parse_mapping,
    parse_status,
    parse_str,
    parse_time,
)

T = TypeVar("T")
_MODELS = MODELS  # the response models this converter reads (tests walk them)


def _iso_time(value: datetime | None) -> str | None:
    # BeatAPI's ISO form: UTC, "Z", milliseconds (microseconds only when it has them).
    if value is None:
        return None
    value = value.astimezone(timezone.utc)
    fraction = f"{value.microsecond // 1000:03d}" if value.microsecond % 1000 == 0 else f"{value.microsecond:06d}"
    return f"{value:%Y-%m-%dT%H:%M:%S}.{fraction}Z"


def _unix_time(value: datetime) -> int | float:
    # Unix seconds as BeatAPI sends them: whole seconds stay an int.
    stamp = value.timestamp()
    return int(stamp) if value.microsecond == 0 else stamp


def _unstructure_decimal(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


# -- the fast reader: one function per model, generated once --------------------------------

# How a value of each plain type is read: its usual exact type passes at once (or is turned
# at once); anything else goes to the type's hook, which accepts it (a str subclass...) or
# refuses it. A checked type keeps the value it accepts; a turned one builds a new value.
_CHECKED: dict[Any, str] = {str: "parse_str", int: "parse_int", float: "parse_float", bool: "parse_bool"}
_TURNED: dict[Any, str] = {
    datetime: "INT_TIMES[{v}] if type({v}) is int else parse_time({v})",
    Decimal: "INT_DECIMALS[{v}] if type({v}) is int else parse_decimal({v})",
}
_GLOBALS: dict[str, Any] = {
    "Mapping": Mapping, "INT_TIMES": INT_TIMES, "INT_DECIMALS": INT_DECIMALS, "STATUSES": STATUSES,
    "parse_status": parse_status, "parse_time": parse_time, "parse_decimal": parse_decimal,
    "parse_int": parse_int, "parse_float": parse_float, "parse_str": parse_str, "parse_bool": parse_bool,
}  # fmt: skip


def _make_reader(cls: type[Any], conv: cattrs.Converter, strict: bool) -> Callable[..., Any]:
    """Generate ``cls``'s reader: what cattrs' generated hook does, without its generality.

    It reads each declared key once (``null`` is "not given": the default applies), checks
    the usual exact types inline and calls nested models' readers directly. It must accept
    and refuse exactly what the detailed converter does and build an equal model
    (tests/test_convert_fast.py holds it to that).
    """
    fields = [a for a in attrs.fields(attrs.resolve_types(cls)) if a.name != "extra"]
    ns: dict[str, Any] = {**_GLOBALS, "_cls": cls, "_known": frozenset(a.name for a in fields)}
    lines = [
        "def read(value, _=None):",
        "    if type(value) is not dict and not isinstance(value, Mapping):",
        f"        raise TypeError(f'{cls.__name__} must be an object, got {{type(value).__name__}}')",
        "    get = value.get",
    ]
    for i, a in enumerate(fields):
        v, tp = f"v{i}", non_null(a.type) or a.type
        lines.append(f"    {v} = get({a.name!r})")
        if a.default is None:  # keep the None get() gave for "absent" and for null
            checked, turned = f"if {v} is not None and ", f"if {v} is not None: "
        else:
            if a.default is attrs.NOTHING:
                lines.append(f"    if {v} is None: raise KeyError({a.name!r})")
            else:
                factory = isinstance(a.default, attrs.Factory)  # type: ignore[arg-type]
                ns[f"_d{i}"] = a.default.factory if factory else a.default
                lines.append(f"    if {v} is None: {v} = _d{i}{'()' if factory else ''}")
            checked, turned = "elif ", "else: "
        if tp in _CHECKED:
            lines.append(f"    {checked}type({v}) is not {tp.__name__}: {v} = {_CHECKED[tp]}({v})")
        else:
            lines.append(f"    {turned}{v} = {_read_expr(tp, v, i, conv, ns)}")
    lines.append("    if _known.issuperset(value): extra = {}")  # the usual answer: nothing newer than this SDK
    if strict:
        unknown = "{sorted(value.keys() - _known)}"
        lines.append(f"    else: raise ValueError(f'{cls.__name__} has undeclared fields: {unknown}')")
    else:
        lines.append("    else: extra = {k: x for k, x in value.items() if k not in _known}")
    values = [(a, f"v{i}") for i, a in enumerate(fields)]
    if has_extra(cls):
        values.append((attrs.fields_dict(cls)["extra"], "extra"))
    fill = filler(cls)
    if fill is not None:
        # Its __init__ would only assign each slot: store them plainly on its filler (_frozen).
        ns["_fill"] = fill
        lines.append("    self = _fill()")
        lines += [f"    self.{a.name} = {v}" for a, v in values]
        lines += ["    self.__class__ = _cls", "    return self"]
    else:
        lines.append(f"    return _cls({', '.join(f'{a.alias}={v}' for a, v in values)})")
    exec(compile("\n".join(lines), f"<{cls.__name__} reader>", "exec"), ns)  # our own source, from the models' fields
    reader: Callable[..., Any] = ns["read"]
    return reader


def _read_expr(tp: Any, v: str, i: int, conv: cattrs.Converter, ns: dict[str, Any]) -> str:
    """The expression reading the (non-null) value ``v`` of a field of type ``tp``."""
    if tp in _TURNED:
        return _TURNED[tp].format(v=v)
    if is_status(tp):
        return f"STATUSES.get({v}, {v}) if type({v}) is str else parse_status({v})"
    ns[f"_h{i}"] = conv.get_structure_hook(tp)
    if is_model(tp):
        return f"_h{i}({v})"  # the nested model's own reader
    item = get_args(tp)[0] if is_var_tuple(tp) else None
    if is_model(item) or item in _CHECKED or item in _TURNED:
        ns[f"_i{i}"] = conv.get_structure_hook(item)
        return f"tuple(map(_i{i}, {v})) if type({v}) is list else _h{i}({v}, None)"
    ns[f"_t{i}"] = tp
    return f"_h{i}({v}, _t{i})"


def make_converter(*, strict: bool = False, detailed: bool = True) -> cattrs.Converter:
    """Build a converter; ``strict`` refuses fields the models do not declare.

    ``detailed=False`` is the fast reader the package uses: a wrong shape raises its
    first problem bare instead of cattrs' account of every field (``structure`` then
    re-reads with a detailed converter for the message).
    """
    conv = cattrs.Converter(detailed_validation=detailed)

    for tp, fn in (
        (datetime, parse_time),
        (Decimal, parse_decimal),
        (int, parse_int),
        (float, parse_float),
        (str, parse_str),
        (bool, parse_bool),
    ):
        conv.register_structure_hook(tp, fn)
    conv.register_structure_hook_func(is_status, parse_status)
    conv.register_structure_hook_func(is_mapping, parse_mapping)

    def _optional_status(tp: Any) -> bool:
        args = get_args(tp)
        return is_union(tp) and type(None) in args and M.TaskStatus in args

    conv.register_structure_hook_func(
        _optional_status, lambda v, _: None if v is None else parse_status(v)
    )

    def _tuple_hook(tp: Any) -> Callable[[Any, Any], Any]:
        item = get_args(tp)[0]
        handler = conv.get_structure_hook(item)

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"expected a list, got {type(value).__name__}")
            return tuple([handler(v, item) for v in value])

        return structure

    conv.register_structure_hook_factory(is_var_tuple, _tuple_hook)

    def _optional_hook(tp: Any) -> Callable[[Any, Any], Any]:
        # ``X | None``: find X's hook once, not on every value (cattrs' default re-dispatches).
        inner = next(a for a in get_args(tp) if a is not type(None))
        handler = conv.get_structure_hook(inner)
        return lambda value, _: None if value is None else handler(value, inner)

    conv.register_structure_hook_factory(is_plain_optional, _optional_hook)

    def _event_data_hook(_: Any) -> Callable[[Any, Any], Any]:
        task = conv.get_structure_hook(M.Task)  # found once, when a webhook event is first read

        def _event_data(value: Any, _: Any) -> M.Task | Mapping[str, Any] | None:
            if value is None:
                return None
            if isinstance(value, Mapping) and "id" in value and "status" in value:
                return task(value, M.Task)  # type: ignore[no-any-return]
            return parse_mapping(value)

        return _event_data

    event_data = M.Task | Mapping[str, Any] | None
    conv.register_structure_hook_factory(lambda tp: tp == event_data, _event_data_hook)

    conv.register_unstructure_hook(datetime, _unix_time)
    conv.register_unstructure_hook(Decimal, _unstructure_decimal)
    conv.register_unstructure_hook_func(
        lambda tp: isinstance(tp, type) and issubclass(tp, M.TaskStatus), lambda s: s.value
    )

    def _overrides(cls: type[Any]) -> dict[str, Any]:
        overrides: dict[str, Any] = {"extra": override(omit=True)} if has_extra(cls) else {}
        if cls is M.RealtimeSession:
            # Realtime sessions speak ISO-8601 (NOTES: Conventions), unlike tasks.
            iso = override(unstruct_hook=_iso_time)
            overrides.update({n: iso for n in ("expires_at", "created_at", "connected_at", "closed_at")})
        return overrides

    def _non_null_hooks(cls: type[Any]) -> dict[str, Any]:
        # The model hook below drops nulls before its fields are read, so an optional
        # field never sees None: it reads with its inner type's hook, one call fewer.
        hooks = {}
        for a in attrs.fields(attrs.resolve_types(cls)):
            inner = non_null(a.type)
            if inner is not None:
                hooks[a.name] = override(struct_hook=conv.get_structure_hook(inner))
        return hooks

    def structure_hook(cls: type[Any]) -> Callable[[Any, Any], Any]:
        keeps_extra = has_extra(cls)
        known = frozenset(a.name for a in attrs.fields(cls) if a.name != "extra")
        base = make_dict_structure_fn(cls, conv, **{**_non_null_hooks(cls), **_overrides(cls)})

        def structure(value: Any, _: Any) -> Any:
            if not isinstance(value, (dict, Mapping)):  # dict first: JSON's, and no ABC check
                raise TypeError(f"{cls.__name__} must be an object, got {type(value).__name__}")
            # ``null`` for a field means "not given": its default applies.
            given = {k: v for k, v in value.items() if v is not None}
            if value.keys() <= known:  # the usual answer: no field newer than this SDK
                return base(given, cls)
            unknown = {k: v for k, v in value.items() if k not in known}
            if strict:
                raise ValueError(f"{cls.__name__} has undeclared fields: {sorted(unknown)}")
            inst = base({k: v for k, v in given.items() if k in known}, cls)
            if keeps_extra:
                object.__setattr__(inst, "extra", unknown)  # frozen: set once, while new
            return inst

        return structure

    def unstructure_hook(cls: type[Any]) -> Callable[[Any], Any]:
        keeps_extra = has_extra(cls)
        base_un = make_dict_unstructure_fn(cls, conv, **_overrides(cls))
        # The wire form: fields without a value are left out, as BeatAPI leaves them out,
        # except those the contract always sends (as null).
        nulls: frozenset[str] = getattr(cls, "WIRE_NULLS", frozenset())

        def unstructure(inst: Any) -> Any:
            data = base_un(inst)
            for key in [k for k, v in data.items() if v is None and k not in nulls]:
                del data[key]
            if keeps_extra:
                data.update(inst.extra)
            return data

        return unstructure

    # Hooks are generated per model on first use (cattrs caches them): importing the
    # package stays cheap, and a program that never reads a webhook never builds its hook.
    conv.register_structure_hook_factory(
        is_model, structure_hook if detailed else lambda cls: _make_reader(cls, conv, strict)
    )
    conv.register_unstructure_hook_factory(is_model, unstructure_hook)
    return conv


converter = make_converter(detailed=False)
"""The package's converter (lenient, fast reading)."""

_detailed: cattrs.Converter | None = None
_hooks: dict[Any, Callable[[Any, Any], Any]] = {}  # the converter's hook per class, without its dispatch


def structure(data: Any, cls: type[T]) -> T:
    """Load JSON data into a model with the package's converter.

    A wrong shape is read again by a detailed twin, whose error names every bad field.
    """
    global _detailed
    try:
        hook = _hooks.get(cls)
        if hook is None:
            hook = _hooks[cls] = converter.get_structure_hook(cls)
        return hook(data, cls)  # type: ignore[no-any-return]
    except Exception:
        if _detailed is None:
            _detailed = make_converter()
        _detailed.structure(data, cls)  # raises the detailed account
        raise  # (only if the twin disagreed: the fast error then)


def unstructure(model: Any) -> Any:
    """Turn a model back into JSON-ready data."""
    return converter.unstructure(model)
