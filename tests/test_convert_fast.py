"""The fast reader (one generated function per model) agrees with cattrs' detailed hook.

The package reads answers with ``converter`` (``detailed=False``: generated readers) and
re-reads a failure with the detailed converter only to explain it. So the two must agree on
every input: both refuse it, or both build the same model, down to each value's type.
"""

from __future__ import annotations

import copy
import math
import pickle
import typing
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from beatapi_async import _models as M
from beatapi_async._convert import _MODELS, _make_reader, converter, make_converter

detailed = make_converter()
fast_strict = make_converter(strict=True, detailed=False)
strict = make_converter(strict=True)

# Values of the wrong kind, or of the right kind at an edge, for any field.
ODD = st.sampled_from([
    None, True, False, 0, 1, -1, 18.0, 1.5, -0.0, float("nan"), float("inf"), 10**30, "", "x", "12", "-3", " 7 ",
    "1.50", "NaN", "Infinity", "1e3", "2026-07-31T15:30:00Z", "2026-07-31T15:30:00.1234567+02:00", "2026-07-31",
    "queued", "succeeded", [], ["a"], [1], {}, {"id": "x"}, {"url": "u"}, {"id": "t", "status": "queued"},
])  # fmt: skip
UNKNOWN = st.dictionaries(st.sampled_from(["model", "x_new", "extra", "currency"]), ODD | st.integers(), max_size=2)
ISO = st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1)).flatmap(
    lambda d: st.sampled_from([d.isoformat(), d.isoformat() + "Z", d.isoformat() + "+05:30", d.isoformat(" ")])
)


def valid(tp: Any, depth: int) -> st.SearchStrategy[Any]:
    """JSON the detailed converter accepts for a field of type ``tp``, in each of its spellings."""
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if M.TaskStatus in args:
        return st.sampled_from([s.value for s in M.TaskStatus]) | st.text(max_size=6)
    if M.Task in args:  # a webhook event's data: a task, or any object
        return payload(M.Task, depth) | st.dictionaries(st.text(max_size=3), ODD, max_size=2)
    if typing.get_origin(tp) is tuple:
        return st.lists(valid(args[0], depth), max_size=2) | st.lists(valid(args[0], depth), max_size=1).map(tuple)
    if len(args) == 1:
        return valid(args[0], depth)
    if attrs.has(tp):
        return payload(tp, depth)
    stamp = st.integers(-(10**10), 10**11)
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: st.text(max_size=6),
        int: st.integers() | st.integers(-(10**6), 10**6).map(float),
        float: st.floats() | st.integers(),
        bool: st.booleans(),
        datetime: stamp | stamp.map(str) | st.floats(-(10**10), 10**10) | ISO,
        Decimal: st.integers()
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.decimals(allow_nan=False, allow_infinity=False).map(str),
    }
    return simple[tp]


def payload(cls: type[Any], depth: int = 3) -> st.SearchStrategy[Any]:
    """A body for ``cls``: valid, or with one mistake (wrong value, missing field, unknown fields)."""
    if depth <= 0:
        return st.just(_minimal(cls))
    hints = typing.get_type_hints(cls)
    names = [a.name for a in attrs.fields(cls) if a.name != "extra"]
    required = {a.name: valid(hints[a.name], depth - 1) for a in _required(cls)}
    optional = {n: st.none() | valid(hints[n], depth - 1) for n in names if n not in required}
    body = st.fixed_dictionaries(required, optional=optional)
    mistake = st.one_of(
        st.tuples(st.sampled_from(names), ODD).map(lambda kv: lambda b: {**b, kv[0]: kv[1]}),
        st.sampled_from(names).map(lambda k: lambda b: {n: v for n, v in b.items() if n != k}),
        UNKNOWN.map(lambda extra: lambda b: {**b, **extra}),
    )
    return body | body | st.tuples(body, mistake).map(lambda t: t[1](t[0]))


def _required(cls: type[Any]) -> list[Any]:
    return [a for a in attrs.fields(attrs.resolve_types(cls)) if a.default is attrs.NOTHING]


def _minimal(tp: Any) -> Any:
    """The smallest valid value of a required field."""
    if attrs.has(tp):
        return {a.name: _minimal(a.type) for a in _required(tp)}
    return {str: "x", bool: True, int: 1}.get(tp, "queued")  # else a status


def outcome(conv: Any, data: Any, cls: type[Any]) -> Any:
    try:
        return conv.structure(data, cls)
    except Exception as exc:  # either converter may raise any kind: only failing counts
        return exc


def assert_same(a: Any, b: Any) -> None:
    """Equal, and of the same type all the way down (``TaskStatus.QUEUED == "queued"``, ``18 == 18.0``)."""
    assert type(a) is type(b), (a, b)
    if attrs.has(type(a)):  # field by field, not ==: a float field may hold nan (as both read it)
        for f in attrs.fields(type(a)):
            assert_same(getattr(a, f.name), getattr(b, f.name))
    elif isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b, strict=True):
            assert_same(x, y)
    elif isinstance(a, Mapping):
        assert list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, float) and math.isnan(a):
        assert math.isnan(b)
    else:
        assert repr(a) == repr(b)  # Decimal("1.50") is not Decimal("1.5"); a time's zone counts


