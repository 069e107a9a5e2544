"""Where segments live, and the fsyncs that make files and directories durable.

``RECORDINGS_DIR/<camera_id>/<YYYY-MM-DD>/<HH>/<start-epoch-ms>.mp4`` (UTC).
"""

from __future__ import annotations

import os
import posixpath
import re
from datetime import UTC, datetime
from pathlib import Path

from argus_common.outbox import fsync_dir as fsync_dir  # the one definition; re-exported
from argus_recording.fencing import LIVE

SEGMENT_NAME = re.compile(r"^(\d{10,16})\.mp4$")


def segment_relpath(camera_id: int, start_ms: int) -> str:
    """The path of a segment relative to ``RECORDINGS_DIR``."""
    when = datetime.fromtimestamp(start_ms / 1000, UTC)
    return f"{camera_id}/{when:%Y-%m-%d}/{when:%H}/{start_ms}.mp4"


def start_ms_of(relpath: str) -> int | None:
    """The start time encoded in a segment's file name."""
    match = SEGMENT_NAME.match(posixpath.basename(relpath))
    return int(match.group(1)) if match else None


def safe_path(root: Path, relpath: str) -> Path:
    """``root / relpath``, refusing anything that would leave ``root`` (paths from the
    index are data; they never get to name arbitrary files)."""
    norm = posixpath.normpath(relpath)
    if (
        norm != relpath or norm.startswith(("/", "../")) or norm == ".." or "\x00" in norm
        or "\\" in norm or not SEGMENT_NAME.match(posixpath.basename(norm))
    ):
        raise ValueError(f"not a segment path: {relpath!r}")
    return root / norm


def fsync_file(path: Path) -> None:
    """Flush a file's data and metadata to the device."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)




class DirMaker:
    """Creates segment directories, fsyncing each parent that gained an entry. Remembers
    what exists so a segment costs no extra syscalls (one per thread: not shared)."""

    def __init__(self, root: Path, durable: bool) -> None:
        self.root = root
        self.durable = durable
        self._known: set[Path] = set()

    def ensure(self, directory: Path, *, recheck: bool = False) -> None:
        """Create ``directory`` and missing parents (``recheck``: do not trust the cache,
        retention may have pruned it)."""
        if recheck:
            self._known.discard(directory)
        if directory in self._known:
            return
        missing = []
        current = directory
        while current != self.root and not current.exists():
            missing.append(current)
            current = current.parent
        for path in reversed(missing):
            path.mkdir(exist_ok=True)
            if self.durable:
                fsync_dir(path.parent)
        if len(self._known) > 10_000:
            self._known.clear()
        self._known.add(directory)

    def new_segment(self, camera_id: int, wall_ms: float) -> tuple[int, str]:
        """``(start_ms, relpath)`` of a new segment starting at ``wall_ms``, its directory
        created and its path listed in ``fencing.LIVE`` (the writer's close removes it); a
        reconnect within the same millisecond moves the start on by one."""
        start_ms = round(wall_ms)
        relpath = segment_relpath(camera_id, start_ms)
        self.ensure((self.root / relpath).parent)
        while (self.root / relpath).exists() or relpath in LIVE:
            start_ms += 1
            relpath = segment_relpath(camera_id, start_ms)
        # Listed as live before the file exists: a reconcile never sees it unlisted.
        LIVE.add(relpath)
        return start_ms, relpath


def list_segments(root: Path, camera_id: int) -> set[str]:
    """Relative paths of every segment file of a camera on disk."""
    found: set[str] = set()
    cam_dir = root / str(camera_id)
    if not cam_dir.is_dir():
        return found
    for day in os.scandir(cam_dir):
        if not day.is_dir():
            continue
        for hour in os.scandir(day.path):
            if not hour.is_dir():
                continue
            for entry in os.scandir(hour.path):
                if entry.is_file() and SEGMENT_NAME.match(entry.name):
                    found.add(f"{camera_id}/{day.name}/{hour.name}/{entry.name}")
    return found
