"""The emulated BeatAPI account behind the HTTP layer: what each operation does.

Each operation takes a parsed request, applies the contract's rules and
returns ``(status, data)`` for the success envelope, or raises ``ApiError``.
The HTTP layer (``_app``) only routes, authenticates and renders.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from .. import _pricing as P
from .. import _rules as R
from .. import _validate as V
from .._exceptions import RequestValidationError
from ._account import Account, SlidingWindowLimit, retry_after_real
from ._clock import Clock, Timeline
from ._deliveries import Dispatcher, Webhooks
from ._faults import Faults
from ._files import StoredFile, make_file, resolve_inputs
from ._http import ApiError, bad_request, number
from ._idempotency import IdempotencyKeys, Remembered
from ._realtime import RealtimeSessions
from ._records import Durations, Outcome, RecordedRequest, Script
from ._tasks import TaskEngine, TaskState
from ._views import task_json

Result = tuple[int, Any]

PERIOD_SECONDS = {"24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400}


def validated(check: Callable[..., None], *args: Any, **kwargs: Any) -> None:
    """Run a ``_validate`` rule; a broken rule becomes 400 ``bad_request`` naming the field."""
    try:
        check(*args, **kwargs)
    except RequestValidationError as exc:
        raise bad_request(f"{exc.field}: {exc.rule}", field=exc.field, rule=exc.rule) from None


class Emulator:
    """All state of one emulated account and its operations."""

    def __init__(
        self,
        *,
        api_key: str,
        concurrency_limit: int,
        credit_balance: Decimal,
        speed: float,
        poll_limit_per_minute: int | None,
        other_active: int,
        poll_hint: bool,
        durations: Durations,
        webhook_retry_schedule: tuple[float, ...],
        concurrency_retry_after: int | None,
        max_recorded_requests: int | None = 100_000,
    ) -> None:
        self.api_key = api_key
        self.concurrency_limit = concurrency_limit
        self.other_active = other_active
        self.poll_hint = poll_hint
        self.durations = durations
        self.concurrency_retry_after = concurrency_retry_after
        self.initial_balance = credit_balance
        self.base_url = ""
        self.clock = Clock(speed)
        self.timeline = Timeline()
        self.account = Account(credit_balance)
        self.engine = TaskEngine(self.clock, self.timeline, self.account, durations)
        self.engine.on_terminal = self._on_terminal
        self.sessions = RealtimeSessions(self.clock, self.timeline, self.account, durations)
        self.webhooks = Webhooks()
        self.dispatcher = Dispatcher(self.clock, self.webhooks, webhook_retry_schedule, self._tick)
        self.timeline.on_new_earliest = self._earliest_changed
        self.poll_limit = SlidingWindowLimit(poll_limit_per_minute)
        self.idempotency = IdempotencyKeys()
        self.faults = Faults()
        self.files: dict[str, StoredFile] = {}
        self.scripts: list[Script] = []
        # The newest records only: a long-running emulator must not grow without bound.
        self.requests: deque[RecordedRequest] = deque(maxlen=max_recorded_requests)
        self.request_count = 0
        self.concurrency_rejections = 0
        self.rate_limited_count = 0

    def record(self, request: RecordedRequest) -> None:
        """Keep ``request`` among the newest records."""
        self.requests.append(request)
        self.request_count += 1

    # -- time ------------------------------------------------------------------------
    def advance(self) -> None:
        """Apply every transition due by now, in time order."""
        self.timeline.advance(self.clock.now())

    def _earliest_changed(self) -> None:
        # The delivery loop only sleeps until the next transition while some
        # endpoint could receive its event; otherwise there is nothing to wake.
        if self.webhooks.endpoints:
            self.dispatcher.poke()

    def _tick(self) -> float | None:
        self.advance()
        return self.timeline.next_due()

    def _on_terminal(self, event: str, task: TaskState, at: float) -> None:
        if not self.webhooks.subscribed(event):
            return  # nobody listens: spare rendering the task
        data = task_json(
            task, base_url=self.base_url, request_id=task.request_id, now=at, speed=self.clock.speed, poll_hint=False
        )
        self.dispatcher.emit(event, task.id, data, at)

    def render_task(self, task: TaskState, request_id: str) -> dict[str, Any]:
        """Return ``task`` as the API shows it now."""
        return task_json(
            task,
            base_url=self.base_url,
            request_id=request_id,
            now=self.clock.now(),
            speed=self.clock.speed,
            poll_hint=self.poll_hint,
        )

    # -- tasks -----------------------------------------------------------------------
    def _replay_task(
        self, path: str, headers: Mapping[str, str], body: dict[str, Any], request_id: str
    ) -> tuple[str | None, Result | None]:
        """The Idempotency-Key of a billable task POST, and the earlier answer if it is a repeat."""
        key = IdempotencyKeys.key_of(headers, required=False)
        seen = self.idempotency.lookup(key, f"POST {path}", body)
        if seen is None:
            return key, None
        return key, (seen.status, self.render_task(self.engine.get(seen.object_id), request_id))

    def create_task(
        self, workflow: str, path: str, headers: Mapping[str, str], body: dict[str, Any], request_id: str
    ) -> Result:
        """Create a Music Video or Ecommerce Video task (201), or replay an idempotent one."""
        key, replay = self._replay_task(path, headers, body, request_id)
        if replay is not None:
            return replay
        if workflow == "music-video":
            validated(V.check_music_video, body, trusted_origins=(self.base_url,))
            billable, price = self._price_music_video(body)
        else:
            validated(V.check_ecommerce_video, body, trusted_origins=(self.base_url,))
            resolve_inputs(self.files, self.base_url, body, {"images": R.IMAGE_MIME_TYPES})
            billable = int(body["duration"])
            price = P.EC_RATE * billable
        self._admit(price)
        task = self.engine.create(
            workflow=workflow,
            body=body,
            request_id=request_id,
            billable_seconds=billable,
            price=price,
            outcome=self._scripted(body),
        )
        self.idempotency.remember(key, f"POST {path}", body, Remembered(201, task.id))
        return 201, self.render_task(task, request_id)

    def _price_music_video(self, body: dict[str, Any]) -> tuple[int, Decimal]:
        files = resolve_inputs(
            self.files,
            self.base_url,
            body,
            {
                "images": R.IMAGE_MIME_TYPES,
                "audio_url": R.AUDIO_MIME_TYPES,
                "lip_ref_url": R.IMAGE_MIME_TYPES,
                "srt_url": frozenset({"application/x-subrip"}),
            },
        )
        audio = files.get("audio_url")
        # A measured audio length wins over the ``duration`` fallback (contract: duration).
        if audio is not None and audio.audio_duration is not None:
            seconds = audio.audio_duration
        elif body.get("duration") is not None:
            seconds = float(body["duration"])
        else:
            seconds = self.durations.default_audio
        billable = P.billable_seconds(seconds)
        rate = P.music_video_rate(body.get("quality"), body.get("resolution"), body.get("lip_sync") is True)
        return billable, rate * billable

    def _admit(self, price: Decimal) -> None:
        retry = self.concurrency_retry_after
        try:
            self.engine.check_capacity(
                self.other_active,
                self.concurrency_limit,
                None if retry is None else retry_after_real(retry, self.clock.speed),
            )
        except ApiError:
            self.concurrency_rejections += 1
            raise
        self.engine.check_funds(price)

    def _scripted(self, body: dict[str, Any]) -> Outcome:
        for script in reversed(self.scripts):  # the newest script wins
            if script.take(body):
                return script.outcome
        return Outcome()

    def edit_shot(
        self, task_id: str, shot_id: str, path: str, headers: Mapping[str, str], body: dict[str, Any], request_id: str
    ) -> Result:
        """Start a shot edit (202)."""
        key, replay = self._replay_task(path, headers, body, request_id)
        if replay is not None:
            return replay
        task = self.engine.get(task_id)
        shot = task.shot(shot_id)
        validated(V.check_shot_edit, body)
        self.engine.require_editable(task, "edit a shot")
        duration = int(body.get("duration") or P.SHOT_EDIT_DEFAULT_SECONDS)
        quality = str(body.get("quality") or task.quality)
        resolution = str(body.get("resolution") or task.resolution)
        try:
            rate = P.music_video_rate(quality, resolution, task.lip_sync)
        except KeyError:
            raise bad_request(f"quality {quality!r} is not available at {resolution}.", field="quality") from None
        price = rate * duration
        self._admit(price)
        self.engine.edit_shot(task, shot, prompt=str(body["prompt"]), duration=duration, price=price)
        self.idempotency.remember(key, f"POST {path}", body, Remembered(202, task.id))
        return 202, self.render_task(task, request_id)

    def compose(
        self, task_id: str, path: str, headers: Mapping[str, str], body: dict[str, Any], request_id: str
    ) -> Result:
        """Start composing the chosen shots (202)."""
        key, replay = self._replay_task(path, headers, body, request_id)
        if replay is not None:
            return replay
        task = self.engine.get(task_id)
        validated(V.check_compose, body)
        self.engine.require_editable(task, "compose")
        for i, shot_id in enumerate(body["shot_ids"]):
            shot = task.shot(shot_id)
            if shot.status != "succeeded":
                raise bad_request(
                    f"shot_ids[{i}]: shot {shot_id} has no video to compose (status {shot.status!r}).",
                    field=f"shot_ids[{i}]",
                    rule="status",
                )
        self._admit(P.COMPOSE_PRICE)
        self.engine.compose(task)
        self.idempotency.remember(key, f"POST {path}", body, Remembered(202, task.id))
        return 202, self.render_task(task, request_id)

    def shot_media(self, task_id: str, shot_id: str, request_id: str) -> Result:
        """Materialize a storyboard shot's video and return its URL (200)."""
        task = self.engine.get(task_id)
        shot = task.shot(shot_id)
        if shot.status != "succeeded":
            raise bad_request(f"Shot {shot_id} has no video yet (status {shot.status!r}).", field="shot_id")
        if shot.media_path is None:
            shot.media_path = f"/outputs/{task.id}/shots/{shot.id}.mp4"
        return 200, {
            "object": "shot_media",
            "task_id": task.id,
            "shot_id": shot.id,
            "index": shot.index,
            "status": shot.status,
            "media": {"type": "video", "url": self.base_url + shot.media_path, "mime_type": "video/mp4"},
            "created_at": int(shot.created_at),
            "updated_at": int(shot.updated_at),
            "request_id": request_id,
        }

    def get_task(self, task_id: str, request_id: str) -> Result:
        """Poll a task (200), within the per-key poll limit."""
        wait = self.poll_limit.hit(self.clock.now())
        if wait is not None:
            self.rate_limited_count += 1
            raise ApiError(
                429,
                "rate_limit_exceeded",
                "Too many polling requests. Poll every 5-10 seconds.",
                retry_after=retry_after_real(wait, self.clock.speed),
            )
        return 200, self.render_task(self.engine.get(task_id), request_id)

    # -- account -----------------------------------------------------------------------
    def usage(self, query: Mapping[str, str]) -> Result:
        """Return usage totals for a period (200)."""
        period = query.get("period", "all")
        validated(V.check_usage_period, period)
        since = None if period == "all" else self.clock.now() - PERIOD_SECONDS[period]
        data: dict[str, Any] = {"object": "usage", "credit_balance": 0}
        data.update(self.engine.usage(since))
        data["credit_balance"] = number(self.account.balance)
        data["concurrency"] = {"limit": self.concurrency_limit, "active": self.engine.running + self.other_active}
        data["realtime"] = self.sessions.usage(since)
        return 200, data

    # -- files -------------------------------------------------------------------------
    def upload(self, *, data: bytes, filename: str | None, mime_type: str | None) -> Result:
        """Store an upload (201)."""
        stored = make_file(
            data=data,
            filename=filename,
            mime_type=mime_type,
            now=self.clock.now(),
            default_audio=self.durations.default_audio,
        )
        self.files[stored.id] = stored
        return 201, stored.json(self.base_url)

    # -- webhooks ----------------------------------------------------------------------
    def create_webhook(self, body: dict[str, Any]) -> Result:
        """Register a webhook endpoint (201; the only answer with the whole secret)."""
        validated(V.check_webhook_create, body)
        endpoint = self.webhooks.create(body, self.clock.now())
        self.dispatcher.poke()
        return 201, endpoint.json(reveal=True)

    def update_webhook(self, endpoint_id: str, body: dict[str, Any]) -> Result:
        """Change a webhook endpoint (200)."""
        endpoint = self.webhooks.get(endpoint_id)
        validated(V.check_webhook_update, body)
        self.webhooks.update(endpoint, body, self.clock.now())
        self.dispatcher.poke()
        return 200, endpoint.json()

    def delete_webhook(self, endpoint_id: str) -> Result:
        """Remove a webhook endpoint (200)."""
        endpoint = self.webhooks.get(endpoint_id)
        del self.webhooks.endpoints[endpoint.id]
        return 200, {"id": endpoint.id, "deleted": True}

    # -- realtime ----------------------------------------------------------------------
    def create_session(self, headers: Mapping[str, str], body: dict[str, Any], request_id: str) -> Result:
        """Open a realtime session (201), or replay the one this Idempotency-Key made."""
        key = IdempotencyKeys.key_of(headers, required=True)
        seen = self.idempotency.lookup(key, "POST /v1/realtime/sessions", body)
        if seen is not None:
            return seen.status, self.sessions.get(seen.object_id).json(request_id, with_secret=True)
        validated(V.check_realtime_session, body)
        if not self.sessions.enabled:
            raise ApiError(503, "realtime_disabled", "Realtime sessions are not enabled for this account.")
        session = self.sessions.create(body)
        self.idempotency.remember(key, "POST /v1/realtime/sessions", body, Remembered(201, session.id))
        return 201, session.json(request_id, with_secret=True)

    def get_session(self, session_id: str, request_id: str) -> Result:
        """Read a realtime session (200, no secret)."""
        return 200, self.sessions.get(session_id).json(request_id)

    def close_session(self, session_id: str, request_id: str) -> Result:
        """Close a realtime session (200, idempotent)."""
        session = self.sessions.get(session_id)
        self.sessions.close(session)
        return 200, session.json(request_id)

    # -- housekeeping ------------------------------------------------------------------
    def reset(self) -> None:
        """Forget everything the account did; keep its configuration."""
        self.timeline.clear()
        self.engine.clear()
        self.sessions.clear()
        self.webhooks.endpoints.clear()
        self.dispatcher.clear()
        self.poll_limit.clear()
        self.idempotency.clear()
        self.faults.clear()
        self.files.clear()
        self.scripts.clear()
        self.requests.clear()
        self.request_count = 0
        self.account.balance = self.initial_balance
        self.account.ledger.clear()
        self.concurrency_rejections = 0
        self.rate_limited_count = 0
