"""Video access reports for management's audit log: one viewing session, one pair of
messages (``VideoAccess`` ``start`` and ``end``) on the ``argus:audit`` stream.

Why a Redis stream and not a call to management: management may be restarting when a
viewer closes; the stream keeps the report until management's consumer group stores it
(idempotently, on the session id). Why a start *and* an end: the log is append-only, and
a crash of this service mid-session must not take the fact of access with it.

Sessions end in different ways: a WHEP session when its peer connection closes; an HLS or
VOD viewer with its media ticket (``auth/tickets.py``: one per user and HLS session or VOD
range), when the ticket is revoked or dropped, or when the player stops fetching for the
ticket's idle lifetime (a media element sends no goodbye); its duration runs to the last
fetch.
Reports wait in a bounded in-memory queue while Redis is away (oldest dropped beyond
``_MAX_PENDING``, counted and logged).
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import structlog
from prometheus_client import Counter
from starlette.requests import HTTPConnection

from argus_common.bus import RedisBus
from argus_common.events import STREAM_AUDIT, VideoAccess, VideoKind
from argus_common.retry import Backoff, every, retry_until_done
from argus_streaming.auth.tickets import Ticket
from argus_streaming.webrtc.sessions import WhepSession

log = structlog.get_logger("argus.streaming.audit")

REPORTS = Counter("argus_streaming_audit_reports_total", "Video access reports by outcome",
                  ["outcome"])
_MAX_PENDING = 10_000
_FLUSH_AT_CLOSE_S = 5.0


@dataclass(eq=False)
class Access:
    """One viewing session as the audit log sees it."""

    id: str
    kind: VideoKind
    camera_id: int
    user_id: int | None
    client_ip: str | None
    user_agent: str | None
    stream: str | None = None
    range_start: datetime | None = None
    range_end: datetime | None = None
    speed: float = 1.0  # playback: recorded seconds per second watched
    key: str | None = None  # idle-tracked sessions (HLS viewers, VOD)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.monotonic)
    last_seen: float = field(default_factory=time.monotonic)
    ended: bool = False


def _user_id(sub: str | None) -> int | None:
    return int(sub) if sub is not None and sub.isdigit() else None


class VideoAudit:
    """Opens and ends viewing sessions and reports them (``start()`` runs the publisher)."""

    def __init__(self, bus: RedisBus | None, idle_s: float = 60.0,
                 alive: Callable[[str], bool] | None = None) -> None:
        self.bus = bus
        self.idle_s = idle_s
        # Whether the thing an idle-tracked session is keyed on (a media ticket) still lives.
        self.alive = alive
        self.open: dict[str, Access] = {}
        self.tracked: dict[str, Access] = {}
        self._queue: deque[VideoAccess] = deque()
        self._wake = asyncio.Event()
        self._empty = asyncio.Event()
        self._empty.set()
        self._tasks: list[asyncio.Task[None]] = []

    # -- sessions ------------------------------------------------------------------------
    def begin(
        self, kind: VideoKind, camera_id: int, user: str | None, conn: HTTPConnection | None,
        *, stream: str | None = None, range_start: datetime | None = None,
        range_end: datetime | None = None, speed: float = 1.0, key: str | None = None,
    ) -> Access:
        """A new viewing session of ``user`` (a user id as the token's ``sub``), reported
        at once; ``key`` makes it idle-tracked (see :meth:`touch`), and a key already open
        is that session, renewed."""
        if key is not None and (known := self.touch(key)) is not None:
            return known
        agent = conn.headers.get("user-agent") if conn is not None else None
        access = Access(
            id=secrets.token_urlsafe(18), kind=kind, camera_id=camera_id,
            user_id=_user_id(user),
            client_ip=conn.client.host if conn is not None and conn.client else None,
            user_agent=(agent or "")[:256] or None, stream=stream, range_start=range_start,
            range_end=range_end, speed=speed, key=key,
        )
        self.open[access.id] = access
        if key is not None:
            self.tracked[key] = access
        self._report(access, "start")
        return access

    def end(self, access: Access | None, reason: str = "closed") -> None:
        """End ``access`` (once; later calls do nothing) and report it with its duration."""
        if access is None or access.ended:
            return
        access.ended = True
        self.open.pop(access.id, None)
        if access.key is not None and self.tracked.get(access.key) is access:
            del self.tracked[access.key]
        self._report(access, "end", reason)

    def touch(self, key: str) -> Access | None:
        """Mark the idle-tracked session ``key`` as active; None when there is none (it
        ended: the caller may begin another)."""
        access = self.tracked.get(key)
        if access is not None:
            access.last_seen = time.monotonic()
        return access

    def end_where(self, match: Callable[[Access], bool], reason: str) -> int:
        """End every open session ``match`` accepts; returns how many."""
        hits = [a for a in self.open.values() if match(a)]
        for access in hits:
            self.end(access, reason)
        return len(hits)

    def _sweep_idle(self) -> None:
        limit = time.monotonic() - self.idle_s
        for key, access in list(self.tracked.items()):
            if access.last_seen < limit:
                self.end(access, "idle")
            elif self.alive is not None and not self.alive(key):
                self.end(access, "ended")  # the ticket was revoked or its session stopped

    # -- reports -------------------------------------------------------------------------
    def _report(self, access: Access, phase: str, reason: str | None = None) -> None:
        ended_at = duration = None
        range_end = access.range_end
        if phase == "end":
            duration = max(time.monotonic() - access.started, 0.0)
            if access.key is not None:  # an idle-ended viewer stopped when last seen
                duration = max(access.last_seen - access.started, 0.0)
            ended_at = access.started_at + timedelta(seconds=duration)
            if access.kind == "playback" and access.range_start is not None:
                range_end = access.range_start + timedelta(seconds=duration * access.speed)
        msg = VideoAccess(
            phase=phase, session_id=access.id, kind=access.kind, camera_id=access.camera_id,
            user_id=access.user_id, client_ip=access.client_ip, user_agent=access.user_agent,
            stream=access.stream, range_start=access.range_start, range_end=range_end,
            started_at=access.started_at, ended_at=ended_at, duration_s=duration,
            reason=reason,
        )
        if self.bus is None:
            return
        if len(self._queue) >= _MAX_PENDING:
            self._queue.popleft()
            REPORTS.labels("dropped").inc()
            log.warning("video_audit_queue_full", dropped=1)
        self._queue.append(msg)
        self._empty.clear()
        self._wake.set()

    async def _publish(self) -> None:
        assert self.bus is not None
        bus = self.bus
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                msg = self._queue[0]
                await retry_until_done(lambda m=msg: bus.add(STREAM_AUDIT, m),  # type: ignore[misc]
                                       event="video_audit_publish_failed", log=log,
                                       backoff=Backoff(0.5, 10.0))
                if self._queue and self._queue[0] is msg:
                    self._queue.popleft()
                REPORTS.labels("sent").inc()
            self._empty.set()

    async def _sweep(self) -> None:
        async def once() -> None:
            self._sweep_idle()

        await every(min(self.idle_s / 4, 5.0), once, event="video_audit_sweep_failed",
                    log=log)

    def start(self) -> None:
        """Run the publisher and the idle sweep (until :meth:`close`)."""
        if self.bus is not None:
            self._tasks.append(asyncio.create_task(self._publish(), name="video-audit"))
        self._tasks.append(asyncio.create_task(self._sweep(), name="video-audit-sweep"))

    async def close(self) -> None:
        """End every open session (``shutdown``) and send what is queued (bounded)."""
        self.end_where(lambda _: True, "shutdown")
        if self.bus is not None and self._queue:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_FLUSH_AT_CLOSE_S):
                    await self._empty.wait()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._queue:
            REPORTS.labels("dropped").inc(len(self._queue))
            log.warning("video_audit_unsent", reports=len(self._queue))


# -- hooks for the routers -----------------------------------------------------------------
def of(conn: HTTPConnection) -> VideoAudit | None:
    """The app's reporter (None in an app built without one)."""
    audit: VideoAudit | None = getattr(conn.app.state, "audit", None)
    return audit


def whep_started(conn: HTTPConnection, session: WhepSession, start: datetime | None = None,
                 speed: float = 1.0) -> None:
    """Report a new WHEP session (live, or playback from ``start``); it is reported ended
    by the session's cleanup, whichever way the session closes."""
    audit = of(conn)
    if audit is None:
        return
    access = audit.begin(session.kind, session.camera_id, session.user, conn,  # type: ignore[arg-type]
                         stream=session.stream if session.kind == "live" else None,
                         range_start=start, speed=speed)
    previous = session.cleanup

    def cleanup() -> None:
        audit.end(access, "closed")
        if previous is not None:
            previous()

    session.cleanup = cleanup


def ticket_used(conn: HTTPConnection, ticket: Ticket) -> None:
    """A media ticket was issued or used: its viewing session begins, or goes on."""
    audit = of(conn)
    if audit is None:
        return
    if audit.touch(ticket.id) is None:
        audit.begin(ticket.scope, ticket.camera_id, ticket.user.sub, conn,
                    stream="main" if ticket.scope == "hls" else None,
                    range_start=ticket.start, range_end=ticket.end, key=ticket.id)
