"""Realtime browser sessions (contract: /v1/realtime/sessions; NOTES: Realtime sessions).

Billing: a session reserves its ``max_duration_seconds`` at one credit per
second (the emulator's reading of "billing is fixed by the selected maximum
duration"; the sample session reserves 60 for 60 s). It settles in full when the
session goes active (``FakeBeatAPI.activate_session`` plays the browser's first
billing heartbeat) and is refunded in full if it closes or expires before.
"""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

import attrs

from ._account import Account
from ._clock import Clock, Timeline
from ._http import ApiError, bad_request, iso, new_id, not_found, number
from ._records import Durations

OPEN_STATUSES = frozenset({"ready", "connecting", "active"})


@attrs.define(eq=False, kw_only=True)
class SessionState:
    """One realtime session."""

    id: str
    status: str
    client_secret: str = attrs.field(repr=False)
    max_duration_seconds: int
    allowed_origins: list[str]
    metadata: dict[str, str]
    created_at: float
    expires_at: float
    reserved: Decimal
    settled: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)
    connected_at: float | None = None
    closed_at: float | None = None

    def json(self, request_id: str, *, with_secret: bool = False) -> dict[str, Any]:
        """Return the contract's ``RealtimeSession`` (the secret only on create)."""
        data: dict[str, Any] = {
            "id": self.id,
            "object": "realtime.session",
            "status": self.status,
            "expires_at": iso(self.expires_at),
            "max_duration_seconds": self.max_duration_seconds,
            "allowed_origins": list(self.allowed_origins),
            "credits": {
                "reserved": number(self.reserved),
                "settled": number(self.settled),
                "refunded": number(self.refunded),
            },
            "request_id": request_id,
            "created_at": iso(self.created_at),
            "connected_at": iso(self.connected_at),
            "closed_at": iso(self.closed_at),
        }
        if with_secret:
            data["client_secret"] = self.client_secret
        return data


class RealtimeSessions:
    """Every realtime session of the account."""

    def __init__(self, clock: Clock, timeline: Timeline, account: Account, durations: Durations) -> None:
        self.clock = clock
        self.timeline = timeline
        self.account = account
        self.durations = durations
        self.sessions: dict[str, SessionState] = {}
        self.enabled = True

    def create(self, body: dict[str, Any]) -> SessionState:
        """Reserve credits and open a ``ready`` session (the body is already validated)."""
        now = self.clock.now()
        seconds = int(body["max_duration_seconds"])
        price = Decimal(seconds)
        if not self.account.can_afford(price):
            raise ApiError(402, "insufficient_credits", "Account balance is not sufficient for this session.")
        session = SessionState(
            id=new_id("rts_"),
            status="ready",
            client_secret="brt_live_" + secrets.token_urlsafe(24),
            max_duration_seconds=seconds,
            allowed_origins=list(body["allowed_origins"]),
            metadata=dict(body.get("metadata") or {}),
            created_at=now,
            expires_at=now + self.durations.session_ttl,
            reserved=price,
        )
        self.sessions[session.id] = session
        self.account.charge(price, "realtime", now, session_id=session.id)
        self.timeline.schedule(session.expires_at, self._expire, session)
        return session

    def get(self, session_id: str) -> SessionState:
        """Return the session or raise a 404."""
        session = self.sessions.get(session_id)
        if session is None:
            raise not_found(f"Realtime session {session_id!r}")
        return session

    def close(self, session: SessionState) -> None:
        """Close the session (idempotent); refund it if it never went active."""
        if session.status not in OPEN_STATUSES:
            return
        now = self.clock.now()
        if session.status != "active":
            self._refund(session, now)
        session.status = "closed"
        session.closed_at = now

    def activate(self, session: SessionState) -> None:
        """Play the first accepted billing heartbeat: the session goes active and settles in full."""
        if session.status not in ("ready", "connecting"):
            raise bad_request(f"Session {session.id} is {session.status}; only a ready session can go active.")
        now = self.clock.now()
        session.status = "active"
        session.connected_at = now
        session.settled = session.reserved
        self.account.settle(session.reserved, "realtime", now, session_id=session.id)
        self.timeline.schedule(now + session.max_duration_seconds, self._end, session)

    def _expire(self, at: float, session: SessionState) -> None:
        if session.status in ("ready", "connecting") and self.sessions.get(session.id) is session:
            self._refund(session, at)
            session.status = "expired"
            session.closed_at = at

    def _end(self, at: float, session: SessionState) -> None:
        if session.status == "active":
            session.status = "closed"
            session.closed_at = at

    def _refund(self, session: SessionState, at: float) -> None:
        session.refunded = session.reserved - session.settled
        self.account.refund(session.refunded, "realtime", at, session_id=session.id)

    def usage(self, since: float | None) -> dict[str, Any]:
        """Return the usage ``realtime`` block for sessions created at or after ``since``."""
        chosen = [s for s in self.sessions.values() if since is None or s.created_at >= since]
        return {
            "sessions": len(chosen),
            "credits": number(sum((s.settled for s in chosen), Decimal(0))),
            # Open sessions hold capacity now, whenever they were created.
            "active": sum(1 for s in self.sessions.values() if s.status in OPEN_STATUSES),
        }

    def clear(self) -> None:
        """Forget every session."""
        self.sessions.clear()
