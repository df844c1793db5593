"""The one cattrs converter: JSON-ready data <-> the models of ``_models``.

Reading is lenient where BeatAPI may grow (unknown fields go to ``extra``, an unknown
status stays a plain string) and strict where a wrong type would mislead (a string
is not a list, ``true`` is not a number). ``make_converter(strict=True)`` refuses
unknown fields: the contract tests use it to catch our own drift.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, Union, get_args, get_origin

import attrs
import cattrs
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from . import _models as M

T = TypeVar("T")

_ISO_FRACTION = re.compile(r"(\.\d+)")
_UTC = timezone.utc


def _parse_time(value: Any, _: Any = None) -> datetime:
    if type(value) is int:  # the usual form first (a bool's type is bool)
        return datetime.fromtimestamp(value, _UTC)
    if isinstance(value, bool):
        raise TypeError("a time must be unix seconds or an ISO-8601 string")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, _UTC)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return datetime.fromtimestamp(int(text), tz=timezone.utc)
        text = text.replace("Z", "+00:00").replace("z", "+00:00")
        # Python 3.10 reads only 3 or 6 fraction digits: pad or cut to 6.
        text = _ISO_FRACTION.sub(lambda m: "." + (m.group(1)[1:] + "000000")[:6], text, count=1)
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.astimezone(timezone.utc)
    raise TypeError(f"a time must be unix seconds or an ISO-8601 string, not {type(value).__name__}")


def _parse_decimal(value: Any, _: Any = None) -> Decimal:
    if type(value) is int:  # whole credits, the usual amount (a bool's type is bool)
        return Decimal(value)
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError("an amount must be a number")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("an amount must be finite")
    try:
        # str() first so that 1.5 loads as Decimal("1.5"), not its binary expansion.
        amount = Decimal(str(value) if isinstance(value, float) else value)
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError("an amount must be finite")
    return amount


def _parse_int(value: Any, _: Any = None) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise TypeError("expected a whole number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f"expected a whole number, got {value!r}")


def _parse_float(value: Any, _: Any = None) -> float:
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _parse_str(value: Any, _: Any = None) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def _parse_bool(value: Any, _: Any = None) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


_STATUSES: dict[str, M.TaskStatus] = {s.value: s for s in M.TaskStatus}


def _parse_status(value: Any, _: Any = None) -> M.TaskStatus | str:
    if type(value) is str:
        return _STATUSES.get(value, value)
    if not isinstance(value, str):
        raise TypeError(f"a status must be a string, got {type(value).__name__}")
    return _STATUSES.get(value, value)  # a status newer than this SDK: kept as it came


def _parse_mapping(value: Any, _: Any = None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return dict(value)


def _is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def _is_status(tp: Any) -> bool:
    return _is_union(tp) and M.TaskStatus in get_args(tp) and str in get_args(tp)


def _is_mapping(tp: Any) -> bool:
    return bool(tp is Mapping or get_origin(tp) is Mapping)


def _is_plain_optional(tp: Any) -> bool:
    args = get_args(tp)
    return _is_union(tp) and len(args) == 2 and type(None) in args and M.TaskStatus not in args


def _non_null(tp: Any) -> Any:
    """``X`` for a type ``X | None`` (``TaskStatus | str`` for an optional status); else None."""
    if not _is_union(tp) or type(None) not in get_args(tp):
        return None
    rest = tuple(a for a in get_args(tp) if a is not type(None))
    if len(rest) == 1:
        return rest[0]
    return M.TaskStatus | str if set(rest) == {M.TaskStatus, str} else None


def _is_var_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


_MODELS = frozenset({
    M.Workflow, M.Media, M.StoryboardShot, M.Storyboard, M.TaskOutput, M.TaskUsage, M.Task, M.ShotMedia,
    M.File, M.UsageConcurrency, M.WorkflowUsage, M.RealtimeUsage, M.Usage, M.WebhookEndpoint,
    M.WebhookEvent, M.RealtimeCredits, M.RealtimeSession, M.Deleted,
})  # fmt: skip


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and tp in _MODELS


def _has_extra(cls: type[Any]) -> bool:
    return any(a.name == "extra" for a in attrs.fields(cls))


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
_CHECKED: dict[Any, str] = {str: "_parse_str", int: "_parse_int", float: "_parse_float", bool: "_parse_bool"}
_TURNED: dict[Any, str] = {
    datetime: "_fromtimestamp({v}, _UTC) if type({v}) is int else _parse_time({v})",
    Decimal: "_Decimal({v}) if type({v}) is int else _parse_decimal({v})",
}
_GLOBALS: dict[str, Any] = {
    "Mapping": Mapping, "_new": object.__new__, "_UTC": _UTC, "_fromtimestamp": datetime.fromtimestamp,
    "_Decimal": Decimal,
    "_STATUSES": _STATUSES, "_parse_status": _parse_status, "_parse_time": _parse_time,
    "_parse_decimal": _parse_decimal, "_parse_int": _parse_int, "_parse_float": _parse_float,
    "_parse_str": _parse_str, "_parse_bool": _parse_bool,
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
        v, tp = f"v{i}", _non_null(a.type) or a.type
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
    if _has_extra(cls):
        values.append((attrs.fields_dict(cls)["extra"], "extra"))
    if _assigns_only(cls):
        # Its __init__ would only assign each slot: assign them without the call (half the cost).
        lines.append("    self = _new(_cls)")
        for a, v in values:
            ns[f"_set_{a.name}"] = getattr(cls, a.name).__set__
            lines.append(f"    _set_{a.name}(self, {v})")
        lines.append("    return self")
    else:
        lines.append(f"    return _cls({', '.join(f'{a.alias}={v}' for a, v in values)})")
    exec(compile("\n".join(lines), f"<{cls.__name__} reader>", "exec"), ns)  # our own source, from the models' fields
    reader: Callable[..., Any] = ns["read"]
    return reader


_SLOT = types.MemberDescriptorType


def _assigns_only(cls: type[Any]) -> bool:
    """True if ``cls.__init__`` does nothing but set each field's slot (no hook of any kind)."""
    if any(hasattr(cls, hook) for hook in ("__attrs_pre_init__", "__attrs_post_init__", "_attrs_cached_hash")):
        return False
    return all(
        a.init and a.validator is None and a.converter is None and type(getattr(cls, a.name, None)) is _SLOT
        for a in attrs.fields(cls)
    )


