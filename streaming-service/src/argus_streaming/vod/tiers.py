"""Recorded segments from either tier: local files, or objects read through the cache.

The timeline says where each segment lives (``tier``, ``object_key``). Local segments are
files under ``RECORDINGS_DIR``; tiered ones are fetched with ranged GETs into the
read-through cache (``argus_common.objectstore``) on first use and played from there, so
PyAV, the VOD index and ``FileResponse`` (byte ranges) read a local file either way.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from fastapi import Request

from argus_common.errors import NotFound
from argus_common.objectstore import SegmentFiles, object_key
from argus_streaming.cameras.client import SegmentRef
from argus_streaming.vod.files import checked_path

# How long a playback thread waits for one object to arrive in the cache.
FETCH_TIMEOUT_S = 120.0


def segment_files(request: Request) -> SegmentFiles:
    """The service's resolver (one per app, made on first use)."""
    files: SegmentFiles | None = getattr(request.app.state, "segment_files", None)
    if files is None:
        root = Path(request.app.state.settings.recordings_dir)
        files = request.app.state.segment_files = SegmentFiles(root)
    return files


async def resolve(
    request: Request, camera_id: int, rel: str, tier: str | None = None, key: str | None = None
) -> Path:
    """A local file of recording ``rel`` of ``camera_id``; 404 when neither tier has it.
    Without the timeline's word (VOD file URLs) a missing local file is looked for on the
    store under the configured prefix."""
    files = segment_files(request)
    path = checked_path(files.root, rel, camera_id)
    if tier is None:
        local = await asyncio.to_thread(path.is_file)
        tier = "local" if local or not files.settings.enabled else "object"
    if tier == "object" and not key:
        key = object_key(files.settings.prefix, rel)
    found = await files.local_path(path, tier, key)
    if found is None:
        raise NotFound("recording file is missing")
    return found


def deferred(request: Request, camera_id: int, ref: SegmentRef) -> Callable[[], Path | None]:
    """A blocking call for a playback thread: the segment's local file (fetched from the
    store on the service's loop when needed), or None."""
    loop = asyncio.get_running_loop()

    def fetch() -> Path | None:
        future = asyncio.run_coroutine_threadsafe(
            resolve(request, camera_id, ref.path, ref.tier, ref.object_key), loop
        )
        try:
            return future.result(FETCH_TIMEOUT_S)
        except Exception:
            future.cancel()
            return None

    return fetch
