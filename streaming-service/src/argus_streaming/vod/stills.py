"""Timeline preview stills: ``GET /vod/{camera_id}/still?at=`` → the nearest keyframe still.

The recorder leaves small JPEGs beside each closed segment (``argus_common.stills``); this
route finds the segments around ``at`` through management's timeline with the user's own
rights (so a camera or range the user may not see gives nothing) and answers the still
nearest ``at``, within ``REACH``. Stills stay on the recorder's disk when a segment moves
to the object store, so tiered recordings keep theirs; where none is on this host's disk
(recorded elsewhere, older than the stills, or the segment still open) the answer is a
404 that says so, and the console shows no picture.

Audit: hovering sends many requests, so they are one ``snapshot`` viewing session per
user and camera, ended after the media-ticket idle time without a request (``audit.py``).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse

from argus_common.errors import NotFound
from argus_common.stills import stills_of
from argus_streaming import audit
from argus_streaming.auth.dependencies import CurrentUser, check_camera, management
from argus_streaming.cameras.client import SegmentRef
from argus_streaming.instants import utc_instant
from argus_streaming.responses import MANAGEMENT_DOWN
from argus_streaming.vod.files import checked_path
from argus_streaming.vod.router import CameraId

router = APIRouter()
# How far from ``at`` a still may be (a segment has one every RECORDING_STILL_INTERVAL_S).
REACH = timedelta(seconds=60)
AUDIT_KEY = "still:"


def nearest_still(
    root: Path, camera_id: int, refs: list[SegmentRef], at: datetime
) -> tuple[Path, datetime] | None:
    """The still of ``refs`` nearest ``at`` within ``REACH``, with its instant. Blocking."""
    best: tuple[float, Path, datetime] | None = None
    for ref in refs:
        try:
            segment = checked_path(root, ref.path, camera_id)
        except NotFound:
            continue
        for offset_ms, path in stills_of(segment):
            when = ref.start + timedelta(milliseconds=offset_ms)
            distance = abs((when - at).total_seconds())
            if distance <= REACH.total_seconds() and (best is None or distance < best[0]):
                best = (distance, path, when)
    return None if best is None else (best[1], best[2])


@router.get(
    "/vod/{camera_id}/still",
    responses={
        **MANAGEMENT_DOWN,
        200: {
            "content": {"image/jpeg": {}},
            "description": "the still (JPEG); its instant in ``X-Still-Time``",
        },
    },
    response_class=Response,
)
async def get_still(
    request: Request,
    camera_id: CameraId,
    user: CurrentUser,
    at: Annotated[datetime, Query(description="the instant to preview (ISO-8601)")],
) -> Response:
    """The preview still (a small JPEG of a keyframe) of the recording nearest ``at``."""
    at = utc_instant(at, "at")
    await check_camera(request, user, camera_id)
    refs = await management(request).segments(user.token, camera_id, at - REACH, at + REACH)
    root = Path(request.app.state.settings.recordings_dir)
    found = await asyncio.to_thread(nearest_still, root, camera_id, refs, at)
    if found is None:
        raise NotFound(
            "no preview still near that time (none is made until a segment "
            "closes, and none exists for recordings made before stills were)"
        )
    reporter = audit.of(request)
    if reporter is not None:
        reporter.begin(
            "snapshot",
            camera_id,
            user.sub,
            request,
            range_start=at,
            key=f"{AUDIT_KEY}{user.sub}:{camera_id}",
        )
    path, when = found
    return FileResponse(
        path,
        media_type="image/jpeg",
        headers={
            "Cache-Control": "private, max-age=3600",
            "X-Still-Time": when.isoformat(timespec="milliseconds"),
        },
    )
