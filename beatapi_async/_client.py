"""``AsyncBeatAPI``: lifecycle, resources and ``_request`` (retries, decoding, logging).

A call goes: resource method -> ``_request`` (build, retry, decode) -> transport -> aiohttp.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, TypeVar, overload

import aiohttp
import attrs
from multidict import CIMultiDict, CIMultiDictProxy

from . import _protocol, _validate
from ._config import (
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_MAX_RETRY_WAIT,
    ENV_API_KEY,
    ENV_LOG,
    NOT_GIVEN,
    PollPolicy,
    Timeouts,
    load_config,
)
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    BeatAPIError,
    InvalidResponseError,
    RequestValidationError,
)
from ._logging import REDACTOR, get_logger, remember_secret
from ._loops import runs_on
from ._options import NO_OPTIONS, CallOptions, call_options
from ._raw_capture import CURRENT as _RAW_CAPTURE
from ._retry import call_with_retries, should_retry
from ._transport import ACCEPT_ENCODING, AiohttpTransport, Transport
from .resources.tasks import Tasks

if TYPE_CHECKING:
    from decimal import Decimal

    from ._credits import CreditAdmission, MaxCredits
    from ._gate import Coordinator, Gate
    from ._models import File, Task, TaskRequest, WebhookEvent
    from ._options import RequestOptions, Unpack
    from ._pricing import Estimate, Operation
    from ._raw import RawClient
    from .resources.ecommerce_video import EcommerceVideo
    from .resources.files import Files
    from .resources.music_video import MusicVideo
    from .resources.realtime import Realtime
    from .resources.usage import Usages
    from .resources.webhooks import Webhooks
    from .resources.workflows import Workflows
    from .waiting import PollScheduler, Until

T = TypeVar("T")
capturing = _RAW_CAPTURE.get  # the with_raw_response call in progress, if any
logger = get_logger("beatapi_async")
_MAX_REMEMBERED_AUDIO = 10_000
_LAZY_RESOURCES = ("workflows", "usage", "files", "music_video", "ecommerce_video", "webhooks", "realtime")


def _structure(data: Any, cls: type[T]) -> T:
    # cattrs is imported on the first answer, not with the package (import time).
    global _structure
    from ._convert import structure

    _structure = structure
    return structure(data, cls)


def _configure_logging_from_env() -> None:
    level = os.environ.get(ENV_LOG, "").strip().lower()
    if level not in ("debug", "info") or logger.handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler.addFilter(REDACTOR)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if level == "debug" else logging.INFO)


class AsyncBeatAPI:
    """The BeatAPI client. Use ``async with AsyncBeatAPI() as client:``.

    Args:
        api_key: the key; defaults to ``BEATAPI_API_KEY``.
        base_url: defaults to ``BEATAPI_BASE_URL``, else ``https://api.beatapi.io``.
        timeout: per-request ``Timeouts`` (a number means the total).
        max_retries: retries of a failed request (see "Errors and retries" in the README).
        poll: how waits poll (``PollPolicy``).
        session: an ``aiohttp.ClientSession`` of yours, used and never closed.
        user_agent: appended to the SDK's User-Agent.
        max_response_bytes: the largest answer read (after decompression; 16 MiB);
            a larger one is an ``InvalidResponseError``, refused unread and not retried.
        max_retry_wait: the longest server-asked wait (Retry-After) a retry or a
            wait's poller sleeps (60 s); a call asked to wait longer raises at once.
        transport: a ``Transport`` to send through instead of aiohttp (test doubles).
        retry_sleep: the coroutine retries wait with (default ``anyio.sleep``); tests
            pass a fast one so backoff and Retry-After cost no real time.
        coordinator: share the concurrency gate, the poll budget and usage reads with other
            processes on the same account (``beatapi_async.redis.RedisCoordinator``).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        timeout: Timeouts | float | None = None,
        max_retries: int = 3,
        poll: PollPolicy | None = None,
        session: aiohttp.ClientSession | None = None,
        user_agent: str | None = None,
        transport: Transport | None = None,
        retry_sleep: Callable[[float], Awaitable[None]] | None = None,
        coordinator: Coordinator | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_retry_wait: float = DEFAULT_MAX_RETRY_WAIT,
    ) -> None:
        self._config = load_config(
            api_key=api_key, base_url=base_url, timeout=timeout, max_retries=max_retries, poll=poll,
            user_agent=user_agent, retry_sleep=retry_sleep, max_response_bytes=max_response_bytes,
            max_retry_wait=max_retry_wait,
        )  # fmt: skip
        _configure_logging_from_env()
        _validate.trust_origin(self._config.base_url)
        self._transport: Transport = transport or AiohttpTransport(
            session, max_response_bytes=self._config.max_response_bytes
        )
        headers = {
            "Accept": _protocol.JSON_TYPE,
            "Accept-Encoding": ACCEPT_ENCODING,
            "User-Agent": self._config.user_agent,
        }
        # Read-only, passed as they are on the calls that add no header (``_headers`` copies them).
        self._anon_view = CIMultiDictProxy(CIMultiDict(headers))
        self._auth_view = (
            CIMultiDictProxy(CIMultiDict({**headers, "Authorization": f"Bearer {self._config.api_key}"}))
            if self._config.api_key
            else None
        )
        self._secrets = (self._config.api_key,)
        remember_secret(self._config.api_key)
        self._scheduler: PollScheduler | None = None
        self._gate: Gate | None = None
        self._credit_admission: CreditAdmission | None = None
        if coordinator is not None and not (callable(getattr(coordinator, "gate", None))
                                            and callable(getattr(coordinator, "poll_budget", None))):  # fmt: skip
            raise RequestValidationError("coordinator", "must be a coordinator such as redis.RedisCoordinator")
        self._coordinator = coordinator
        self._gate_owned = False  # made here (loop-bound), not set by the caller
        self._loop: asyncio.AbstractEventLoop | None = None
        # Lengths BeatAPI measured for audio this client uploaded or created tasks with, by URL.
        self._audio_lengths: dict[str, float] = {}
        self._closed = False
        # ``with_options`` clients share the root's session, gate and poller.
        self._root = self
        self._defaults = NO_OPTIONS
        self._bind_resources()

    def _bind_resources(self) -> None:
        self.tasks = Tasks(self)
        # The other resources are made on first use (the cached properties below keep them
        # in the instance), so their modules load then, not with the package (import time).
        # A copy made by ``with_options`` drops its parent's and makes its own.
        for name in _LAZY_RESOURCES:
            self.__dict__.pop(name, None)

    @cached_property
    def workflows(self) -> Workflows:
        from .resources.workflows import Workflows

        return Workflows(self)

    @cached_property
    def usage(self) -> Usages:
        from .resources.usage import Usages

        return Usages(self)

    @cached_property
    def files(self) -> Files:
        from .resources.files import Files

        return Files(self)

    @cached_property
    def music_video(self) -> MusicVideo:
        from .resources.music_video import MusicVideo

        return MusicVideo(self)

    @cached_property
    def ecommerce_video(self) -> EcommerceVideo:
        from .resources.ecommerce_video import EcommerceVideo

        return EcommerceVideo(self)

    @cached_property
    def webhooks(self) -> Webhooks:
        from .resources.webhooks import Webhooks

        return Webhooks(self)

    @cached_property
    def realtime(self) -> Realtime:
        from .resources.realtime import Realtime

        return Realtime(self)

    # -- lifecycle ------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._config.base_url

    @property
    def poll_policy(self) -> PollPolicy:
        """How this client's waits poll."""
        return self._config.poll

    @property
    def max_retries(self) -> int:
        """Retries of one failed request."""
        return self._config.max_retries

    @property
    def timeout(self) -> Timeouts:
        """The default per-request timeouts."""
        return self._config.timeout

    @property
    def max_response_bytes(self) -> int:
        """The largest answer body read (after decompression); a larger one is refused unread."""
        return self._config.max_response_bytes

    @property
    def max_retry_wait(self) -> float:
        """The longest server-asked wait a retry or the poller sleeps; a call asking more fails at once."""
        return self._config.max_retry_wait

    def __repr__(self) -> str:
        return f"AsyncBeatAPI(base_url={self._config.base_url!r})"

    def with_options(self, **options: Unpack[RequestOptions]) -> AsyncBeatAPI:
        """A client that differs only in these defaults for every call (``timeout``,
        ``max_retries``, ``extra_headers``, ``extra_query``).

        It shares this client's session, gate and poller: closing this client closes
        them; closing the derived one only stops it being used.
        """
        checked = call_options(options)
        derived = copy.copy(self)
        derived._closed = False
        derived._defaults = checked.over(self._defaults)
        config = self._config
        if checked.timeout is not NOT_GIVEN:
            config = attrs.evolve(config, timeout=checked.timeout)
        if checked.max_retries is not None:
            config = attrs.evolve(config, max_retries=checked.max_retries)
        derived._config = config
        derived._bind_resources()
        return derived

    @property
    def with_raw_response(self) -> RawClient:
        """``client.with_raw_response.<resource>.<method>(...)`` answers a ``RawResponse``."""
        from ._raw import RawClient

        return RawClient(self)

    async def __aenter__(self) -> AsyncBeatAPI:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop polling and close the HTTP session (unless it is the caller's); works from any event loop.

        On a client from ``with_options``, only stop that client being used.
        """
        self._closed = True
        if self._root is not self:
            return
        self._bind_loop()
        if self._scheduler is not None:
            await self._scheduler.aclose()
        close_gate = getattr(self._gate, "aclose", None)  # a gate of the first interface has none
        if close_gate is not None:
            await close_gate()
        await self._transport.aclose()

    def _bind_loop(self) -> None:
        """Drop the helpers made on an earlier event loop (one client, successive ``asyncio.run``).

        The poller's task and events and the gate's primitives belong to the loop they
        were made on; on a new loop, fresh ones are made on first use. (The transport
        rebinds its own session.)
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        if loop is self._loop:
            return
        if self._loop is not None:
            self._scheduler = None
            if self._gate_owned:
                self._gate, self._gate_owned = None, False
        self._loop = loop

    # -- requests -------------------------------------------------------------------

    def _headers(self, auth: bool) -> dict[str, str]:
        """A copy of the client's headers to add to (``auth``: with the key, which it must have)."""
        if not auth:
            return dict(self._anon_view)
        if self._auth_view is None:
            raise AuthenticationError(
                f"No API key: pass api_key= to AsyncBeatAPI or set the {ENV_API_KEY} environment variable.",
                status=None,
                code="missing_api_key",
            )
        return dict(self._auth_view)

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        body_factory: Callable[[], Any] | None = None,
        content_type: str | None = None,
        auth: bool = True,
        idempotency_key: str | None = None,
        replayable: bool | None = None,
        options: CallOptions = NO_OPTIONS,
        done_if_gone: Any = None,
    ) -> Any:
        """Send one logical call (with retries) and return the ``data`` of its answer.

        ``options``: the per-call options (on top of the client's ``with_options``).
        ``done_if_gone``: for a delete, the data to return when a retry finds the thing
        gone (404) after an earlier attempt may have reached the server and done it.
        """
        if self._closed or self._root._closed:
            # Sending would quietly open a new session that nothing ever closes.
            raise BeatAPIError("this AsyncBeatAPI was closed; create a new one", code="client_closed")
        if not runs_on(self._loop):
            self._bind_loop()
        if self._defaults is not NO_OPTIONS:
            options = options.over(self._defaults)
        if options is not NO_OPTIONS:
            if options.extra_query:
                params = {**(params or {}), **options.extra_query}
            if options.extra_body and isinstance(json, Mapping):
                json = {**json, **options.extra_body}
        headers: Mapping[str, str]
        if json is None and content_type is None and idempotency_key is None and not options.extra_headers:
            # The usual GET: the client's own headers, shared read-only (aiohttp takes them as they are).
            shared = self._auth_view if auth else self._anon_view
            headers = shared if shared is not None else self._headers(auth)  # (raises without a key)
        else:
            own = self._headers(auth)
            own.update(options.extra_headers)  # checked in call_options: none names a header the SDK owns
            if json is not None:
                own["Content-Type"] = _protocol.JSON_TYPE
            elif content_type is not None:
                own["Content-Type"] = content_type
            if idempotency_key is not None:
                _validate.check_idempotency_key(idempotency_key)
                own["Idempotency-Key"] = idempotency_key
            headers = own
        body = None if json is None else _protocol.encode_json(json)
        url = _protocol.build_url(self._config.base_url, path, params)
        request = _protocol.new_request(method, url, path, headers, body, body_factory)  # a Request
        timeouts = self._config.timeout if options.timeout is NOT_GIVEN else options.timeout
        if replayable is None:
            replayable = method != "POST" or idempotency_key is not None
        attempt = 0
        may_have_acted = False  # an earlier attempt may have reached the server and done the work

        async def send_once() -> Any:
            nonlocal attempt, may_have_acted
            attempt += 1
            started = time.perf_counter()
            try:
                response = await self._transport.send(request, timeout=timeouts)
            except BeatAPIError as exc:
                logger.info("%s %s failed (attempt %d): %s", method, path, attempt, exc)
                may_have_acted |= not isinstance(exc, APIConnectionError) or exc.sent
                raise
            elapsed = (time.perf_counter() - started) * 1000
            capture = capturing()
            if capture is not None:  # a with_raw_response call: keep the HTTP answer (the last attempt's)
                capture.response, capture.elapsed = response, elapsed / 1000
            try:
                data = _protocol.decode_data(response, secrets=self._secrets)
            except APIStatusError as exc:
                if exc.status == 404 and may_have_acted and done_if_gone is not None:
                    # The answer to our earlier attempt was lost, not the delete itself.
                    logger.info("%s %s -> 404 on attempt %d: an earlier attempt did it", method, path, attempt)
                    return done_if_gone
                # The error body's request id and code say more than the headers.
                logger.info("%s %s -> %d %s request_id=%s attempt=%d %.1fms", method, path, response.status,
                            exc.code, exc.request_id, attempt, elapsed)  # fmt: skip
                may_have_acted |= exc.status is None or exc.status >= 500
                raise
            except InvalidResponseError:
                may_have_acted = True
                raise
            # Every answer at DEBUG; failures and retries (above, and in _retry) at INFO.
            if logger.isEnabledFor(logging.DEBUG):  # (the request id is looked up only then)
                logger.debug("%s %s -> %d request_id=%s attempt=%d %.1fms", method, path, response.status,
                             _protocol.request_id_of(response.headers), attempt, elapsed)  # fmt: skip
            return data

        retries = self._config.max_retries if options.max_retries is None else options.max_retries
        try:
            return await send_once()
        except BeatAPIError as exc:
            # The first attempt runs outside the retry loop: most calls succeed at once,
            # and tenacity around each call cost more than the rest of the SDK together.
            if retries == 0 or not should_retry(exc, replayable=replayable):
                raise
            first_error = exc
        return await call_with_retries(
            send_once, max_retries=retries, replayable=replayable, describe=f"{method} {path}",
            sleep=self._config.retry_sleep, first_error=first_error, max_retry_wait=self._config.max_retry_wait,
        )  # fmt: skip

    def _load(self, data: Any, cls: type[T]) -> T:
        """Load ``data`` into a model; a wrong shape becomes ``InvalidResponseError``."""
        try:
            return _structure(data, cls)
        except Exception as exc:  # cattrs raises many kinds; all mean "wrong shape"
            # The description may quote a value the server sent back: redact it.
            what = _protocol.redact(_describe(exc), *self._secrets)
            raise InvalidResponseError(f"{cls.__name__} has the wrong shape: {what}") from None

    def _load_list(self, data: Any, cls: type[T]) -> list[T]:
        return [self._load(item, cls) for item in _protocol.unwrap_list(data)]

    # -- waiting and many tasks (waiting.py, _runner.py) -----------------------------

    async def wait_for_task(
        self,
        task_or_id: Task | str,
        *,
        timeout: float | None = 900,
        until: Until = "terminal",
        on_update: Callable[[Task], Any] | None = None,
        raise_on_failure: bool = True,
    ) -> Task:
        """Wait for a task to finish (or need action); see README "Waiting"."""
        from .waiting import wait_for_task

        return await wait_for_task(
            self, task_or_id, timeout=timeout, until=until, on_update=on_update, raise_on_failure=raise_on_failure
        )

    async def notify(self, event: WebhookEvent) -> None:
        """Tell waiters that a verified webhook event says a task changed: they check it at once."""
        from ._models import WebhookEvent

        if not isinstance(event, WebhookEvent):
            raise RequestValidationError("event", "must be a WebhookEvent (from beatapi_async.webhooks.verify)")
        # ``event.task`` when the body was a whole task; else whatever id the data names.
        task = event.task
        task_id = task.id if task is not None else event.data.get("id") if isinstance(event.data, Mapping) else None
        if isinstance(task_id, str) and task_id:
            self._poller().notify(task_id)

    def _poller(self) -> PollScheduler:
        if self._root is not self:
            return self._root._poller()
        self._bind_loop()
        if self._scheduler is None:
            from .waiting import PollScheduler

            budget = self._coordinator.poll_budget(self) if self._coordinator is not None else None
            self._scheduler = PollScheduler(self, budget=budget)
        return self._scheduler

    async def run(
        self,
        request: TaskRequest,
        *,
        timeout: float | None = None,
        until: Until = "terminal",
        on_update: Callable[[Task], Any] | None = None,
        raise_on_failure: bool = True,
        idempotency_key: str | Callable[[], str] | None = None,
        on_created: Callable[[Task], Any] | None = None,
        max_credits: MaxCredits = None,
    ) -> Task:
        """Admit one request through the concurrency gate, create it and wait for it.

        ``idempotency_key``: a key, or a callable asked before each create attempt (a new
        attempt follows a 429 ``user_concurrency_exceeded``); default: a fresh one.
        ``on_created(task)`` runs as soon as BeatAPI accepted the create (e.g. to record the id).
        No create is sent that the account's balance (or ``max_credits``: a number, or a
        ``CreditCap`` shared by several calls) cannot cover: ``InsufficientCreditsError``
        with ``status`` None is raised instead (README "Credits").
        """
        from ._runner import run_one

        return await run_one(
            self, request, timeout=timeout, until=until, on_update=on_update, raise_on_failure=raise_on_failure,
            idempotency_key=idempotency_key, on_created=on_created, max_credits=max_credits,
        )  # fmt: skip

    @overload
    async def run_many(
        self,
        requests: Iterable[TaskRequest],
        *,
        return_exceptions: Literal[False] = False,
        timeout: float | None = None,
        until: Until = "terminal",
        on_update: Callable[[Task], Any] | None = None,
        idempotency_key: Callable[[int, TaskRequest], str] | None = None,
        on_created: Callable[[Task], Any] | None = None,
        max_credits: MaxCredits = None,
    ) -> list[Task]: ...

    @overload
    async def run_many(
        self,
        requests: Iterable[TaskRequest],
        *,
        return_exceptions: bool,
        timeout: float | None = None,
        until: Until = "terminal",
        on_update: Callable[[Task], Any] | None = None,
        idempotency_key: Callable[[int, TaskRequest], str] | None = None,
        on_created: Callable[[Task], Any] | None = None,
        max_credits: MaxCredits = None,
    ) -> list[Task | BaseException]: ...

    async def run_many(
        self,
        requests: Iterable[TaskRequest],
        *,
        return_exceptions: bool = False,
        timeout: float | None = None,
        until: Until = "terminal",
        on_update: Callable[[Task], Any] | None = None,
        idempotency_key: Callable[[int, TaskRequest], str] | None = None,
        on_created: Callable[[Task], Any] | None = None,
        max_credits: MaxCredits = None,
    ) -> list[Task] | list[Task | BaseException]:
        """Run many requests within the account's limits; results in input order.

        ``return_exceptions=True``: each request's error in its place instead of raising the first.
        ``idempotency_key(index, request) -> str``: each request's key, so a job a queue delivers
        again after a crash waits for the task it already created instead of paying for another.
        ``on_created(task)`` runs as each create is accepted (e.g. to record the id).
        ``max_credits``: what the batch may reserve in all; past it (or past what the balance
        covers) a request ends with a local ``InsufficientCreditsError`` and nothing is sent.
        """
        from ._runner import run_many

        return await run_many(
            self, requests, return_exceptions=return_exceptions, timeout=timeout, until=until, on_update=on_update,
            idempotency_key=idempotency_key, on_created=on_created, max_credits=max_credits,
        )  # fmt: skip

    @overload
    def as_completed(
        self,
        requests: Iterable[TaskRequest],
        *,
        return_exceptions: Literal[False] = False,
        timeout: float | None = None,
        until: Until = "terminal",
        on_update: Callable[[Task], Any] | None = None,
        idempotency_key: Callable[[int, TaskRequest], str] | None = None,
        on_created: Callable[[Task], Any] | None = None,
        max_credits: MaxCredits = None,
    ) -> AsyncIterator[Task]: ...

    @overload
    def as_completed(
        self,
        requests: Iterable[TaskRequest],
        *,
        return_exceptions: bool,
        timeout: float | None = None,
        until: Until = "terminal",
        on_update: Callable[[Task], Any] | None = None,
        idempotency_key: Callable[[int, TaskRequest], str] | None = None,
        on_created: Callable[[Task], Any] | None = None,
        max_credits: MaxCredits = None,
    ) -> AsyncIterator[Task | BaseException]: ...

    def as_completed(
        self,
        requests: Iterable[TaskRequest],
        *,
        return_exceptions: bool = False,
        timeout: float | None = None,
        until: Until = "terminal",
        on_update: Callable[[Task], Any] | None = None,
        idempotency_key: Callable[[int, TaskRequest], str] | None = None,
        on_created: Callable[[Task], Any] | None = None,
        max_credits: MaxCredits = None,
    ) -> AsyncIterator[Task] | AsyncIterator[Task | BaseException]:
        """Run many requests within the account's limits; yield each result as it finishes.

        Takes the options of ``run_many``.
        """
        from ._runner import as_completed

        return as_completed(
            self, requests, return_exceptions=return_exceptions, timeout=timeout, until=until, on_update=on_update,
            idempotency_key=idempotency_key, on_created=on_created, max_credits=max_credits,
        )  # fmt: skip

    # -- credits (_pricing.py, _credits.py) --------------------------------------------

    def estimate(
        self,
        request: TaskRequest,
        *,
        audio_seconds: float | Decimal | None = None,
        operation: Operation = "create",
        shot_seconds: int | None = None,
    ) -> Estimate:
        """What BeatAPI will reserve for ``request``, from the launch price table; sends nothing.

        A Music Video's billable length is ``audio_seconds=``, else the length BeatAPI
        measured for the audio (uploaded by this client, or billed for a task it created
        with the same ``audio_url``), else unknown: then
        ``exact`` is False and ``credits`` is the upper bound (the longest audio BeatAPI
        accepts). ``operation="edit_shot"`` prices a shot edit of the task ``request``
        made (``shot_seconds``, default 5); ``"compose"`` its fixed compose price.
        """
        from ._pricing import estimate

        return estimate(
            request, audio_seconds=audio_seconds, known_audio=self._audio_lengths, operation=operation,
            shot_seconds=shot_seconds,
        )  # fmt: skip

    def _remember_upload(self, file: File) -> None:
        """Keep an uploaded audio file's measured length for ``estimate``."""
        if file.audio_duration_seconds is not None:
            self._remember_audio(file.url, float(file.audio_duration_seconds))

    def _remember_audio(self, url: str, seconds: float) -> None:
        """Keep the length BeatAPI measured for the audio at ``url`` (bounded: the oldest is forgotten)."""
        lengths = self._audio_lengths
        lengths.pop(url, None)
        lengths[url] = seconds
        while len(lengths) > _MAX_REMEMBERED_AUDIO:
            del lengths[next(iter(lengths))]

    @property
    def gate(self) -> Gate:
        """The concurrency gate ``run``/``run_many`` admit through (replaceable: ``client.gate = ...``)."""
        if self._root is not self:
            return self._root.gate
        self._bind_loop()
        if self._gate is None:
            if self._coordinator is not None:
                self._gate = self._coordinator.gate(self)
            else:
                from ._gate import LocalGate

                self._gate = LocalGate(self)
            self._gate_owned = True  # made here, for this event loop
        return self._gate

    @gate.setter
    def gate(self, gate: Gate) -> None:
        if self._root is not self:
            self._root.gate = gate
            return
        self._gate, self._gate_owned = gate, False

    @property
    def coordinator(self) -> Coordinator | None:
        """What this client shares with other processes (``coordinator=``), or None."""
        return self._coordinator

    @property
    def credit_admission(self) -> CreditAdmission:
        """What ``run``/``run_many`` reserve credits through before each create (replaceable).

        With a coordinator that offers one (``credit_admission(client)``), the fleet's ledger.
        """
        if self._root is not self:
            return self._root.credit_admission  # one ledger per account view, shared
        if self._credit_admission is None:
            make = getattr(self._coordinator, "credit_admission", None)
            if callable(make):
                self._credit_admission = make(self)
            else:
                from ._ledger import LocalCreditAdmission

                self._credit_admission = LocalCreditAdmission(self)
        return self._credit_admission

    @credit_admission.setter
    def credit_admission(self, admission: CreditAdmission) -> None:
        if self._root is not self:
            self._root.credit_admission = admission
            return
        self._credit_admission = admission


def _describe(exc: BaseException) -> str:
    # cattrs groups nest; report the innermost, shortest useful message.
    subs = getattr(exc, "exceptions", None)
    if subs:
        notes = getattr(subs[0], "__notes__", None) or []
        return f"{_describe(subs[0])}" + (f" ({notes[0]})" if notes else "")
    return f"{type(exc).__name__}: {exc}"
