"""Per-user cap on what one user holds at once: WHEP sessions (live and playback) plus HLS
and VOD tickets. One viewer must not take a camera's viewer limit or the published ICE
ports alone; beyond ``STREAMING_MAX_SESSIONS_PER_USER`` a new one is a 429."""

from __future__ import annotations

from fastapi import Request

from argus_common.errors import TooManyRequests
from argus_streaming.auth.tickets import MediaTickets


def tickets(request: Request) -> MediaTickets:
    """The app's media tickets."""
    registry: MediaTickets = request.app.state.tickets
    return registry


def held(request: Request, user_sub: str) -> int:
    """Sessions and tickets ``user_sub`` holds now."""
    whep = request.app.state.whep
    return int(whep.count_user(user_sub)) + tickets(request).count(user_sub)


def ensure_capacity(request: Request, user_sub: str) -> None:
    """429 when ``user_sub`` already holds the most sessions a user may."""
    limit = request.app.state.settings.max_sessions_per_user
    if held(request, user_sub) >= limit:
        raise TooManyRequests(
            f"too many open video sessions for this user (at most {limit}); "
            "close one first")
