"""``client.ecommerce_video`` over real loopback HTTP."""

from __future__ import annotations

import pytest

from beatapi_async import AsyncBeatAPI, EcommerceVideoRequest, RequestValidationError, Task

from .._helpers import IMG
from .._loopback import LoopbackBeatAPI


async def test_create_with_fields(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    task = await live.ecommerce_video.create(images=[IMG], duration=15, prompt="Fast ad.", aspect_ratio="9:16")
    assert isinstance(task, Task) and task.workflow == "ecommerce-video" and task.status == "queued"
    (seen,) = server.seen("POST", "/v1/ecommerce-video/tasks")
    assert seen.json == {"images": [IMG], "duration": 15, "prompt": "Fast ad.", "aspect_ratio": "9:16"}
    assert seen.headers["Idempotency-Key"]


async def test_create_with_request_object(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    request = EcommerceVideoRequest(images=[IMG, IMG], duration=60, language="zh")
    await live.ecommerce_video.create(request)
    assert server.requests[-1].json == {"images": [IMG, IMG], "duration": 60, "language": "zh"}


async def test_create_with_mapping(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    await live.ecommerce_video.create({"images": [IMG], "duration": 10})
    assert server.requests[-1].json == {"images": [IMG], "duration": 10}


async def test_bad_input_sends_nothing(live: AsyncBeatAPI, server: LoopbackBeatAPI) -> None:
    with pytest.raises(RequestValidationError, match="duration"):
        await live.ecommerce_video.create(images=[IMG])
    with pytest.raises(RequestValidationError, match="resolution"):
        await live.ecommerce_video.create(images=[IMG], duration=15, resolution="720p")
    with pytest.raises(RequestValidationError, match="duration"):
        await live.ecommerce_video.create(EcommerceVideoRequest(images=[IMG], duration=15), duration=20)
    assert server.requests == []
