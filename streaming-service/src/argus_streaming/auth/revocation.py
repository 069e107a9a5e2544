"""Ending video when access is taken away.

management announces every committed authorization change on ``argus:authz``
(``AuthzChanged``: a grant or role removed, a user disabled or deleted, a logout, a password
change or reset). For each message the watcher re-checks the open sessions of the users it
names (every session when it names nobody) with ``POST /internal/access``, and ends what is
no longer allowed:

- a WHEP session (live or playback): its peer connection is closed;
- an HLS or VOD media ticket: it is revoked, so its next request is refused; an HLS session
  left without tickets is stopped.

Sessions opened with a token that the message itself revokes end without asking. Messages
are only live (pub/sub): every session is also re-checked when the subscription (re)starts
and every ``STREAMING_AUTHZ_RECHECK_S``, so a missed message costs at most that long.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import ValidationError

from argus_common.bus import RedisBus
from argus_common.events import CHANNEL_AUTHZ, AuthzChanged
from argus_common.retry import Backoff, every, keep_running
from argus_streaming.auth.tickets import MediaTickets, Ticket
from argus_streaming.cameras.client import ManagementClient
from argus_streaming.hls.sessions import HlsManager
from argus_streaming.webrtc.sessions import WhepManager, WhepSession

log = structlog.get_logger("argus.streaming.revocation")


@dataclass
class _Pending:
    """What the messages received since the last check ask for (merged)."""

    everyone: bool = False
    users: set[str] = field(default_factory=set)
    jtis: set[str] = field(default_factory=set)
    families: set[str] = field(default_factory=set)

    def merge(self, msg: AuthzChanged) -> None:
        if msg.user_ids is None:
            self.everyone = True
        else:
            self.users |= {str(u) for u in msg.user_ids}
        self.jtis |= set(msg.jtis)
        self.families |= set(msg.families)

    def __bool__(self) -> bool:
        return self.everyone or bool(self.users or self.jtis or self.families)


Holder = WhepSession | Ticket


def _identity(holder: Holder) -> tuple[str, str, str | None]:
    """(user id, token id, refresh family) of a session or ticket."""
    if isinstance(holder, Ticket):
        return holder.user.sub, holder.user.jti, holder.user.fam
    return holder.user, holder.jti, holder.fam


def _subject(user: str) -> dict[str, int] | None:
    """``user_id`` of a user's token, ``monitor_id`` of a wall monitor's (``wall:<id>``)."""
    if user.isdigit():
        return {"user_id": int(user)}
    kind, _, rest = user.partition(":")
    return {"monitor_id": int(rest)} if kind == "wall" and rest.isdigit() else None


def _recordings(holder: Holder) -> bool:
    if isinstance(holder, Ticket):
        return holder.scope == "vod"
    return holder.kind == "playback"


class AccessWatcher:
    """Follows ``argus:authz`` and ends the sessions a change disallows."""

    def __init__(
        self, bus: RedisBus | None, management: ManagementClient, whep: WhepManager,
        hls: HlsManager, tickets: MediaTickets, recheck_s: float,
    ) -> None:
        self.bus = bus
        self.management = management
        self.whep = whep
        self.hls = hls
        self.tickets = tickets
        self.recheck_s = recheck_s
        self._pending = _Pending()
        self._wake = asyncio.Event()
        self._tasks: list[asyncio.Task[Any]] = []
        self.subscribed = asyncio.Event()  # the subscription is up (tests wait for it)

    def start(self) -> None:
        """Start listening, checking, and the periodic re-check."""
        if self.bus is not None:
            self._tasks.append(asyncio.create_task(keep_running(
                self._listen, event="authz_subscribe_failed", log=log,
                backoff=Backoff(0.5, 5.0)), name="authz-listen"))
        self._tasks.append(asyncio.create_task(self._work(), name="authz-check"))
        self._tasks.append(asyncio.create_task(every(
            self.recheck_s, self._periodic, event="authz_recheck_failed", log=log),
            name="authz-periodic"))

    async def close(self) -> None:
        """Stop every task (shutdown)."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

    def note(self, msg: AuthzChanged) -> None:
        """Queue a re-check for what ``msg`` names."""
        self._pending.merge(msg)
        # A cached "may see" answer could let a revoked token open a new session.
        self.management.forget_access()
        self._wake.set()

    async def _listen(self) -> None:
        assert self.bus is not None
        pubsub = self.bus.redis.pubsub(ignore_subscribe_messages=True)
        try:
            await pubsub.subscribe(self.bus.key(CHANNEL_AUTHZ))
            self.subscribed.set()
            # Messages may have been missed while unsubscribed: re-check everything.
            self.note(AuthzChanged(reason="other", user_ids=None))
            while True:
                msg = await pubsub.get_message(timeout=5.0)
                if msg is None or msg.get("type") != "message":
                    continue
                data = msg["data"]
                self._handle(data.decode() if isinstance(data, bytes) else str(data))
        finally:
            self.subscribed.clear()
            await pubsub.aclose()  # type: ignore[no-untyped-call]

    def _handle(self, raw: str) -> None:
        try:
            msg = AuthzChanged.model_validate_json(raw)
        except ValidationError:
            log.warning("authz_message_invalid")
            return
        self.note(msg)

    async def _work(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            pending, self._pending = self._pending, _Pending()
            if not pending:
                continue
            try:
                await self.recheck(pending)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # management away: try again shortly, nothing lost
                log.warning("authz_recheck_failed", error=type(exc).__name__)
                self._pending.everyone = True
                await asyncio.sleep(1.0)
                self._wake.set()

    async def _periodic(self) -> None:
        self.tickets.sweep()
        if self._holders():
            await self.recheck(_Pending(everyone=True))

    def _holders(self) -> list[Holder]:
        holders: list[Holder] = [s for s in self.whep.sessions.values() if not s.closed]
        return holders + self.tickets.live()

    async def recheck(self, pending: _Pending) -> int:
        """Re-check the sessions ``pending`` names; returns how many were ended."""
        doomed: list[Holder] = []
        ask: list[Holder] = []
        for holder in self._holders():
            user, jti, fam = _identity(holder)
            if jti in pending.jtis or (fam is not None and fam in pending.families):
                doomed.append(holder)
            elif pending.everyone or user in pending.users:
                ask.append(holder)
        items = []
        asked: list[Holder] = []
        for holder in ask:
            user, jti, fam = _identity(holder)
            who = _subject(user)
            if who is None:
                doomed.append(holder)  # no user management knows: nothing can allow it
                continue
            items.append({**who, "camera_id": holder.camera_id, "jti": jti or None,
                          "fam": fam, "recordings": _recordings(holder)})
            asked.append(holder)
        if items:
            allowed = await self.management.still_allowed(items)
            doomed += [h for h, ok in zip(asked, allowed, strict=True) if not ok]
        await self._end(doomed)
        return len(doomed)

    async def _end(self, doomed: list[Holder]) -> None:
        sessions: set[str] = set()
        tickets = {id(h) for h in doomed if isinstance(h, Ticket)}
        self.tickets.drop(lambda t: id(t) in tickets)
        for holder in doomed:
            user = _identity(holder)[0]
            if isinstance(holder, Ticket):
                if holder.session_id is not None:
                    sessions.add(holder.session_id)
                log.info("media_ticket_revoked", camera_id=holder.camera_id,
                         scope=holder.scope, user_id=user)
            else:
                log.info("whep_session_revoked", camera_id=holder.camera_id,
                         kind=holder.kind, user_id=user)
                await self.whep.close(holder.id)
        live = {t.session_id for t in self.tickets.live()}
        for sid in sessions - live:
            # Nobody may watch it any more: stop it rather than wait for the idle timer.
            await self.hls.stop(sid)
