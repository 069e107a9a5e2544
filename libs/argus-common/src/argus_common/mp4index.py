"""An index of a fragmented MP4 file: where its init section ends, where each fragment is.

Only the boxes needed to serve a file as HLS byte ranges are read: ``moov`` (video track
timescale, ``trex`` defaults) and, per ``moof``, ``tfhd``/``tfdt``/``trun`` (start and
duration of the fragment). Sample data is never read. Blocking: call it off the loop.

Streaming's VOD playlists are built from it; the recorder computes the same index when it
tiers a segment and keeps it beside the segment (``argus_common.segindex``), so a playlist
over tiered segments needs no download.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from argus_common.mp4boxes import (
    Mp4Error,
    decode_time,
    field_after_times,
    file_boxes,
    find_all,
    handler_type,
    parse_tfhd,
    parse_trex,
    parse_trun,
)

__all__ = ["Fragment", "Mp4Error", "Mp4Index", "index_file"]

_U32 = struct.Struct(">I")


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


def _video_track(moov: bytes) -> tuple[int, int, int]:
    """``(track id, timescale, trex default duration)`` of the first video track."""
    for ts, te in find_all(moov, [b"trak"]):
        hdlr = find_all(moov, [b"mdia", b"hdlr"], ts, te)
        if not hdlr or handler_type(moov, hdlr[0][0]) != b"vide":
            continue
        tkhd = find_all(moov, [b"tkhd"], ts, te)
        mdhd = find_all(moov, [b"mdia", b"mdhd"], ts, te)
        if not tkhd or not mdhd:
            continue
        track_id = field_after_times(moov, tkhd[0][0])
        timescale = field_after_times(moov, mdhd[0][0])
        default = 0
        for xs, _ in find_all(moov, [b"mvex", b"trex"]):
            tid, trex = parse_trex(moov, xs)
            if tid == track_id:
                default = trex.duration
        return track_id, timescale, default
    raise Mp4Error("no video track")


def _fragment_times(moof: bytes, track_id: int, default: int) -> tuple[int, int] | None:
    """``(baseMediaDecodeTime, duration)`` of the video track in one ``moof``."""
    for ts, te in find_all(moof, [b"traf"]):
        at = find_all(moof, [b"tfhd"], ts, te)
        if not at:
            continue
        tfhd = parse_tfhd(moof, at[0][0])
        if tfhd.track_id != track_id:
            continue
        dur = default if tfhd.duration is None else tfhd.duration
        tfdt = find_all(moof, [b"tfdt"], ts, te)
        base = decode_time(moof, tfdt[0][0]) if tfdt else 0
        total = 0
        for rs, _ in find_all(moof, [b"trun"], ts, te):
            trun = parse_trun(moof, rs)
            if trun.has[0]:  # a duration per sample, the first field of each
                for i in range(trun.count):
                    total += _U32.unpack_from(moof, trun.samples + i * trun.width)[0]
            else:
                total += trun.count * dur
        return base, total
    return None


def index_file(path: Path) -> Mp4Index:
    """Index a fragmented MP4 file; raises ``Mp4Error`` (or ``OSError``) if it cannot.
    A torn tail ends the walk: everything before it is still usable."""
    with path.open("rb") as f:
        try:
            return _index(f)
        except (struct.error, IndexError):
            # A field past the end of its box's buffer: a box shorter than its flags say.
            raise Mp4Error("malformed box") from None


def _index(f: BinaryIO) -> Mp4Index:
    fragments: list[Fragment] = []
    init_size = 0
    track: tuple[int, int, int] | None = None
    total = f.seek(0, 2)
    moof: tuple[int, bytes] | None = None
    for box in file_boxes(f, total):
        if box.kind == b"moov":
            f.seek(box.start + box.header)
            track = _video_track(f.read(box.size - box.header))
            init_size = box.end
        elif box.kind == b"moof":
            f.seek(box.start + box.header)
            moof = (box.start, f.read(box.size - box.header))
        elif box.kind == b"mdat" and moof is not None and track is not None:
            times = _fragment_times(moof[1], track[0], track[2])
            if times is not None:
                fragments.append(Fragment(moof[0], box.end - moof[0], *times))
            moof = None
    if track is None:
        raise Mp4Error("no moov box")
    return Mp4Index(init_size=init_size, timescale=track[1], fragments=fragments)
