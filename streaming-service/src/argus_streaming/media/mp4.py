"""An index of a fragmented MP4 file: where its init section ends, where each fragment is.

Only the boxes needed to serve a file as HLS byte ranges are read: ``moov`` (video track
timescale, ``trex`` defaults) and, per ``moof``, ``tfhd``/``tfdt``/``trun`` (start and
duration of the fragment). Sample data is never read. Blocking: call it off the loop.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from argus_common.mp4read import file_boxes

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"mvex", b"moof", b"traf"}


class Mp4Error(ValueError):
    """The file is not a fragmented MP4 we can index."""


@dataclass
class Fragment:
    """One ``moof`` + ``mdat`` pair (a GOP, as the recorder writes them)."""

    offset: int
    size: int
    start: int  # baseMediaDecodeTime, in timescale units
    duration: int

    def end(self) -> int:
        return self.start + self.duration


@dataclass
class Mp4Index:
    """Init section length, timescale and fragments of one file."""

    init_size: int
    timescale: int
    fragments: list[Fragment] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        if not self.fragments:
            return 0.0
        return (self.fragments[-1].end() - self.fragments[0].start) / self.timescale


def _boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int]]:
    """``(type, payload start, box end)`` of the boxes inside ``data[start:end]``."""
    end = len(data) if end is None else end
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = struct.unpack_from(">Q", data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _find(data: bytes, path: list[bytes], start: int = 0, end: int | None = None
          ) -> list[tuple[int, int]]:
    """Payload ranges of every box at ``path`` (e.g. ``[b"trak", b"mdia", b"mdhd"]``)."""
    found = []
    for kind, s, e in _boxes(data, start, end):
        if kind != path[0]:
            continue
        if len(path) == 1:
            found.append((s, e))
        elif kind in _CONTAINERS:
            found += _find(data, path[1:], s, e)
    return found


def _video_track(moov: bytes) -> tuple[int, int, int]:
    """``(track id, timescale, trex default duration)`` of the first video track."""
    for ts, te in _find(moov, [b"trak"]):
        hdlr = _find(moov, [b"mdia", b"hdlr"], ts, te)
        if not hdlr or moov[hdlr[0][0] + 8 : hdlr[0][0] + 12] != b"vide":
            continue
        tkhd = _find(moov, [b"tkhd"], ts, te)
        mdhd = _find(moov, [b"mdia", b"mdhd"], ts, te)
        if not tkhd or not mdhd:
            continue
        t0 = tkhd[0][0]
        track_id = struct.unpack_from(">I", moov, t0 + (20 if moov[t0] == 1 else 12))[0]
        m0 = mdhd[0][0]
        timescale = struct.unpack_from(">I", moov, m0 + (20 if moov[m0] == 1 else 12))[0]
        default = 0
        for xs, _ in _find(moov, [b"mvex", b"trex"]):
            if struct.unpack_from(">I", moov, xs + 4)[0] == track_id:
                default = struct.unpack_from(">I", moov, xs + 12)[0]
        return track_id, timescale, default
    raise Mp4Error("no video track")


def _fragment_times(moof: bytes, track_id: int, default: int) -> tuple[int, int] | None:
    """``(baseMediaDecodeTime, duration)`` of the video track in one ``moof``."""
    for ts, te in _find(moof, [b"traf"]):
        tfhd = _find(moof, [b"tfhd"], ts, te)
        if not tfhd:
            continue
        h = tfhd[0][0]
        flags = int.from_bytes(moof[h + 1 : h + 4], "big")
        if struct.unpack_from(">I", moof, h + 4)[0] != track_id:
            continue
        pos = h + 8
        dur = default
        if flags & 0x01:
            pos += 8
        if flags & 0x02:
            pos += 4
        if flags & 0x08:
            dur = struct.unpack_from(">I", moof, pos)[0]
        base = 0
        tfdt = _find(moof, [b"tfdt"], ts, te)
        if tfdt:
            d = tfdt[0][0]
            base = (struct.unpack_from(">Q", moof, d + 4)[0] if moof[d] == 1
                    else struct.unpack_from(">I", moof, d + 4)[0])
        total = 0
        for rs, _ in _find(moof, [b"trun"], ts, te):
            rflags = int.from_bytes(moof[rs + 1 : rs + 4], "big")
            count = struct.unpack_from(">I", moof, rs + 4)[0]
            p = rs + 8 + (4 if rflags & 0x01 else 0) + (4 if rflags & 0x04 else 0)
            per = 4 * sum(1 for bit in (0x100, 0x200, 0x400, 0x800) if rflags & bit)
            if rflags & 0x100:
                for i in range(count):
                    total += struct.unpack_from(">I", moof, p + i * per)[0]
            else:
                total += count * dur
        return base, total
    return None


def index_file(path: Path) -> Mp4Index:
    """Index a fragmented MP4 file; raises ``Mp4Error`` (or ``OSError``) if it cannot.
    A torn tail ends the walk: everything before it is still usable."""
    fragments: list[Fragment] = []
    init_size = 0
    track: tuple[int, int, int] | None = None
    with path.open("rb") as f:
        total = f.seek(0, 2)
        moof: tuple[int, bytes] | None = None
        for box in file_boxes(f, total):
            if box.kind == b"moov":
                f.seek(box.start)
                moov = f.read(box.size)
                track = _video_track(moov[8:])
                init_size = box.end
            elif box.kind == b"moof":
                f.seek(box.start)
                moof = (box.start, f.read(box.size))
            elif box.kind == b"mdat" and moof is not None and track is not None:
                times = _fragment_times(moof[1][8:], track[0], track[2])
                if times is not None:
                    fragments.append(Fragment(moof[0], box.end - moof[0], *times))
                moof = None
    if track is None:
        raise Mp4Error("no moov box")
    return Mp4Index(init_size=init_size, timescale=track[1], fragments=fragments)
