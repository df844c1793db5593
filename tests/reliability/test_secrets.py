"""No key or secret in any log record, error message or repr, with DEBUG logging everywhere.

One run that goes wrong in many ways: 401s with wrong keys (of BeatAPI's shape and
not), 5xx answers and retries, a dropped connection and a timeout, uploads, answers
of the wrong shape that quote secrets, realtime sessions (whose ``client_secret`` is
for a browser only), webhook endpoints (whose signing secret is shown once), signed
deliveries to a real receiver whose handler fails with the secret in its exception,
and forged deliveries it refuses. Every record of every logger is captured at DEBUG.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from beatapi_async import (
    AsyncBeatAPI,
    AuthenticationError,
    BeatAPIError,
    Timeouts,
    WebhookVerificationError,
    webhooks,
)
from beatapi_async.testing import FakeBeatAPI

from ._support import PNG, QUICK, Sleeps, ec, make_client, until

WRONG_KEYS = ("sk_live_not_the_key_0123456789", "plain-key-of-another-shape-0123456789")
QUOTED = ("whsec_quoted_in_a_bad_answer_42", "brt_live_quoted_in_a_bad_answer_42")


class _Everything(logging.Handler):
    """Formats every record as an application's handler would, traceback included."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def everything(caplog: pytest.LogCaptureFixture) -> Any:
    caplog.set_level(logging.DEBUG)
    handler = _Everything()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


async def _receiver(state: dict[str, Any]) -> tuple[web.AppRunner, str]:
    async def hook(request: web.Request) -> web.StreamResponse:
        return await state["handler"](request)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/hook"


async def test_no_secret_in_logs_errors_or_reprs(
    everything: _Everything, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []
    shown: list[Any] = []  # models whose repr a user might print
    secrets: list[str] = [*WRONG_KEYS, *QUOTED]

    async def expect_error(coro: Any) -> None:
        try:
            shown.append(await coro)
        except BeatAPIError as exc:
            errors.append(exc)

    fake_options = {"speed": 1000, "durations": QUICK, "webhook_retry_schedule": (1, 1, 1)}
    async with FakeBeatAPI(**fake_options) as fake:
        secrets.append(fake.api_key)
        state: dict[str, Any] = {}
        runner, hook_url = await _receiver(state)
        try:
            async with make_client(fake, Sleeps()) as client:
                # Failures and retries on ordinary calls.
                fake.add_fault("GET", "/v1/usage", status=503, times=2)
                shown.append(await client.usage.get())
                fake.add_fault("GET", "/v1/workflows", status=500)
                await expect_error(client.workflows.list())
                fake.add_fault("POST", "/v1/files", status=502, body="<html>bad gateway</html>")
                shown.append(await client.files.upload(PNG, filename="p.png"))
                fake.add_fault("GET", "/v1/usage", reset=True, times=10)
                await expect_error(client.usage.get())
                fake.add_fault("GET", "/v1/usage", stall=0.2, times=4)
                await expect_error(client.usage.get(timeout=Timeouts(read=0.03)))
                fake.clear_faults()

                # Realtime sessions: the client secret only in the create answer.
                fake.add_fault("POST", "/v1/realtime/sessions", status=503, after=True)
                session = await client.realtime.create_session(
                    max_duration_seconds=60, allowed_origins=["https://app.example.com"]
                )
                assert session.client_secret
                secrets.append(session.client_secret)
                shown += [session, await client.realtime.get_session(session.id)]
                shown.append(await client.realtime.close_session(session.id))

                # Answers of the wrong shape that quote secrets.
                fake.add_fault("GET", "/v1/webhooks", body=json.dumps({"data": {"id": 5, "secret": QUOTED[0]}}))
                await expect_error(client.webhooks.list())
                fake.add_fault(
                    "GET", "/v1/realtime/sessions/*",
                    body=json.dumps({"data": {"id": "rts_1", "status": 3, "client_secret": QUOTED[1]}}),
                )  # fmt: skip
                await expect_error(client.realtime.get_session(session.id))
                # ... and a well-shaped one that carries a secret in a field this SDK does not know.
                fake.add_fault(
                    "GET", "/v1/realtime/sessions/*",
                    body=json.dumps({"data": {"id": "rts_1", "status": "ready", "previous_client_secret": QUOTED[1]}}),
                )  # fmt: skip
                shown.append(await client.realtime.get_session(session.id))

                # A webhook endpoint whose handler fails, with the secret in its exception.
                endpoint = await client.webhooks.create(url=hook_url, events=["task.succeeded", "task.failed"])
                assert endpoint.secret
                secrets.append(endpoint.secret)
                shown += [endpoint, *(await client.webhooks.list())]
                failures: list[str] = []

                async def on_event(event: Any) -> None:
                    if not failures:
                        failures.append(event.id)
                        raise RuntimeError(f"could not store {event.id} with {endpoint.secret} and {fake.api_key}")
                    shown.append(event)

                state["handler"] = webhooks.aiohttp_handler(endpoint.secret, on_event=on_event, client=client)
                shown.append(await client.run(ec(1)))
                await until(lambda: any(d.ok for d in fake.deliveries))
                assert any(d.status == 500 for d in fake.deliveries)

                # Forged deliveries are refused (and logged).
                body = b'{"id": "evt_x", "event": "task.succeeded", "data": {"id": "task_x", "status": "succeeded"}}'
                forged = webhooks.sign(body, "whsec_not_the_secret_0123456789")
                async with aiohttp.ClientSession() as http, http.post(hook_url, data=body, headers=forged) as answer:
                    assert answer.status == 400
                try:
                    webhooks.verify(body, forged, endpoint.secret)
                except WebhookVerificationError as exc:
                    errors.append(exc)

            # Wrong keys: BeatAPI's shape, and another.
            for key in WRONG_KEYS:
                async with AsyncBeatAPI(key, base_url=fake.base_url, retry_sleep=Sleeps()) as stranger:
                    await expect_error(stranger.usage.get())
                    await expect_error(stranger.ecommerce_video.create(ec(2)))
        finally:
            await runner.cleanup()

    assert sum(isinstance(e, AuthenticationError) for e in errors) == 4
    assert len(errors) >= 10
    texts = [t for e in errors for t in (str(e), repr(e))] + [repr(m) for m in shown]
    for record in caplog.records:
        texts += [record.getMessage(), record.exc_text or "", record.stack_info or ""]
    texts += everything.lines
    assert len(everything.lines) > 20 and any("Traceback" in line for line in everything.lines)
    for secret in secrets:
        leaks = [t for t in texts if secret in t]
        assert not leaks, f"{secret[:6]}... shows in: {leaks[0][:300]}"
