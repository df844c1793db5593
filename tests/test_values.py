"""Values made from whole numbers once and shared (times and amounts a polled task repeats)."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from beatapi_async import Task
from beatapi_async._values import INT_DECIMALS, INT_TIMES, Interned, parse_decimal, parse_time

# Unix seconds datetime can hold in UTC on every platform (year 1 to 9999 would overflow some).
SECONDS = st.integers(min_value=-(2**31), max_value=253402300799)


@given(SECONDS)
def test_an_interned_time_is_the_time_fromtimestamp_makes(seconds: int) -> None:
    made = INT_TIMES[seconds]
    expected = datetime.fromtimestamp(seconds, timezone.utc)
    assert made == expected and made.tzinfo is timezone.utc and repr(made) == repr(expected)
    assert parse_time(seconds) is made


@given(st.integers(min_value=-(10**30), max_value=10**30))
def test_an_interned_amount_is_the_decimal_of_the_number(n: int) -> None:
    made = INT_DECIMALS[n]
    assert made == Decimal(n) and str(made) == str(Decimal(n)) and type(made) is Decimal
    assert parse_decimal(n) is made


def test_a_value_read_again_is_the_same_object() -> None:
    body = {"id": "task_1", "status": "succeeded", "created_at": 1795643979, "usage": {"credits_charged": 225}}
    first, second = Task.from_dict(body), Task.from_dict(body)
    assert first == second
    assert first.created_at is second.created_at
    assert first.usage is not None and second.usage is not None
    assert first.usage.credits_charged is second.usage.credits_charged


def test_it_keeps_at_most_its_limit_and_starts_over_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[int] = []

    def make(n: int) -> Decimal:
        made.append(n)
        return Decimal(n)

    box = Interned(make)
    monkeypatch.setattr(box, "LIMIT", 3)
    for n in range(10):
        assert box[n] == n
        assert len(box) <= 3
    assert box[9] == 9 and made.count(9) == 1  # still kept after the last start-over
    assert box[0] == 0 and made.count(0) == 2  # dropped at a start-over: made again


def test_a_value_it_cannot_make_raises_and_keeps_nothing() -> None:
    box = Interned(lambda seconds: datetime.fromtimestamp(seconds, timezone.utc))
    with pytest.raises((OverflowError, ValueError, OSError)):
        box[10**20]
    assert 10**20 not in box


def test_a_time_out_of_range_in_a_task_is_a_wrong_shape() -> None:
    from beatapi_async import InvalidResponseError

    with pytest.raises(InvalidResponseError, match="Task has the wrong shape"):
        Task.from_dict({"id": "task_1", "status": "queued", "created_at": 10**20})
