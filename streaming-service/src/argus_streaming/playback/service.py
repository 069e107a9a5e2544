"""Playback over WebRTC: ``POST /whep/{camera_id}?start=<ISO-8601>``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi import Request

from argus_common.errors import NotFound
from argus_streaming.auth.dependencies import User, management
from argus_streaming.playback.reader import PlaybackFile, read_units
from argus_streaming.playback.track import PlaybackVideoTrack
from argus_streaming.vod import tiers
from argus_streaming.webrtc.sessions import WhepManager, WhepSession

# How far ahead of ``start`` segments are looked up for one playback session.
LOOKAHEAD = timedelta(hours=6)


async def playback_files(
    request: Request, user: User, camera_id: int, start: datetime
) -> list[PlaybackFile]:
    """Recorded files from ``start`` on, located through management's timeline."""
    refs = await management(request).segments(user.token, camera_id, start, start + LOOKAHEAD)
    files: list[PlaybackFile] = []
    for ref in refs:
        if ref.end <= start:
            continue
        if not files:  # the first one now (a missing one is skipped), the rest when reached
            try:
                files.append(PlaybackFile(
                    await tiers.resolve(request, camera_id, ref.path, ref.tier, ref.object_key),
                    ref.start))
            except NotFound:
                pass
            continue
        files.append(PlaybackFile(tiers.deferred(request, camera_id, ref), ref.start))
    return files


async def start_playback(
    request: Request, user: User, camera_id: int, start: datetime, speed: float, offer: str
) -> tuple[WhepSession, str]:
    """Answer a WHEP offer with recordings of ``camera_id`` from ``start``."""
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    files = await playback_files(request, user, camera_id, start)
    if not files:
        raise NotFound("no recording at or after that time")
    track = PlaybackVideoTrack(read_units(files, start), speed)
    manager: WhepManager = request.app.state.whep
    return await manager.create_playback(camera_id, offer, user, track, cleanup=track.stop)
