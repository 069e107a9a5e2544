"""Recorded files under ``RECORDINGS_DIR`` (read-only), indexed once per version.

A segment on the object store is indexed from the sidecar the recorder wrote beside it
when it tiered it (``<start-ms>.idx``, ``argus_common.segindex``), with no download; a
segment without one (tiered before sidecars existed, or the sidecar is unreadable) is
fetched into the read-through cache and indexed from there, as before.
"""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from pathlib import Path

from argus_common.errors import NotFound
from argus_common.segindex import index_path, read_index
from argus_streaming.media.mp4 import Mp4Error, Mp4Index, index_file

_PATH = re.compile(r"^\d{1,10}/\d{4}-\d{2}-\d{2}/\d{2}/\d{1,16}\.mp4$")
_CACHE_MAX = 2048


def checked_path(root: Path, rel: str, camera_id: int) -> Path:
    """Where recording ``rel`` of ``camera_id`` lives locally; 404 for anything else.

    Only the recording layout is accepted, so no path a user sends can leave the
    recordings directory or reach another camera's files.
    """
    if not _PATH.match(rel) or rel.split("/", 1)[0] != str(camera_id):
        raise NotFound("no such recording")
    return root / rel


def recording_path(root: Path, rel: str, camera_id: int) -> Path:
    """The local file of a recording path of ``camera_id``; 404 for anything else."""
    path = checked_path(root, rel, camera_id)
    if not path.is_file():
        raise NotFound("recording file is missing")
    return path


class IndexCache:
    """MP4 indexes keyed by (path, size, mtime): a file still growing is re-indexed."""

    def __init__(self) -> None:
        self._items: OrderedDict[tuple[str, int, int], Mp4Index] = OrderedDict()

    async def sidecar(self, segment: Path) -> Mp4Index | None:
        """The index in ``segment``'s sidecar (a tiered segment's), or None: none there, or
        not one this version reads (the caller then indexes the segment itself)."""
        side = index_path(segment)
        try:
            st = await asyncio.to_thread(side.stat)
        except OSError:
            return None
        key = (str(side), st.st_size, st.st_mtime_ns)
        idx = self._items.get(key)
        if idx is None:
            idx = await asyncio.to_thread(read_index, segment)
            if idx is None:
                return None
            self._put(key, idx)
        return idx

    def _put(self, key: tuple[str, int, int], idx: Mp4Index) -> None:
        self._items[key] = idx
        if len(self._items) > _CACHE_MAX:
            self._items.popitem(last=False)

    async def get(self, path: Path) -> Mp4Index | None:
        """The index of ``path`` or None if it is unreadable."""
        try:
            st = await asyncio.to_thread(path.stat)
        except OSError:
            return None
        key = (str(path), st.st_size, st.st_mtime_ns)
        idx = self._items.get(key)
        if idx is None:
            try:
                idx = await asyncio.to_thread(index_file, path)
            except (Mp4Error, OSError, ValueError):
                return None
            self._put(key, idx)
        return idx
