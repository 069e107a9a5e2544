"""Recorded segments from either tier: local files, or objects read through the cache.

The timeline says where each segment lives (``tier``, ``object_key``). Local segments are
files under ``RECORDINGS_DIR``; tiered ones are fetched with ranged GETs into the
read-through cache (``argus_common.objectstore``) on first use and played from there, so
PyAV, the VOD index and ``FileResponse`` (byte ranges) read a local file either way. A
byte range a VOD player asks for of a tiered recording that is not in the cache (evicted
since its playlist was made: a long window of tiered footage outgrows the cache) is one
ranged GET (:func:`ranged_object`), not a fetch of the whole object again; a VOD playlist
made from the segments' sidecars (``argus_common.segindex``) never put them in the cache,
so its byte ranges all come this way, and the object's size comes from the sidecar too
(no HEAD per range). WHEP playback of a tiered segment with a sidecar fetches only the
fragments from the requested instant on (:func:`playable`, ``playback/ranged.py``).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

from fastapi import Request, Response

from argus_common.errors import NotFound
from argus_common.objectstore import ObjectStoreError, SegmentFiles, object_key
from argus_common.segindex import read_sidecar
from argus_streaming.cameras.client import SegmentRef
from argus_streaming.playback.ranged import RangedSegment
from argus_streaming.vod.files import checked_path

# How long a playback thread waits for one object to arrive in the cache.
FETCH_TIMEOUT_S = 120.0
# A single byte range up to this size is passed through from the store (a fragment is a
# GOP: well under it); anything else is served from the cached file.
MAX_RANGE_BYTES = 64 * 2**20
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")
# Playback of a tiered segment with a valid sidecar reads only what it plays (ranged
# GETs); off, it fetches the whole object into the read-through cache first.
RANGED_PLAYBACK = True


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


async def ranged(request: Request, camera_id: int, ref: SegmentRef) -> RangedSegment | None:
    """The segment as ranged reads of its object when it is only on the store, has a
    valid sidecar and is not in the read-through cache; None: read a file instead."""
    files = segment_files(request)
    if not RANGED_PLAYBACK or ref.tier != "object" or not ref.object_key:
        return None
    if not files.settings.enabled:
        return None
    path = checked_path(files.root, ref.path, camera_id)
    if await asyncio.to_thread(path.is_file):
        return None  # the recorder has not removed its local copy yet
    sidecar = await asyncio.to_thread(read_sidecar, path)
    if sidecar is None or not sidecar.index.fragments:
        return None
    try:
        if await files.held("object", ref.object_key, sidecar.file_size) is not None:
            return None
    except ObjectStoreError:
        return None
    return RangedSegment(ref.object_key, sidecar, files.read_range, asyncio.get_running_loop())


async def playable(request: Request, camera_id: int, ref: SegmentRef) -> Path | RangedSegment:
    """What playback reads of a segment: ranged reads of a tiered one with a sidecar,
    else a local file (:func:`resolve`; 404 when neither tier has it)."""
    found = await ranged(request, camera_id, ref)
    if found is not None:
        return found
    return await resolve(request, camera_id, ref.path, ref.tier, ref.object_key)


def deferred(
    request: Request, camera_id: int, ref: SegmentRef
) -> Callable[[], Path | RangedSegment | None]:
    """A blocking call for a playback thread: what it reads of the segment
    (:func:`playable`, on the service's loop when reached), or None."""
    loop = asyncio.get_running_loop()

    def fetch() -> Path | RangedSegment | None:
        future = asyncio.run_coroutine_threadsafe(playable(request, camera_id, ref), loop)
        try:
            return future.result(FETCH_TIMEOUT_S)
        except Exception:
            future.cancel()
            return None

    return fetch


def _byte_range(header: str | None, size: int) -> tuple[int, int] | None:
    """One satisfiable ``Range: bytes=`` range of an object of ``size`` bytes, or None."""
    match = _RANGE.match((header or "").strip())
    if match is None or size <= 0:
        return None
    first_s, last_s = match.groups()
    if first_s:
        first = int(first_s)
        last = min(int(last_s), size - 1) if last_s else size - 1
    elif last_s:
        first, last = max(0, size - int(last_s)), size - 1
    else:
        return None
    if first > last or first >= size or last - first + 1 > MAX_RANGE_BYTES:
        return None
    return first, last


async def _object_size(files: SegmentFiles, path: Path, key: str) -> int | None:
    """The object's size: from the sidecar the recorder wrote when it uploaded the same
    file, else a HEAD (None: no such object)."""
    sidecar = await asyncio.to_thread(read_sidecar, path)
    if sidecar is not None:
        return sidecar.file_size
    info = await files.head(key)
    return info.size if info is not None else None


async def ranged_object(request: Request, camera_id: int, rel: str) -> Response | None:
    """A 206 of the one byte range asked for, straight from the store, when recording
    ``rel`` is only there (no local file, not in the cache); None: serve the file."""
    files = segment_files(request)
    path = checked_path(files.root, rel, camera_id)
    header = request.headers.get("range")
    if not header or not files.settings.enabled or await asyncio.to_thread(path.is_file):
        return None
    key = object_key(files.settings.prefix, rel)
    try:
        if await files.held("object", key) is not None:
            return None
        size = await _object_size(files, path, key)
        span = _byte_range(header, size) if size is not None else None
        if size is None or span is None:
            return None
        data = await files.read_range(key, *span)
    except ObjectStoreError:
        return None
    return Response(
        data,
        status_code=206,
        media_type="video/mp4",
        headers={
            "Content-Range": f"bytes {span[0]}-{span[1]}/{size}",
            "Accept-Ranges": "bytes",
            "Cache-Control": "private",
        },
    )
