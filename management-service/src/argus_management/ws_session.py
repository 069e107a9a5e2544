"""The ping and credential re-check shared by management's server sockets (``/ws/alerts``,
``/ws/wall-display``, ``/ws/analysis``).

A socket's receiver notes every frame the peer sends (:meth:`Heartbeat.receive`: a pong, or
anything, is an answer). Its sender, the only writer, calls :meth:`Heartbeat.beat` when
``next_ping`` is due: the pong check (4408 when the last ping got no answer), the re-check of
the token and what it stands for (the socket's own ``still_valid``, usually built on
:func:`recheck`), then the next ping. Each beat makes one re-check, bounded by
``RECHECK_TIMEOUT_S``; a re-check that refuses closes the socket with the code of its
refusal (``wsauth.close_for``: 4401, 4403), one that cannot run (Redis or the database
briefly away, or too slow) keeps it until the next beat.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from fastapi import WebSocket
from prometheus_client import Counter

from argus_common import wsauth
from argus_common.errors import ArgusError

PING = '{"type":"ping"}'
# A check is a few indexed reads; past this the database is not answering (the check is
# then treated as one that could not run, and the sender goes on).
RECHECK_TIMEOUT_S = 10.0

T = TypeVar("T")


async def recheck(
    websocket: WebSocket, verify: Callable[[], Awaitable[T]], *, log: Any, event: str,
    refused: Counter | None = None,
) -> tuple[bool, T | None]:
    """Run ``verify`` again. Returns ``(True, result)``; ``(True, None)`` when the check
    could not run (logged as ``event``: the socket is kept, checked again at the next beat);
    ``(False, None)`` once the socket is closed with the code of the refusal (``refused``,
    when given, counts the 4401 ones: the token or its credential no longer holds)."""
    try:
        async with asyncio.timeout(RECHECK_TIMEOUT_S):
            return True, await verify()
    except ArgusError as exc:
        code, reason = wsauth.close_for(exc)
        if refused is not None and code == wsauth.CLOSE_UNAUTHORIZED:
            refused.inc()
        await wsauth.close(websocket, code, reason)
        return False, None
    except Exception as exc:
        log.warning(event, error=type(exc).__name__)
        return True, None


class Heartbeat:
    """The ping state of one socket. ``recheck_first``: at a beat, re-check before the pong
    check (``/ws/alerts``: a revoked token then closes 4401 even when the peer was silent)
    rather than after it (``/ws/wall-display``: a silent page is not re-checked, which would
    mark its monitor seen; ``/ws/analysis``)."""

    def __init__(
        self, websocket: WebSocket, interval: float, *, recheck_first: bool,
        ping: Callable[[], str] = lambda: PING,
    ) -> None:
        self.websocket = websocket
        self.interval = interval
        self.recheck_first = recheck_first
        self.ping = ping  # the ping frame (``/ws/analysis`` has its own envelope)
        self.loop = asyncio.get_running_loop()
        self.last_heard = self.loop.time()
        self.last_ping: float | None = None
        self.next_ping = self.last_heard + interval

    async def receive(
        self, gone: Callable[[], None],
        heard: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> None:
        """Read until the peer goes, noting each frame as an answer (and handing it to
        ``heard``, when given); then call ``gone``."""
        try:
            while True:
                message = await self.websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                self.last_heard = self.loop.time()  # a pong, or anything: the peer is there
                if heard is not None:
                    heard(message)
        except Exception:  # noqa: S110 - any failure to read means the peer is gone
            pass
        gone()

    async def beat(self, now: float, still_valid: Callable[[], Awaitable[bool]]) -> bool:
        """At ping time (``now`` >= ``next_ping``): the pong check, ``still_valid`` (which
        closes the socket when it returns False) and the ping. False once closed."""
        if self.recheck_first and not await still_valid():
            return False
        if self.last_ping is not None and self.last_heard < self.last_ping:
            await wsauth.close(self.websocket, wsauth.CLOSE_PING_TIMEOUT, "no pong")
            return False
        if not self.recheck_first and not await still_valid():
            return False
        self.last_ping = now
        self.next_ping = now + self.interval
        await self.websocket.send_text(self.ping())
        return True
