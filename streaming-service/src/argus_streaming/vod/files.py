"""Recorded files under ``RECORDINGS_DIR`` (read-only), indexed once per version."""

from __future__ import annotations

import asyncio
import re
from collections import OrderedDict
from pathlib import Path

from argus_common.errors import NotFound
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
            self._items[key] = idx
            if len(self._items) > _CACHE_MAX:
                self._items.popitem(last=False)
        return idx
