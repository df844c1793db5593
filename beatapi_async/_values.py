"""Plain JSON values read into the models' fields, and the field types the converter tells apart.

Each ``parse_*`` takes what JSON gave for one field (never ``None``: a null means "not
given") and returns the field's value or raises; the converter registers them as its
hooks, and the generated readers call them for anything but the usual exact type.
"""

from __future__ import annotations

import math
import re
import types
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Union, get_args, get_origin

import attrs

from . import _models as M

_ISO_FRACTION = re.compile(r"(\.\d+)")
UTC = timezone.utc


class Interned(dict[int, Any]):
    """Immutable values made from whole numbers, each made once and then shared.

    A task read again (every poll of ``wait_for_task``) carries the same unix times and
    the same credit amounts: reading them again is a dictionary hit, not a new
    ``datetime`` or ``Decimal`` (about a quarter of a task's read). At most ``LIMIT``
    values are kept; when full, it starts over.
    """

    LIMIT = 4096

    def __init__(self, make: Callable[[int], Any]) -> None:
        super().__init__()
        self.make = make

    def __missing__(self, key: int) -> Any:
        value = self.make(key)  # (a value it cannot make raises, and nothing is kept)
        if len(self) >= self.LIMIT:
            self.clear()
        self[key] = value
        return value


#: ``INT_TIMES[seconds]``: the UTC time of whole unix seconds; ``INT_DECIMALS[n]``: ``Decimal(n)``.
INT_TIMES = Interned(lambda seconds: datetime.fromtimestamp(seconds, UTC))
INT_DECIMALS = Interned(Decimal)


def parse_time(value: Any, _: Any = None) -> datetime:
    if type(value) is int:  # the usual form first (a bool's type is bool)
        return INT_TIMES[value]  # type: ignore[no-any-return]
    if isinstance(value, bool):
        raise TypeError("a time must be unix seconds or an ISO-8601 string")
    if isinstance(value, (int, float)):
        return datetime.fromtimestamp(value, UTC)
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


def parse_decimal(value: Any, _: Any = None) -> Decimal:
    if type(value) is int:  # whole credits, the usual amount (a bool's type is bool)
        return INT_DECIMALS[value]  # type: ignore[no-any-return]
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


def parse_int(value: Any, _: Any = None) -> int:
    if type(value) is int:
        return value
    if isinstance(value, bool):
        raise TypeError("expected a whole number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise TypeError(f"expected a whole number, got {value!r}")


def parse_float(value: Any, _: Any = None) -> float:
    if type(value) is float:
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def parse_str(value: Any, _: Any = None) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, got {type(value).__name__}")
    return value


def parse_bool(value: Any, _: Any = None) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"expected true or false, got {type(value).__name__}")
    return value


STATUSES: dict[str, M.TaskStatus] = {s.value: s for s in M.TaskStatus}


def parse_status(value: Any, _: Any = None) -> M.TaskStatus | str:
    if type(value) is str:
        return STATUSES.get(value, value)
    if not isinstance(value, str):
        raise TypeError(f"a status must be a string, got {type(value).__name__}")
    return STATUSES.get(value, value)  # a status newer than this SDK: kept as it came


def parse_mapping(value: Any, _: Any = None) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise TypeError(f"expected an object, got {type(value).__name__}")
    return dict(value)


def is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def is_status(tp: Any) -> bool:
    return is_union(tp) and M.TaskStatus in get_args(tp) and str in get_args(tp)


def is_mapping(tp: Any) -> bool:
    return bool(tp is Mapping or get_origin(tp) is Mapping)


def is_plain_optional(tp: Any) -> bool:
    args = get_args(tp)
    return is_union(tp) and len(args) == 2 and type(None) in args and M.TaskStatus not in args


def non_null(tp: Any) -> Any:
    """``X`` for a type ``X | None`` (``TaskStatus | str`` for an optional status); else None."""
    if not is_union(tp) or type(None) not in get_args(tp):
        return None
    rest = tuple(a for a in get_args(tp) if a is not type(None))
    if len(rest) == 1:
        return rest[0]
    return M.TaskStatus | str if set(rest) == {M.TaskStatus, str} else None


def is_var_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


MODELS = frozenset({
    M.Workflow, M.Media, M.StoryboardShot, M.Storyboard, M.TaskOutput, M.TaskUsage, M.Task, M.ShotMedia,
    M.File, M.UsageConcurrency, M.WorkflowUsage, M.RealtimeUsage, M.Usage, M.WebhookEndpoint,
    M.WebhookEvent, M.RealtimeCredits, M.RealtimeSession, M.Deleted,
})  # fmt: skip


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and tp in MODELS


def has_extra(cls: type[Any]) -> bool:
    return any(a.name == "extra" for a in attrs.fields(cls))
