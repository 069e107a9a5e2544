"""A small walker over the top-level boxes of a fragmented MP4, to find a torn tail.

A segment is ``ftyp`` ``moov`` then ``moof``+``mdat`` pairs (one per GOP) and, when it
was closed cleanly, an ``mfra`` index. A process killed mid-write leaves a last box cut
short or a ``moof`` without its ``mdat``; everything up to the end of the last complete
pair still plays.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from argus_common.mp4read import file_boxes


@dataclass(frozen=True)
class Mp4Layout:
    """What the walk found. ``valid_end`` is where a playable file ends."""

    size: int
    has_header: bool  # ftyp and moov complete, before any fragment
    fragments: int  # complete moof+mdat pairs
    valid_end: int
    clean: bool  # every byte belongs to a complete box, fragments pair up

    @property
    def playable(self) -> bool:
        return self.has_header and self.fragments > 0

    @property
    def torn(self) -> bool:
        return self.valid_end < self.size


def walk(path: Path) -> Mp4Layout:
    """Walk the top-level boxes of ``path`` without reading their payloads."""
    size = path.stat().st_size
    has_ftyp = has_moov = False
    fragments = 0
    valid_end = 0
    moof_open = False
    walked = 0  # where the last complete box ends
    with path.open("rb") as f:
        for box in file_boxes(f, size):
            walked = box.end
            if box.kind == b"ftyp":
                has_ftyp = True
            elif box.kind == b"moov":
                has_moov = has_ftyp
                if has_moov and fragments == 0:
                    valid_end = box.end
            elif box.kind == b"moof":
                moof_open = True
            elif box.kind == b"mdat":
                if moof_open and has_moov:
                    fragments += 1
                    valid_end = box.end
                moof_open = False
            elif box.kind == b"mfra" and not moof_open and fragments:
                valid_end = box.end
    return Mp4Layout(
        size=size, has_header=has_ftyp and has_moov, fragments=fragments,
        valid_end=valid_end if has_ftyp and has_moov else 0,
        clean=walked == size and not moof_open,
    )
