"""``FakeBeatAPI``: the public face of the emulator (lifecycle, knobs, introspection)."""

from __future__ import annotations

import fnmatch
import secrets
from collections.abc import Callable, Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any

from aiohttp import web

from .._validate import trust_origin
from ._app import make_app
from ._deliveries import Endpoint
from ._faults import Fault
from ._files import StoredFile
from ._http import ApiError, new_id
from ._realtime import SessionState
from ._records import Delivery, Durations, LedgerEntry, Outcome, OutcomeKind, RecordedRequest, Script
from ._state import Emulator
from ._tasks import TaskState

_POLL_PATH = "/v1/tasks/*"


class FakeBeatAPI:
    """A BeatAPI that runs offline: a real aiohttp server on 127.0.0.1 with the contract's behaviour.

    Example::

        async with FakeBeatAPI(speed=1000) as fake:
            async with AsyncBeatAPI(api_key=fake.api_key, base_url=fake.base_url) as client:
                ...
            assert fake.peak_running <= fake.concurrency_limit

    ``speed`` scales BeatAPI time (task steps, the poll window, webhook retries,
    realtime expiry): at 1000 a two-minute render takes 0.12 real seconds. The
    ``poll_after_seconds`` hint on running tasks and every ``Retry-After`` are
    given in *real* seconds (BeatAPI seconds divided by ``speed``; Retry-After
    rounded up to a whole second, at least 1), so a client that honours them
    keeps the emulator's pace.

    Args:
        api_key: The key clients must send; ``sk_test_...`` generated when None.
        concurrency_limit: Running tasks allowed (``usage.concurrency.limit``).
        credit_balance: Starting credits.
        speed: BeatAPI seconds per real second.
        poll_limit_per_minute: ``GET /v1/tasks/{id}`` allowed per 60 BeatAPI seconds (None: no limit).
        other_active: Slots held by "other processes": counted in ``concurrency.active`` and the limit.
        poll_hint: Send ``poll_after_seconds`` on running tasks (False: the launch contract's shape).
        host: Interface to listen on.
        port: Port to listen on (0: a free one).
        durations: Step lengths in BeatAPI seconds (``Durations`` or a mapping of its fields).
        webhook_retry_schedule: BeatAPI seconds before each delivery retry.
        concurrency_retry_after: BeatAPI seconds to suggest on 429 ``user_concurrency_exceeded``
            (marks it ``retryable`` like newer deployments); None: the launch answer, no hint.
        max_recorded_requests: How many of the newest requests ``requests`` keeps, so memory stays
            bounded (None: all, for a benchmark that counts every poll from the records).
    """

    def __init__(
        self,
        *,
        api_key: str | None = None,
        concurrency_limit: int = 2,
        credit_balance: int | float | Decimal = 10_000,
        speed: float = 1.0,
        poll_limit_per_minute: int | None = 120,
        other_active: int = 0,
        poll_hint: bool = True,
        host: str = "127.0.0.1",
        port: int = 0,
        durations: Durations | Mapping[str, float] | None = None,
        webhook_retry_schedule: tuple[float, ...] = (60, 300, 900),
        concurrency_retry_after: int | None = None,
        max_recorded_requests: int | None = 100_000,
    ) -> None:
        self._emu = Emulator(
            api_key=api_key or "sk_test_" + secrets.token_urlsafe(24),
            concurrency_limit=concurrency_limit,
            credit_balance=_decimal(credit_balance),
            speed=speed,
            poll_limit_per_minute=poll_limit_per_minute,
            other_active=other_active,
            poll_hint=poll_hint,
            durations=Durations.coerce(durations),
            webhook_retry_schedule=tuple(webhook_retry_schedule),
            concurrency_retry_after=concurrency_retry_after,
            max_recorded_requests=max_recorded_requests,
        )
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    def __repr__(self) -> str:
        where = self._emu.base_url or "not started"
        return f"<FakeBeatAPI {where} speed={self.speed:g}>"

    # -- lifecycle -------------------------------------------------------------------
    async def start(self) -> FakeBeatAPI:
        """Start serving; return self."""
        if self._runner is not None:
            raise RuntimeError("FakeBeatAPI is already running")
        # A short shutdown timeout: close() must not wait on a stalled fault.
        runner = web.AppRunner(make_app(self._emu), access_log=None, shutdown_timeout=0.25)
        await runner.setup()
        try:
            site = web.TCPSite(runner, self._host, self._port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        host, port = runner.addresses[0][:2]
        shown = f"[{host}]" if ":" in host else host
        self._emu.base_url = f"http://{shown}:{port}"
        # Uploads come back on this origin: request models built in this process accept
        # them as inputs even before a client for it exists.
        trust_origin(self._emu.base_url)
        await self._emu.dispatcher.start()
        return self

    async def close(self) -> None:
        """Stop serving and stop webhook deliveries (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is None:
            return
        await self._emu.dispatcher.close()
        await runner.cleanup()

    async def __aenter__(self) -> FakeBeatAPI:
        return await self.start()

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (only once started)."""
        if not self._emu.base_url:
            raise RuntimeError("FakeBeatAPI is not started; use `async with` or await start()")
        return self._emu.base_url

    @property
    def api_key(self) -> str:
        """The key clients must send as ``Authorization: Bearer``."""
        return self._emu.api_key

    # -- knobs -----------------------------------------------------------------------
    @property
    def speed(self) -> float:
        """BeatAPI seconds per real second (settable; BeatAPI time stays continuous)."""
        return self._emu.clock.speed

    @speed.setter
    def speed(self, value: float) -> None:
        self._emu.advance()
        self._emu.clock.speed = value
        self._emu.dispatcher.poke()

    @property
    def concurrency_limit(self) -> int:
        """Running tasks allowed at once."""
        return self._emu.concurrency_limit

    @concurrency_limit.setter
    def concurrency_limit(self, value: int) -> None:
        self._emu.concurrency_limit = value

    @property
    def other_active(self) -> int:
        """Slots held by other processes (count toward ``active`` and the limit)."""
        return self._emu.other_active

    @other_active.setter
    def other_active(self, value: int) -> None:
        self._emu.other_active = value

    @property
    def credit_balance(self) -> Decimal:
        """The account's credits now."""
        return self._emu.account.balance

    @credit_balance.setter
    def credit_balance(self, value: int | float | Decimal) -> None:
        self._emu.account.balance = _decimal(value)

    @property
    def poll_limit_per_minute(self) -> int | None:
        """Polls allowed per 60 BeatAPI seconds (None: unlimited)."""
        return self._emu.poll_limit.limit

    @poll_limit_per_minute.setter
    def poll_limit_per_minute(self, value: int | None) -> None:
        self._emu.poll_limit.limit = value

    @property
    def poll_hint(self) -> bool:
        """Whether running tasks carry ``poll_after_seconds``."""
        return self._emu.poll_hint

    @poll_hint.setter
    def poll_hint(self, value: bool) -> None:
        self._emu.poll_hint = value

    @property
    def realtime_enabled(self) -> bool:
        """False makes session creates answer 503 ``realtime_disabled``."""
        return self._emu.sessions.enabled

    @realtime_enabled.setter
    def realtime_enabled(self, value: bool) -> None:
        self._emu.sessions.enabled = value

    @property
    def durations(self) -> Durations:
        """Step lengths in BeatAPI seconds (for tasks created from now on)."""
        return self._emu.durations

    # -- scripting -------------------------------------------------------------------
    def script(
        self,
        outcome: OutcomeKind = "succeed",
        *,
        error_code: str = "processing_failed",
        error_message: str | None = None,
        match: Callable[[dict[str, Any]], bool] | None = None,
        times: int | None = None,
    ) -> None:
        """Decide how tasks created from now on end.

        ``match(body)`` picks the creates it applies to (by request body);
        ``times`` limits how many tasks it takes (None: all). The newest
        matching script wins. An outcome covers each step of the task: for a
        manual Music Video, "fail" fails the storyboard; use ``set_outcome``
        once it waits for the user (``requires_action``) to fail an edit or the compose instead.
        """
        self._emu.scripts.append(
            Script(
                outcome=Outcome(kind=outcome, error_code=error_code, error_message=error_message),
                match=match,
                times=times,
            )
        )

    def set_outcome(
        self,
        task_id: str,
        outcome: OutcomeKind,
        *,
        error_code: str = "processing_failed",
        error_message: str | None = None,
    ) -> None:
        """Decide how an existing task's next steps end; a hanging task resumes at once."""
        self._emu.advance()
        task = self._task(task_id)
        self._emu.engine.set_outcome(task, Outcome(kind=outcome, error_code=error_code, error_message=error_message))
        self._emu.dispatcher.poke()

    def seed_task(self, workflow: str = "ecommerce-video", **fields: Any) -> dict[str, Any]:
        """Create a task in-process, exactly as ``POST /v1/<workflow>/tasks`` with ``fields`` would.

        The same validation, pricing, limits and scripts apply; no request is
        recorded. Returns the task as the create answer shows it. Handy to set up
        state (or thousands of tasks) without HTTP.

        Raises:
            ValueError: BeatAPI would refuse the create (the message has status and code).
        """
        if workflow not in ("music-video", "ecommerce-video"):
            raise ValueError(f"workflow must be 'music-video' or 'ecommerce-video', not {workflow!r}")
        self._emu.advance()
        try:
            _, data = self._emu.create_task(workflow, f"/v1/{workflow}/tasks", {}, dict(fields), new_id("req_"))
        except ApiError as error:
            raise ValueError(f"{error.status} {error.code}: {error.message}") from None
        return dict(data)

    def activate_session(self, session_id: str) -> None:
        """Play a browser's first billing heartbeat: the realtime session goes ``active`` and settles."""
        self._emu.advance()
        self._emu.sessions.activate(self._emu.sessions.get(session_id))

    # -- faults ----------------------------------------------------------------------
    def add_fault(
        self,
        method: str,
        path: str,
        *,
        status: int | None = None,
        code: str | None = None,
        message: str | None = None,
        retryable: bool | None = None,
        retry_after: int | None = None,
        body: bytes | str | None = None,
        content_type: str | None = None,
        reset: bool = False,
        stall: float = 0.0,
        after: bool = False,
        times: int | None = 1,
    ) -> Fault:
        """Make requests matching ``method`` ("*": any) and ``path`` (a glob) misbehave ``times`` times.

        ``status``/``code``: answer that error in the envelope (``retryable`` and
        ``retry_after`` in real seconds added when given); ``body``: answer these
        raw bytes (status 200 unless given); ``reset``: drop the connection;
        ``stall``: sleep that many real seconds first; ``after``: run the real
        handler first so its side effect happens, then spoil the answer.

        aiohttp's client re-sends an idempotent request (GET, PUT, DELETE) once
        when the connection drops, so a reset an aiohttp caller sees on those
        takes ``times=2``.
        """
        return self._emu.faults.add(
            method=method,
            path=path,
            status=status,
            code=code,
            message=message,
            retryable=retryable,
            retry_after=retry_after,
            body=body,
            content_type=content_type,
            reset=reset,
            stall=stall,
            after=after,
            times=times,
        )

    @property
    def faults(self) -> list[Fault]:
        """Faults that have not fired all their times yet."""
        return list(self._emu.faults.active)

    def clear_faults(self) -> None:
        """Remove every fault."""
        self._emu.faults.clear()

    # -- introspection ---------------------------------------------------------------
    def now(self) -> float:
        """BeatAPI time: unix seconds on the scaled clock."""
        return self._emu.clock.now()

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests received, oldest first: the newest ``max_recorded_requests`` of them.

        Bodies over 64 KiB are kept only in part (``RecordedRequest.truncated``).
        """
        return list(self._emu.requests)

    @property
    def request_count(self) -> int:
        """How many requests were received since start (or ``reset``), recorded or not."""
        return self._emu.request_count

    def requests_to(self, method: str, path_glob: str) -> list[RecordedRequest]:
        """Requests with ``method`` ("*": any) whose raw path matches ``path_glob``."""
        return [
            r
            for r in self._emu.requests
            if (method == "*" or r.method == method.upper()) and fnmatch.fnmatchcase(r.path, path_glob)
        ]

    @property
    def tasks(self) -> dict[str, TaskState]:
        """Every task by id, brought up to date."""
        self._emu.advance()
        return self._emu.engine.tasks

    def task_json(self, task_id: str) -> dict[str, Any]:
        """The task as ``GET /v1/tasks/{id}`` would show it now."""
        self._emu.advance()
        task = self._task(task_id)
        return self._emu.render_task(task, task.request_id)

    @property
    def running_count(self) -> int:
        """This key's tasks in running states now."""
        self._emu.advance()
        return self._emu.engine.running

    @property
    def peak_running(self) -> int:
        """The most of this key's tasks ever running at one instant (BeatAPI time, exact)."""
        self._emu.advance()
        return self._emu.engine.peak_running

    @property
    def concurrency_rejections(self) -> int:
        """429 ``user_concurrency_exceeded`` answers given."""
        return self._emu.concurrency_rejections

    @property
    def rate_limited_count(self) -> int:
        """429 ``rate_limit_exceeded`` answers given."""
        return self._emu.rate_limited_count

    def max_polls_in_window(self, window_seconds: float) -> int:
        """The most ``GET /v1/tasks/*`` requests seen in any real-time window of ``window_seconds``."""
        times = [r.time for r in self.requests_to("GET", _POLL_PATH)]
        best = start = 0
        for end, t in enumerate(times):
            while t - times[start] >= window_seconds:
                start += 1
            best = max(best, end - start + 1)
        return best

    @property
    def ledger(self) -> list[LedgerEntry]:
        """Every credit movement, in order."""
        self._emu.advance()
        return self._emu.account.ledger

    @property
    def deliveries(self) -> list[Delivery]:
        """Every webhook delivery attempt, in order."""
        return self._emu.dispatcher.log

    @property
    def webhook_endpoints(self) -> dict[str, Endpoint]:
        """Registered webhook endpoints by id (``.secret`` holds the whole secret)."""
        return self._emu.webhooks.endpoints

    @property
    def files(self) -> dict[str, StoredFile]:
        """Uploaded files by id."""
        return self._emu.files

    @property
    def sessions(self) -> dict[str, SessionState]:
        """Realtime sessions by id, brought up to date."""
        self._emu.advance()
        return self._emu.sessions.sessions

    def reset(self) -> None:
        """Forget requests, tasks, files, webhooks, sessions, faults, scripts, ledger and counters.

        Configuration stays (key, limits, speed, durations); the credit balance
        goes back to the constructor's value.
        """
        self._emu.reset()

    def _task(self, task_id: str) -> TaskState:
        task = self._emu.engine.tasks.get(task_id)
        if task is None:
            raise KeyError(f"no task {task_id!r}")
        return task


def _decimal(value: int | float | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))
