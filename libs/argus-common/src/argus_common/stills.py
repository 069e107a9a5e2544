"""Preview stills beside segment files: the names both the recorder and streaming use.

A segment ``<start-ms>.mp4`` has its stills in the same directory as
``<start-ms>.t<offset-ms>.jpg``, one per keyframe at least ``interval`` apart, where
``offset-ms`` is the keyframe's distance from the segment's start. Retention deletes them
with the segment; nothing indexes them, a directory listing finds them.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

STILL_NAME = re.compile(r"^(\d{1,16})\.t(\d{1,9})\.jpg$")


def still_name(segment: str | Path, offset_ms: int) -> str:
    """The file name of the still ``offset_ms`` into ``segment`` (a path or a name)."""
    return f"{Path(segment).stem}.t{max(0, int(offset_ms))}.jpg"


def stills_of(segment: Path) -> list[tuple[int, Path]]:
    """``(offset_ms, path)`` of the stills of the segment file ``segment``, by offset."""
    stem = segment.stem
    found: list[tuple[int, Path]] = []
    try:
        names = os.listdir(segment.parent)
    except OSError:
        return found
    for name in names:
        match = STILL_NAME.match(name)
        if match is not None and match.group(1) == stem:
            found.append((int(match.group(2)), segment.parent / name))
    return sorted(found)


def remove_stills(segment: Path) -> int:
    """Unlink the stills of ``segment`` (before the segment itself, so a crash in between
    leaves a segment to delete again, never an orphan still); returns how many went."""
    gone = 0
    for _, path in stills_of(segment):
        try:
            os.unlink(path)
            gone += 1
        except FileNotFoundError:
            pass
    return gone
