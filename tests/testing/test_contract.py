"""Every operation and documented status of the launch contract, answered with the contract's shapes.

Every raw call in this directory is checked against the contract (strictly: no
undeclared fields beyond the few newer ones the emulator sends on purpose);
this test also makes sure each (path, method, status) the contract documents is
produced at least once. Skipped when ../shared/beatapi/openapi.yaml is absent.
"""

from __future__ import annotations

import json

import aiohttp
import pytest

from beatapi_async.testing import FakeBeatAPI

from .._helpers import wav_bytes
from .._shared import missing_reason
from ._support import CONTRACT_PATH, Api, Contract, Receiver, eventually, load_contract

SESSION = {"max_duration_seconds": 15, "allowed_origins": ["https://app.example.com"]}


@pytest.fixture
def fresh_contract(contract: Contract | None) -> Contract:
    if contract is None:
        pytest.skip(missing_reason(CONTRACT_PATH))
    fresh = load_contract()
    assert fresh is not None
    return fresh


async def test_every_documented_status(fresh_contract: Contract, http: aiohttp.ClientSession) -> None:
    async with FakeBeatAPI(speed=1000, concurrency_limit=1, credit_balance=2000) as fake:
        api = Api(fake, http, fresh_contract)
        mv = "/v1/music-video/tasks"
        ec = "/v1/ecommerce-video/tasks"

        # Anonymous catalogue, and an edge 429 in front of it.
        await api.get("/v1/workflows", auth=False)
        fake.add_fault("GET", "/v1/workflows", status=429, retry_after=1)
        await api.get("/v1/workflows", auth=False)

        # 401 everywhere.
        for method, path in [
            ("POST", mv), ("POST", ec), ("POST", f"{mv}/task_x/shots/shot_x/edit"),
            ("POST", f"{mv}/task_x/shots/shot_x/media"), ("POST", f"{mv}/task_x/compose"),
            ("GET", "/v1/tasks/task_x"), ("GET", "/v1/usage"), ("POST", "/v1/files"),
            ("GET", "/v1/webhooks"), ("POST", "/v1/webhooks"), ("GET", "/v1/webhooks/wh_x"),
            ("PATCH", "/v1/webhooks/wh_x"), ("DELETE", "/v1/webhooks/wh_x"), ("POST", "/v1/realtime/sessions"),
            ("GET", "/v1/realtime/sessions/rts_x"), ("DELETE", "/v1/realtime/sessions/rts_x"),
        ]:  # fmt: skip
            assert (await api.call(method, path, auth=False, json={})).status == 401

        # Files: 201 for audio and an image, 400.
        audio = (await api.call("POST", "/v1/files", data=wav_bytes(10), headers={"Content-Type": "audio/wav"})).data
        image = (await api.call("POST", "/v1/files", data=b"\x89PNG....", headers={"Content-Type": "image/png"})).data
        await api.call("POST", "/v1/files", data=b"x", headers={"Content-Type": "application/pdf"})

        # Creates: 400, 201, 429 (the one slot is taken), 402.
        await api.post(mv, {"images": []})
        await api.post(ec, {"images": [image["url"]]})
        fake.speed = 100  # the manual task needs ~1.25 s; slow enough to see it processing
        manual = (
            await api.post(mv, {"images": [image["url"]], "audio_url": audio["url"], "compose_mode": "manual"})
        ).data
        await api.post(mv, {"images": [image["url"]], "audio_url": audio["url"]})
        await api.post(ec, {"images": [image["url"]], "duration": 10})

        # Poll: 200, 404, shot media before the shot is done (400).
        task = await api.wait_status(manual["id"], "processing")
        await api.get(f"/v1/tasks/{manual['id']}")
        await api.get("/v1/tasks/task_missing")
        shot_id = task["storyboard"]["shots"][0]["id"]
        await api.post(f"{mv}/{manual['id']}/shots/{shot_id}/media")
        await api.post(f"{mv}/{manual['id']}/compose", {"shot_ids": [shot_id]})  # 400: not ready yet
        fake.speed = 100_000
        await api.wait_status(manual["id"], "requires_action")

        fake.credit_balance = 0
        await api.post(mv, {"images": [image["url"]], "audio_url": audio["url"]})
        await api.post(ec, {"images": [image["url"]], "duration": 10})
        fake.credit_balance = 2000

        # Storyboard work: media 200/404, edit 202/400/404, compose 202/400/404.
        base = f"{mv}/{manual['id']}"
        await api.post(f"{base}/shots/{shot_id}/media")
        await api.post(f"{base}/shots/shot_missing/media")
        await api.post(f"{base}/shots/{shot_id}/edit", {"prompt": ""})
        await api.post(f"{base}/shots/shot_missing/edit", {"prompt": "x"})
        await api.post(f"{base}/shots/{shot_id}/edit", {"prompt": "Brighter"})
        await api.wait_status(manual["id"], "storyboard_ready")
        await api.post(f"{base}/compose", {"shot_ids": []})
        await api.post(f"{base}/compose", {"shot_ids": ["shot_missing"]})
        await api.post(f"{base}/compose", {"shot_ids": [shot_id]})
        await api.wait_status(manual["id"], "succeeded")
        await api.get(f"/v1/tasks/{manual['id']}")

        # Poll limit.
        fake.poll_limit_per_minute = 0
        await api.get(f"/v1/tasks/{manual['id']}")
        fake.poll_limit_per_minute = None

        # Usage.
        await api.get("/v1/usage")

        # Webhooks: create 201/400, list, get 200/404, patch 200/400, delete 200, and a delivery.
        async with Receiver() as receiver:
            hook = (await api.post("/v1/webhooks", {"url": receiver.url})).data
            await api.post("/v1/webhooks", {"url": "not a url"})
            await api.get("/v1/webhooks")
            await api.get(f"/v1/webhooks/{hook['id']}")
            await api.get("/v1/webhooks/wh_missing")
            await api.call("PATCH", f"/v1/webhooks/{hook['id']}", json={"description": "x"})
            await api.call("PATCH", f"/v1/webhooks/{hook['id']}", json={"status": "paused"})
            fake.script("fail", times=1)
            await api.post(ec, {"images": [image["url"]], "duration": 10})
            await eventually(lambda: receiver.received, message="a delivery")
            await api.call("DELETE", f"/v1/webhooks/{hook['id']}")
        fresh_contract.check_component("WebhookEvent", json.loads(receiver.received[0][1]))

        # Realtime: 201, 400, 409, 402, 503, 429 (edge), get 200/404, delete 200/404.
        key = {"Idempotency-Key": "contract-1"}
        session = (await api.post("/v1/realtime/sessions", SESSION, headers=key)).data
        await api.post("/v1/realtime/sessions", SESSION)
        await api.post("/v1/realtime/sessions", {**SESSION, "max_duration_seconds": 60}, headers=key)
        fake.credit_balance = 0
        await api.post("/v1/realtime/sessions", SESSION, headers={"Idempotency-Key": "contract-2"})
        fake.credit_balance = 2000
        fake.realtime_enabled = False
        await api.post("/v1/realtime/sessions", SESSION, headers={"Idempotency-Key": "contract-3"})
        fake.realtime_enabled = True
        fake.add_fault("POST", "/v1/realtime/sessions", status=429, retry_after=1)
        await api.post("/v1/realtime/sessions", SESSION, headers={"Idempotency-Key": "contract-4"})
        await api.get(f"/v1/realtime/sessions/{session['id']}")
        await api.get("/v1/realtime/sessions/rts_missing")
        await api.call("DELETE", f"/v1/realtime/sessions/{session['id']}")
        await api.call("DELETE", "/v1/realtime/sessions/rts_missing")

    missing = fresh_contract.declared() - fresh_contract.seen
    assert not missing, f"never produced: {sorted(missing)}"


async def test_launch_shape_without_the_poll_hint(fresh_contract: Contract, http: aiohttp.ClientSession) -> None:
    """With ``poll_hint=False`` tasks carry exactly the launch contract's fields (no extras at all)."""
    strict = load_contract()
    assert strict is not None
    task_props = strict.spec["components"]["schemas"]["Task"]["properties"]
    task_props.pop("poll_after_seconds")
    async with FakeBeatAPI(speed=1000, poll_hint=False) as fake:
        api = Api(fake, http, strict)
        created = (
            await api.post("/v1/ecommerce-video/tasks", {"images": ["https://e.example.com/a.png"], "duration": 10})
        ).data
        await api.get(f"/v1/tasks/{created['id']}")
