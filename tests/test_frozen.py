"""Frozen attrs instances built through their filler: the same objects ``cls(...)`` builds."""

from __future__ import annotations

import pickle
import weakref
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from beatapi_async import Request, Response, Task, _frozen
from beatapi_async._protocol import new_request, new_response


@attrs.frozen
class Plain:
    a: int
    b: str | None = None
    c: tuple[int, ...] = ()


@attrs.frozen
class Checked:
    a: int = attrs.field(validator=attrs.validators.instance_of(int))


@attrs.frozen
class Converted:
    a: int = attrs.field(converter=int)


@attrs.frozen
class Hooked:
    a: int

    def __attrs_post_init__(self) -> None:
        object.__setattr__(self, "a", self.a * 2)


@attrs.define
class Mutable:
    a: int


@given(a=st.integers(), b=st.none() | st.text(), c=st.lists(st.integers()).map(tuple))
def test_a_built_instance_is_the_one_init_builds(a: int, b: str | None, c: tuple[int, ...]) -> None:
    built = _frozen.builder(Plain)(a, b, c)
    expected = Plain(a=a, b=b, c=c)
    assert type(built) is Plain
    assert built == expected and hash(built) == hash(expected) and repr(built) == repr(expected)
    assert pickle.loads(pickle.dumps(built)) == expected
    assert attrs.asdict(built) == attrs.asdict(expected)


def test_a_built_instance_stays_frozen_and_weak_referenceable() -> None:
    built = _frozen.builder(Plain)(1, "x", ())
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built.a = 2  # type: ignore[misc]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        del built.b
    ref = weakref.ref(built)
    assert ref() is built


@pytest.mark.parametrize("cls", [Checked, Converted, Hooked])
def test_classes_whose_init_does_more_have_no_filler_and_build_through_init(cls: type[Any]) -> None:
    assert _frozen.filler(cls) is None
    assert _frozen.builder(cls)(3) == cls(3)
    if cls is Hooked:
        assert _frozen.builder(cls)(3).a == 6  # the hook ran


def test_a_mutable_class_builds_the_same_instance() -> None:
    built = _frozen.builder(Mutable)(3)
    assert type(built) is Mutable and built == Mutable(3)
    built.a = 4
    assert built.a == 4


def test_a_validator_still_refuses_through_the_builder() -> None:
    with pytest.raises(TypeError):
        _frozen.builder(Checked)("3")


def test_non_attrs_classes_have_no_filler() -> None:
    class NotAttrs:
        __slots__ = ("a",)

    assert _frozen.filler(NotAttrs) is None


def test_the_filler_is_made_once_per_class() -> None:
    assert _frozen.filler(Plain) is _frozen.filler(Plain) is not None


def test_a_switch_the_interpreter_refuses_falls_back_to_init(monkeypatch: pytest.MonkeyPatch) -> None:
    @attrs.frozen
    class Refused:
        a: int

    real_type = type

    def refusing_type(*args: Any) -> Any:
        made = real_type(*args)
        if len(args) == 3:  # the filler: make its instances refuse to change class

            def no_switch(self: Any, name: str, value: Any) -> None:
                raise TypeError("__class__ assignment refused")

            made.__setattr__ = no_switch
        return made

    monkeypatch.setattr(_frozen, "type", refusing_type, raising=False)
    assert _frozen.filler(Refused) is None
    assert _frozen.builder(Refused)(5) == Refused(5)


def test_the_transport_values_and_the_models_built_fast_are_the_real_classes() -> None:
    request = new_request("GET", "http://127.0.0.1/v1/tasks/t", "/v1/tasks/t", {"Accept": "x"}, None, None)
    assert type(request) is Request
    assert request == Request(
        method="GET", url="http://127.0.0.1/v1/tasks/t", path="/v1/tasks/t", headers={"Accept": "x"}
    )
    response = new_response(200, {}, b"{}")
    assert type(response) is Response and response == Response(status=200, headers={}, body=b"{}")
    task = Task.from_dict({"id": "task_1", "status": "queued"})
    assert type(task) is Task and task == Task(id="task_1", status="queued")
