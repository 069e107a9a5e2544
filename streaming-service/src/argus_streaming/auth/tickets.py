"""Media tickets: the ``token`` of HLS and VOD URLs.

A browser's media element fetches playlists and segments without headers, so those URLs
carry a ticket. A ticket is an opaque random string known only to this process (not a JWT:
nothing to forge or to decode from a log line), bound to

- the access token that obtained it (user, token id, refresh family): logout, a password
  change, a removed grant or a disabled account drop it (``auth/revocation.py``);
- one HLS session, or one camera's VOD time range and the files listed for it;
- a short idle lifetime (``STREAMING_MEDIA_TOKEN_TTL_S``): every request renews it, so a
  player keeps it alive and a copied URL dies within minutes of the player going away.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from argus_common.errors import Unauthorized
from argus_streaming.auth.dependencies import User

Scope = Literal["hls", "vod"]
_MAX_TICKETS = 50_000  # a bound on memory whatever the per-user caps allow


@dataclass(eq=False)
class Ticket:
    """What one ticket lets its holder fetch."""

    id: str = field(repr=False)
    scope: Scope
    user: User = field(repr=False)
    camera_id: int
    expires: float  # monotonic seconds
    session_id: str | None = None  # hls
    start: datetime | None = None  # vod
    end: datetime | None = None
    paths: frozenset[str] = frozenset()  # vod: the files its playlist lists


class MediaTickets:
    """The live tickets of this process."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._tickets: dict[str, Ticket] = {}

    def issue(
        self, scope: Scope, user: User, camera_id: int, *, session_id: str | None = None,
        start: datetime | None = None, end: datetime | None = None,
        paths: Iterable[str] = (), before_new: Callable[[], None] | None = None,
    ) -> Ticket:
        """The ticket of this access token for this session or range: the one it already
        holds (renewed, its paths widened), or a new one (``before_new`` runs first: the
        per-user cap)."""
        now = self._clock()
        for t in self._tickets.values():
            if (t.scope == scope and t.user.jti == user.jti and t.user.sub == user.sub
                    and t.camera_id == camera_id and t.session_id == session_id
                    and t.start == start and t.end == end and t.expires > now):
                t.expires = now + self.ttl_s
                t.paths = t.paths | frozenset(paths)
                return t
        if before_new is not None:
            before_new()
        if len(self._tickets) >= _MAX_TICKETS:
            self.sweep()
        ticket = Ticket(
            id=secrets.token_urlsafe(24), scope=scope, user=user, camera_id=camera_id,
            expires=now + self.ttl_s, session_id=session_id, start=start, end=end,
            paths=frozenset(paths),
        )
        self._tickets[ticket.id] = ticket
        return ticket

    def use(self, token: str | None, scope: Scope) -> Ticket:
        """The live ticket ``token`` of ``scope``, renewed; 401 when missing, unknown,
        expired or revoked."""
        if not token:
            raise Unauthorized("missing media token")
        ticket = self._tickets.get(token)
        now = self._clock()
        if ticket is None or ticket.scope != scope:
            raise Unauthorized("invalid or revoked media token")
        if ticket.expires <= now:
            del self._tickets[token]
            raise Unauthorized("media token expired")
        ticket.expires = now + self.ttl_s
        return ticket

    def peek(self, token: str) -> Ticket | None:
        """The ticket ``token`` if it is live, without renewing it."""
        ticket = self._tickets.get(token)
        return ticket if ticket is not None and ticket.expires > self._clock() else None

    def live(self) -> list[Ticket]:
        """Every ticket that has not expired."""
        now = self._clock()
        return [t for t in self._tickets.values() if t.expires > now]

    def count(self, user_sub: str) -> int:
        """Live tickets of one user."""
        return sum(1 for t in self.live() if t.user.sub == user_sub)

    def drop(self, which: Callable[[Ticket], bool]) -> list[Ticket]:
        """Revoke the tickets ``which`` selects; returns them."""
        gone = [t for t in self._tickets.values() if which(t)]
        for t in gone:
            self._tickets.pop(t.id, None)
        return gone

    def sweep(self) -> int:
        """Forget expired tickets; returns how many."""
        now = self._clock()
        return len(self.drop(lambda t: t.expires <= now))
