"""HLS for recordings: ``GET /vod/{camera_id}/index.m3u8?start=&end=`` over segment files.

The playlist needs the user's bearer token (hls.js: ``xhrSetup``), because the segments
come from management's timeline with the user's own rights. File URLs in it carry a media
ticket (``auth/tickets.py``) of that user for that camera, time range and exactly the files
listed, so the player fetches them without headers.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path as FsPath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse

from argus_common.errors import NotFound, Unprocessable
from argus_streaming import audit
from argus_streaming.auth.caps import ensure_capacity, tickets
from argus_streaming.auth.dependencies import CurrentUser, check_camera, management
from argus_streaming.cameras.client import SegmentRef
from argus_streaming.instants import utc_instant
from argus_streaming.playback.tail import unindexed_files
from argus_streaming.responses import MANAGEMENT_DOWN
from argus_streaming.vod import tiers
from argus_streaming.vod.files import IndexCache, checked_path
from argus_streaming.vod.playlist import IndexedSegment, build_playlist

router = APIRouter()
CameraId = Annotated[int, Path(ge=1, le=2**31 - 1)]
MAX_WINDOW = timedelta(days=7)


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _cache(request: Request) -> IndexCache:
    cache = getattr(request.app.state, "vod_index", None)
    if cache is None:
        cache = request.app.state.vod_index = IndexCache()
    return cache


@router.get("/vod/{camera_id}/index.m3u8", responses=MANAGEMENT_DOWN)
async def vod_playlist(
    request: Request,
    camera_id: CameraId,
    user: CurrentUser,
    start: Annotated[datetime, Query()],
    end: Annotated[datetime, Query()],
) -> Response:
    """An fMP4 HLS playlist of the recordings between ``start`` and ``end``."""
    start, end = utc_instant(start, "start"), utc_instant(end, "end")
    if end <= start or end - start > MAX_WINDOW:
        raise Unprocessable("end must come after start, at most 7 days later")
    await check_camera(request, user, camera_id)
    refs = await management(request).segments(user.token, camera_id, start, end)
    cache = _cache(request)
    gate = asyncio.Semaphore(4)
    root = FsPath(request.app.state.settings.recordings_dir)

    async def index(ref: SegmentRef) -> IndexedSegment | None:
        async with gate:
            if ref.tier == "object":  # the index the recorder kept when it tiered it
                try:
                    idx = await cache.sidecar(checked_path(root, ref.path, camera_id))
                except NotFound:
                    return None
                if idx is not None:
                    return IndexedSegment(ref.path, _utc(ref.start), idx)
            try:  # else a tiered segment is fetched into the read-through cache here
                path = await tiers.resolve(request, camera_id, ref.path, ref.tier,
                                           ref.object_key)
            except NotFound:
                return None
            idx = await cache.get(path)
        return IndexedSegment(ref.path, _utc(ref.start), idx) if idx is not None else None

    indexed = [s for s in await asyncio.gather(*(index(r) for r in refs)) if s is not None]
    indexed += await _growing(request, cache, camera_id, start, end, refs)
    if not indexed:
        raise NotFound("no recordings in that time range")
    ticket = tickets(request).issue(
        "vod", user, camera_id, start=start, end=end, paths=[s.path for s in indexed],
        before_new=lambda: ensure_capacity(request, user.sub))
    audit.ticket_used(request, ticket)
    text = build_playlist(indexed, start, end,
                          lambda p: f"/vod/{camera_id}/files/{p}?token={ticket.id}")
    return Response(text, media_type="application/vnd.apple.mpegurl",
                    headers={"Cache-Control": "no-store"})


async def _growing(request: Request, cache: IndexCache, camera_id: int, start: datetime,
                   end: datetime, refs: list[SegmentRef]) -> list[IndexedSegment]:
    """What the recorder wrote after the last indexed segment (the open segment, up to its
    last complete fragment: ``index_file`` stops at a torn tail), as instant replay reads
    it. The playlist is a snapshot (``#EXT-X-ENDLIST``): it reaches the last fragment
    written when it was asked for; WHEP playback follows the file as it grows."""
    root = FsPath(request.app.state.settings.recordings_dir)
    after = max((ref.end for ref in refs), default=None)
    tail = await asyncio.to_thread(unindexed_files, root, camera_id, start,
                                   {ref.path for ref in refs}, after)
    out = []
    for rel, began in tail:
        if began >= end:
            continue
        idx = await cache.get(root / rel)
        if idx is not None:
            out.append(IndexedSegment(rel, began, idx))
    return out


@router.get("/vod/{camera_id}/files/{path:path}")
async def vod_file(
    request: Request,
    camera_id: CameraId,
    path: Annotated[str, Path(max_length=256)],
    token: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """A recorded file (byte ranges supported), for URLs of a VOD playlist."""
    ticket = tickets(request).use(token, "vod")
    if ticket.camera_id != camera_id or path not in ticket.paths:
        raise NotFound("no such recording")
    audit.ticket_used(request, ticket)
    ranged = await tiers.ranged_object(request, camera_id, path)
    if ranged is not None:  # a tiered recording no longer in the cache: the range alone
        return ranged
    file = await tiers.resolve(request, camera_id, path)
    return FileResponse(file, media_type="video/mp4", headers={"Cache-Control": "private"})
