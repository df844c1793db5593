"""``examples.arq_worker`` with millisecond polling, for the test that runs it against the emulator."""

from __future__ import annotations

from beatapi_async import PollPolicy
from examples import arq_worker

arq_worker.POLL = PollPolicy(interval=0.005, max_interval=0.01, budget_per_minute=30_000, burst=5)
WorkerSettings = arq_worker.WorkerSettings
