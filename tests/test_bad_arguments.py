"""Bad arguments of public calls are ``RequestValidationError`` (field + rule), never a raw error."""

from __future__ import annotations

import math
from typing import Any

import pytest

from beatapi_async import AsyncBeatAPI, PollPolicy, RequestValidationError, Timeouts

from ._memory import MemoryTransport


@pytest.fixture
async def client() -> Any:
    transport = MemoryTransport()
    async with AsyncBeatAPI("sk_test_args", base_url="http://127.0.0.1:9", transport=transport) as c:
        yield c
    assert transport.requests == [], "nothing may be sent for bad arguments"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": -math.inf}, "timeout"),
        ({"timeout": -1}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"until": "done"}, "until"),
        ({"on_update": 5}, "on_update"),
    ],
)
async def test_wait_for_task_arguments(client: AsyncBeatAPI, kwargs: dict[str, Any], field: str) -> None:
    with pytest.raises(RequestValidationError) as info:
        await client.wait_for_task("task_1", **kwargs)
    assert info.value.field == field and info.value.rule


@pytest.mark.parametrize("requests", [None, 5, object()])
async def test_run_many_needs_a_list(client: AsyncBeatAPI, requests: Any) -> None:
    with pytest.raises(RequestValidationError) as info:
        await client.run_many(requests)
    assert info.value.field == "requests"
    with pytest.raises(RequestValidationError):
        async for _ in client.as_completed(requests):
            pass


async def test_notify_needs_an_event(client: AsyncBeatAPI) -> None:
    with pytest.raises(RequestValidationError) as info:
        await client.notify(None)  # type: ignore[arg-type]
    assert info.value.field == "event"


@pytest.mark.parametrize("value", [math.nan, -1.0, 0, "1"])
async def test_per_call_timeout(client: AsyncBeatAPI, value: Any) -> None:
    with pytest.raises(RequestValidationError) as info:
        await client.tasks.get("task_1", timeout=value)
    assert info.value.field.startswith("timeout")


@pytest.mark.parametrize(
    "make",
    [
        lambda: Timeouts(total=math.nan),
        lambda: Timeouts(connect=math.nan),
        lambda: PollPolicy(interval=math.nan),
        lambda: PollPolicy(jitter=-1),
        lambda: PollPolicy(jitter=math.nan),
        lambda: PollPolicy(jitter="x"),
        lambda: AsyncBeatAPI("sk_test_x", timeout=math.nan),
        lambda: AsyncBeatAPI("sk_test_x", base_url=5),
    ],
)
def test_configuration_values(make: Any) -> None:
    with pytest.raises(RequestValidationError) as info:
        make()
    assert info.value.field and info.value.rule