def _read_expr(tp: Any, v: str, i: int, conv: cattrs.Converter, ns: dict[str, Any]) -> str:
    """The expression reading the (non-null) value ``v`` of a field of type ``tp``."""
    if tp in _TURNED:
        return _TURNED[tp].format(v=v)
    if _is_status(tp):
        return f"_STATUSES.get({v}, {v}) if type({v}) is str else _parse_status({v})"
    ns[f"_h{i}"] = conv.get_structure_hook(tp)
    if _is_model(tp):
        return f"_h{i}({v})"  # the nested model's own reader
    item = get_args(tp)[0] if _is_var_tuple(tp) else None
    if _is_model(item) or item in _CHECKED or item in _TURNED:
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
        (datetime, _parse_time),
        (Decimal, _parse_decimal),
        (int, _parse_int),
        (float, _parse_float),
        (str, _parse_str),
        (bool, _parse_bool),
    ):
        conv.register_structure_hook(tp, fn)
    conv.register_structure_hook_func(_is_status, _parse_status)
    conv.register_structure_hook_func(_is_mapping, _parse_mapping)

    def _optional_status(tp: Any) -> bool:
        args = get_args(tp)
        return _is_union(tp) and type(None) in args and M.TaskStatus in args

    conv.register_structure_hook_func(
        _optional_status, lambda v, _: None if v is None else _parse_status(v)
    )

    def _tuple_hook(tp: Any) -> Callable[[Any, Any], Any]:
        item = get_args(tp)[0]
        handler = conv.get_structure_hook(item)

        def structure(value: Any, _: Any) -> tuple[Any, ...]:
            if not isinstance(value, (list, tuple)):
                raise TypeError(f"expected a list, got {type(value).__name__}")
            return tuple([handler(v, item) for v in value])

        return structure

    conv.register_structure_hook_factory(_is_var_tuple, _tuple_hook)

    def _optional_hook(tp: Any) -> Callable[[Any, Any], Any]:
        # ``X | None``: find X's hook once, not on every value (cattrs' default re-dispatches).
        inner = next(a for a in get_args(tp) if a is not type(None))
        handler = conv.get_structure_hook(inner)
        return lambda value, _: None if value is None else handler(value, inner)

    conv.register_structure_hook_factory(_is_plain_optional, _optional_hook)

    def _event_data_hook(_: Any) -> Callable[[Any, Any], Any]:
        task = conv.get_structure_hook(M.Task)  # found once, when a webhook event is first read

        def _event_data(value: Any, _: Any) -> M.Task | Mapping[str, Any] | None:
            if value is None:
                return None
            if isinstance(value, Mapping) and "id" in value and "status" in value:
                return task(value, M.Task)  # type: ignore[no-any-return]
            return _parse_mapping(value)

        return _event_data

    event_data = M.Task | Mapping[str, Any] | None
    conv.register_structure_hook_factory(lambda tp: tp == event_data, _event_data_hook)

    conv.register_unstructure_hook(datetime, _unix_time)
    conv.register_unstructure_hook(Decimal, _unstructure_decimal)
    conv.register_unstructure_hook_func(
        lambda tp: isinstance(tp, type) and issubclass(tp, M.TaskStatus), lambda s: s.value
    )

    def _overrides(cls: type[Any]) -> dict[str, Any]:
        overrides: dict[str, Any] = {"extra": override(omit=True)} if _has_extra(cls) else {}
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
            inner = _non_null(a.type)
            if inner is not None:
                hooks[a.name] = override(struct_hook=conv.get_structure_hook(inner))
        return hooks

    def structure_hook(cls: type[Any]) -> Callable[[Any, Any], Any]:
        has_extra = _has_extra(cls)
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
            if has_extra:
                object.__setattr__(inst, "extra", unknown)  # frozen: set once, while new
            return inst

        return structure

    def unstructure_hook(cls: type[Any]) -> Callable[[Any], Any]:
        has_extra = _has_extra(cls)
        base_un = make_dict_unstructure_fn(cls, conv, **_overrides(cls))
        # The wire form: fields without a value are left out, as BeatAPI leaves them out,
        # except those the contract always sends (as null).
        nulls: frozenset[str] = getattr(cls, "WIRE_NULLS", frozenset())

        def unstructure(inst: Any) -> Any:
            data = base_un(inst)
            for key in [k for k, v in data.items() if v is None and k not in nulls]:
                del data[key]
            if has_extra:
                data.update(inst.extra)
            return data

        return unstructure

    # Hooks are generated per model on first use (cattrs caches them): importing the
    # package stays cheap, and a program that never reads a webhook never builds its hook.
    conv.register_structure_hook_factory(
        _is_model, structure_hook if detailed else lambda cls: _make_reader(cls, conv, strict)
    )
    conv.register_unstructure_hook_factory(_is_model, unstructure_hook)
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
