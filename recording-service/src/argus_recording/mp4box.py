"""A small walker over the top-level boxes of a fragmented MP4, to find a torn tail.

A segment is ``ftyp`` ``moov`` then ``moof``+``mdat`` pairs (one per GOP) and, when it
was closed cleanly, an ``mfra`` index. A process killed mid-write leaves a last box cut
short or a ``moof`` without its ``mdat``; everything up to the end of the last complete
pair still plays.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

_HEADER = struct.Struct(">I4s")
_LARGE = struct.Struct(">Q")


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
    clean = True
    with path.open("rb") as f:
        offset = 0
        while offset < size:
            f.seek(offset)
            head = f.read(8)
            if len(head) < 8:
                clean = False
                break
            box_size, raw_type = _HEADER.unpack(head)
            header = 8
            if box_size == 1:
                large = f.read(8)
                if len(large) < 8:
                    clean = False
                    break
                box_size = _LARGE.unpack(large)[0]
                header = 16
            elif box_size == 0:
                box_size = size - offset  # extends to the end of the file
            if box_size < header or offset + box_size > size:
                clean = False
                break
            kind = raw_type.decode("latin-1")
            end = offset + box_size
            if kind == "ftyp":
                has_ftyp = True
            elif kind == "moov":
                has_moov = has_ftyp
                if has_moov and fragments == 0:
                    valid_end = end
            elif kind == "moof":
                moof_open = True
            elif kind == "mdat":
                if moof_open and has_moov:
                    fragments += 1
                    valid_end = end
                moof_open = False
            elif kind == "mfra" and not moof_open and fragments:
                valid_end = end
            offset = end
    if moof_open:
        clean = False
    return Mp4Layout(
        size=size, has_header=has_ftyp and has_moov, fragments=fragments,
        valid_end=valid_end if has_ftyp and has_moov else 0, clean=clean,
    )
