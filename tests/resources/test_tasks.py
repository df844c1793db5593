"""``client.tasks`` and id encoding over real loopback HTTP."""

from __future__ import annotations

import pytest

from beatapi_async import AsyncBeatAPI, NotFoundError, RequestValidationError, Task, TaskStatus

from .._loopback import LoopbackBeatAPI, error


async def test_get(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    task = await live.tasks.get("task_8K2qA")
    assert isinstance(task, Task)
    assert task.id == "task_8K2qA" and task.status is TaskStatus.PROCESSING
    (seen,) = server.seen("GET")
    assert seen.raw_path == "/v1/tasks/task_8K2qA"
    assert seen.headers["Authorization"].startswith("Bearer sk_test_loopback")


@pytest.mark.parametrize(
    ("task_id", "raw"),
    [("task_a/b", "task_a%2Fb"), ("task ?#", "task%20%3F%23"), ("task_é", "task_%C3%A9"), ("../usage", "..%2Fusage")],
)
async def test_ids_are_percent_encoded(live: AsyncBeatAPI, server: LoopbackBeatAPI, task_id: str, raw: str) -> None:
    task = await live.tasks.get(task_id)
    assert server.requests[-1].raw_path == f"/v1/tasks/{raw}"
    assert task.id == task_id  # the server decoded it back


async def test_not_found(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    server.script("GET", "/v1/tasks/task_gone", error(404, "not_found", "Task not found."))
    with pytest.raises(NotFoundError, match="Task not found") as info:
        await live.tasks.get("task_gone")
    assert info.value.request_id == "req_err"
    assert len(server.requests) == 1


async def test_empty_id(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    with pytest.raises(RequestValidationError, match="task_id"):
        await live.tasks.get("")
    assert server.requests == []


async def test_retried_after_503(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    server.script("GET", "/v1/tasks/task_1", error(503, "processing_unavailable"))
    assert (await live.tasks.get("task_1")).id == "task_1"
    assert len(server.requests) == 2
