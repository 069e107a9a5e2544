"""Instant replay: the segment the recorder is still writing, read up to its last complete
fragment.

The index lists a segment only once it is closed (``SegmentClosed``), so the last minute of
a camera is on disk but not in the timeline. Playback finds it here instead: the newest
segment files of the camera under ``RECORDINGS_DIR`` that start after everything indexed.
No index row is written for an open file, so nothing can purge it and no crash can leave a
wrong row; when it closes the recorder announces it as usual.

The recorder writes fragmented MP4 (a ``moof`` + ``mdat`` per GOP). ``complete_length``
finds where the last complete fragment ends; PyAV reads a view of the file cut there, so a
fragment still being written is never demuxed half.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argus_common.mp4read import file_boxes

_NAME = re.compile(r"^(\d{10,16})\.mp4$")
# How far back of the requested instant an unindexed file may start (a segment's length
# and then some; a longer segment is indexed long before this matters).
LOOKBACK = timedelta(minutes=15)
# Files the index does not list yet are the recorder's newest: the one it is writing and
# those whose announcement is still on its way. Older hours are never scanned, whatever
# instant a request names (a start in year 1 would otherwise walk every hour since).
RECENT = timedelta(hours=2)


def complete_length(path: Path) -> int:
    """Bytes of ``path`` that end with a complete fragment (``mdat``); 0 when none yet."""
    with open(path, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        ends = [box.end for box in file_boxes(fh, size, growing=True) if box.kind == b"mdat"]
    return ends[-1] if ends else 0


class CutFile(io.RawIOBase):
    """A read-only view of the first ``limit`` bytes of a file."""

    def __init__(self, path: Path, limit: int) -> None:
        super().__init__()
        self._fh = open(path, "rb")
        self._limit = limit

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        left = self._limit - self._fh.tell()
        if left <= 0:
            return 0
        view = memoryview(buffer)[: min(len(buffer), left)]
        return self._fh.readinto(view)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_END:
            return self._fh.seek(self._limit + offset)
        return self._fh.seek(offset, whence)

    def tell(self) -> int:
        return self._fh.tell()

    def close(self) -> None:
        self._fh.close()
        super().close()


def _hour_dirs(root: Path, camera_id: int, since: datetime, until: datetime) -> Iterable[Path]:
    hour = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    while hour <= until:
        yield root / str(camera_id) / f"{hour:%Y-%m-%d}" / f"{hour:%H}"
        hour += timedelta(hours=1)


def unindexed_files(
    root: Path, camera_id: int, start: datetime, indexed: set[str], after: datetime | None
) -> list[tuple[str, datetime]]:
    """``(relpath, start)`` of the camera's segment files that the index does not list and
    that start after ``after`` (the end of the last indexed segment) and no earlier than
    ``LOOKBACK`` before ``start``; by start. Blocking: run in a thread."""
    since = start - LOOKBACK
    if after is not None and after > since:
        since = after - timedelta(seconds=1)
    now = datetime.now(UTC)
    since = max(since, now - RECENT)
    found: list[tuple[str, datetime]] = []
    for directory in _hour_dirs(root, camera_id, since, now + timedelta(hours=1)):
        try:
            names = os.listdir(directory)
        except OSError:
            continue
        for name in names:
            match = _NAME.match(name)
            if match is None:
                continue
            rel = f"{directory.relative_to(root).as_posix()}/{name}"
            began = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
            if (
                rel in indexed
                or began < since
                or (after is not None and began < after - timedelta(seconds=1))
            ):
                continue
            found.append((rel, began))
    return sorted(found, key=lambda item: item[1])
