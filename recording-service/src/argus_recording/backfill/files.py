"""Reading the recorder's own segment files for a backfill: which ones may overlap a range
(by their hour folders), and the first or last bytes of one (the live segments at a gap's
edges: the frames they hold are found there by their bytes)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argus_recording.layout import SEGMENT_NAME

TAIL_BYTES = 8 << 20  # of a live segment at a gap's edge: more than its first or last GOP
_LOOKBACK = timedelta(hours=1, minutes=5)  # a segment starts at most this long before it ends


def read_part(path: Path, tail: bool) -> bytes:
    """The first or last ``TAIL_BYTES`` of a file (empty when it cannot be read)."""
    try:
        with open(path, "rb") as f:
            if tail:
                f.seek(max(0, f.seek(0, os.SEEK_END) - TAIL_BYTES))
            return f.read(TAIL_BYTES)
    except OSError:
        return b""


def files_between(root: Path, camera_id: int, lo: int, hi: int) -> list[str]:
    """Segment files of a camera that may overlap ``[lo, hi)`` (by their hour folders)."""
    out: list[str] = []
    moment = datetime.fromtimestamp(lo / 1000, UTC) - _LOOKBACK
    last = datetime.fromtimestamp(hi / 1000, UTC)
    seen: set[Path] = set()
    for _ in range(24 * 8):
        folder = root / str(camera_id) / f"{moment:%Y-%m-%d}" / f"{moment:%H}"
        if folder not in seen and folder.is_dir():
            seen.add(folder)
            for entry in folder.iterdir():
                if SEGMENT_NAME.match(entry.name):
                    start = int(entry.name.split(".")[0])
                    if lo - _LOOKBACK.total_seconds() * 1000 <= start < hi:
                        out.append(f"{camera_id}/{moment:%Y-%m-%d}/{moment:%H}/{entry.name}")
        if moment > last:
            break
        moment += timedelta(hours=1)
    return out