AGREE = settings(max_examples=60, deadline=None, database=None, suppress_health_check=list(HealthCheck))


@AGREE
@given(data=st.data())
@pytest.mark.parametrize("cls", sorted(_MODELS, key=lambda c: c.__name__), ids=lambda c: c.__name__)
def test_fast_and_detailed_agree(cls: type[Any], data: st.DataObject) -> None:
    body = data.draw(payload(cls) | ODD, label="body")
    fast, slow = outcome(converter, body, cls), outcome(detailed, body, cls)
    assert isinstance(fast, Exception) == isinstance(slow, Exception), (fast, slow)
    if not isinstance(fast, Exception):
        assert_same(fast, slow)
        assert repr(_unstructured(fast)) == repr(_unstructured(slow))
    # The strict readers agree too: the fast one refuses exactly what the detailed one does.
    strict_fast, strict_slow = outcome(fast_strict, body, cls), outcome(strict, body, cls)
    assert isinstance(strict_fast, Exception) == isinstance(strict_slow, Exception), (strict_fast, strict_slow)
    if not isinstance(strict_fast, Exception):
        assert_same(strict_fast, strict_slow)


def _unstructured(model: Any) -> Any:
    try:
        return converter.unstructure(model)
    except Exception as exc:  # a time past what the platform writes: fail alike
        return type(exc)


TASK = {
    "id": "task_1", "object": "task", "workflow": "music-video", "status": "succeeded", "stage": "succeeded",
    "created_at": 1795643979, "updated_at": "1795644074", "completed_at": "2026-11-25T21:59:39.250Z",
    "storyboard": {"shots": [{"id": "shot_1", "index": 0, "status": "succeeded", "media": {"url": "https://m/s.mp4"}}]},
    "output": {"media": [{"type": "video", "url": "https://m/t.mp4", "mime_type": "video/mp4"}], "r2_url": "u"},
    "usage": {"credits_reserved": 225, "credits_charged": "224.5", "credits_refunded": 0.5},
    "request_id": "req_1", "error_code": None, "error_message": None, "poll_after_seconds": 5, "retryable": False,
}  # fmt: skip
EVENT = {"id": "evt_1", "event": "task.succeeded", "created_at": 1795644074, "data": TASK}


@pytest.mark.parametrize(("cls", "body"), [(M.Task, TASK), (M.WebhookEvent, EVENT)])
def test_fast_models_are_ordinary_models(cls: type[Any], body: dict[str, Any]) -> None:
    # The reader sets a frozen model's slots without its __init__: what it builds must
    # behave like what __init__ builds (equality, hash, pickling, copies, evolve, to_dict).
    fast, slow = converter.structure({**body, "x_new": 1}, cls), detailed.structure({**body, "x_new": 1}, cls)
    assert fast == slow and hash(fast) == hash(slow) and repr(fast) == repr(slow)
    assert pickle.loads(pickle.dumps(fast)) == fast == copy.deepcopy(fast) == copy.copy(fast)
    assert attrs.evolve(fast) == fast and fast.to_dict() == slow.to_dict() and fast.to_dict()["x_new"] == 1
    plain = converter.structure(body, cls)
    assert isinstance(plain.extra, Mapping) and plain.extra == {}
    assert plain.extra is not converter.structure(body, cls).extra  # each model its own, as attrs' factory gives


@attrs.frozen(kw_only=True)
class Checked:
    """A model whose __init__ does more than assign: its reader must call it."""

    name: str = attrs.field(validator=attrs.validators.min_len(1))
    size: int = 0
    extra: Mapping[str, Any] = attrs.field(factory=dict)


def test_reader_calls_init_when_the_model_has_hooks() -> None:
    read = _make_reader(Checked, converter, strict=False)
    assert read({"name": "a", "size": 2.0, "x": None}) == Checked(name="a", size=2, extra={"x": None})
    assert read({"name": "a", "size": None}) == Checked(name="a")
    with pytest.raises(ValueError, match="name"):
        read({"name": ""})
    with pytest.raises(ValueError, match="undeclared"):
        _make_reader(Checked, converter, strict=True)({"name": "a", "x": 1})


def test_fast_strict_refuses_nested_unknown_fields() -> None:
    assert fast_strict.structure(TASK, M.Task) == converter.structure(TASK, M.Task)
    with pytest.raises(ValueError, match="currency"):
        fast_strict.structure({**TASK, "usage": {"credits_charged": 1, "currency": "usd"}}, M.Task)


class Body(Mapping[str, Any]):
    """A read-only mapping that is not a dict: JSON decoders may hand one over."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __iter__(self) -> Any:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def test_any_mapping_reads_like_a_dict() -> None:
    body = {**TASK, "x_new": None, "usage": Body({"credits_charged": 3, "currency": "usd"})}
    read = converter.structure(Body(body), M.Task)
    as_dicts = {**body, "usage": dict(body["usage"])}
    assert read == detailed.structure(Body(body), M.Task) == converter.structure(as_dicts, M.Task)
    assert read.extra == {"x_new": None} and read.usage is not None and read.usage.extra == {"currency": "usd"}
