"""Playback over WebRTC: ``POST /whep/{camera_id}?start=<ISO-8601>``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import Request

from argus_common.errors import NotFound
from argus_streaming.auth.dependencies import User, management
from argus_streaming.playback.reader import PlaybackFile, read_units
from argus_streaming.playback.tail import unindexed_files
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
                files.append(PlaybackFile(await tiers.playable(request, camera_id, ref),
                                          ref.start))
            except NotFound:
                pass
            continue
        files.append(PlaybackFile(tiers.deferred(request, camera_id, ref), ref.start))
    # Instant replay: what the recorder wrote after the last indexed segment (the open
    # segment, and any closed one not announced yet) is read from its files directly.
    root = Path(request.app.state.settings.recordings_dir)
    indexed = {ref.path for ref in refs}
    after = max((ref.end for ref in refs), default=None)
    tail = await asyncio.to_thread(unindexed_files, root, camera_id, start, indexed, after)
    for n, (rel, began) in enumerate(tail):
        following = n + 1 < len(tail) and tail[n + 1][1] <= start
        if following:
            continue  # a later file starts before the requested instant
        files.append(PlaybackFile(root / rel, began, growing=True))
    return files


def live_edge(request: Request, camera_id: int) -> Callable[[datetime], list[PlaybackFile]]:
    """``more`` for ``read_units``: the recorder's files that started after a given one
    (the next segment once the open one closes); blocking, for the playback thread."""
    root = Path(request.app.state.settings.recordings_dir)

    def more(after: datetime) -> list[PlaybackFile]:
        found = unindexed_files(root, camera_id, after, set(), after)
        return [PlaybackFile(root / rel, began, growing=True)
                for rel, began in found if began > after]

    return more


async def start_playback(
    request: Request, user: User, camera_id: int, start: datetime, speed: float, offer: str
) -> tuple[WhepSession, str]:
    """Answer a WHEP offer with recordings of ``camera_id`` from ``start``."""
    start = start.replace(tzinfo=UTC) if start.tzinfo is None else start.astimezone(UTC)
    files = await playback_files(request, user, camera_id, start)
    if not files:
        raise NotFound("no recording at or after that time")
    track = PlaybackVideoTrack(read_units(files, start, live_edge(request, camera_id)), speed)
    manager: WhepManager = request.app.state.whep
    return await manager.create_playback(camera_id, offer, user, track, cleanup=track.stop)
