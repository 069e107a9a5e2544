"""Reading the sample tables of a fragmented MP4 segment without touching the samples.

A segment is ``ftyp`` + ``moov`` (sample entries, no samples) and ``moof`` + ``mdat``
pairs, written by the recorder's own writer (``argus_common.fmp4``) or by FFmpeg
(``frag_keyframe+empty_moov+default_base_moof``). Only the ``moov`` and the ``moof`` boxes
are read: for an hour of 4 Mbit/s video that is a few MB of a 1.8 GB file, so an export
reads each sample byte exactly once, when it copies it.

Every field of ``tfhd``/``trun`` that ISO/IEC 14496-12 allows is honoured (defaults from
``trex``, base data offsets, first-sample flags, signed composition offsets); a torn tail
(a box cut short by a crash) ends the walk at the last whole fragment.
"""

from __future__ import annotations

import os
import struct
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

_HEAD = struct.Struct(">I4s")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
# sample_flags: bit 16 is sample_is_non_sync_sample (8.8.3.1).
_NON_SYNC_BIT = 0x00010000
_MAX_MOOV = 64 * 1024 * 1024
_MAX_MOOF = 64 * 1024 * 1024


class Mp4Error(ValueError):
    """A segment that cannot be read as a fragmented MP4."""


@dataclass
class Track:
    """One track of a segment: its header boxes and its samples in decode order.

    ``entries`` are the raw sample entries of ``stsd`` (copied into the export as they
    are); the sample arrays are parallel: decode time, duration, size, absolute file
    offset, composition offset, sync flag and 1-based sample description index.
    """

    track_id: int
    handler: bytes  # b"vide" | b"soun" | …
    timescale: int
    entries: list[bytes]
    width: int = 0
    height: int = 0
    # Presentation shift from the track's edit list: (media_time, empty edit in seconds).
    edit_media_time: int = 0
    edit_empty_s: float = 0.0
    dts: array[int] = field(default_factory=lambda: array("q"))
    dur: array[int] = field(default_factory=lambda: array("q"))
    size: array[int] = field(default_factory=lambda: array("q"))
    offset: array[int] = field(default_factory=lambda: array("q"))
    cto: array[int] = field(default_factory=lambda: array("q"))
    sync: array[int] = field(default_factory=lambda: array("b"))
    sdi: array[int] = field(default_factory=lambda: array("i"))
    # Index of the run (trun) each sample came from: samples of one run are contiguous.
    run: array[int] = field(default_factory=lambda: array("i"))

    def __len__(self) -> int:
        return len(self.dts)

    def pts_s(self, i: int) -> float:
        """Presentation time of sample ``i`` in seconds on the track's own timeline."""
        return (
            (self.dts[i] + self.cto[i] - self.edit_media_time) / self.timescale
            + self.edit_empty_s
        )

    def dts_s(self, i: int) -> float:
        return (self.dts[i] - self.edit_media_time) / self.timescale + self.edit_empty_s


@dataclass
class Segment:
    """A parsed segment: its tracks by id and the movie timescale."""

    path: Path
    movie_timescale: int
    tracks: dict[int, Track]

    def track(self, handler: bytes) -> Track | None:
        """The first track with ``handler`` (``b"vide"``, ``b"soun"``)."""
        return next((t for t in self.tracks.values() if t.handler == handler), None)


@dataclass
class _Trex:
    sdi: int = 1
    duration: int = 0
    size: int = 0
    flags: int = 0


@dataclass(frozen=True)
class FileBox:
    """A complete top-level box of a file: its type, where it starts, its header length
    (8, or 16 with a 64-bit size) and its whole size."""

    kind: bytes
    start: int
    header: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size


def file_boxes(f: BinaryIO, size: int, *, growing: bool = False) -> Iterator[FileBox]:
    """The complete top-level boxes of the open file ``f`` of ``size`` bytes, in order, read
    from their headers alone (the payloads are skipped). The walk stops at the first box cut
    short: a torn tail, or the fragment a writer is still appending. A box of size 0 extends
    to the end of the file, unless the file is ``growing`` (then its size is not known yet).
    Every box is at least 8 bytes, so the walk ends after ``size / 8`` boxes at most."""
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            return
        box_size, kind = _HEAD.unpack_from(head)
        header = 8
        if box_size == 1:
            if len(head) < 16:
                return
            box_size = _U64.unpack_from(head, 8)[0]
            header = 16
        elif box_size == 0 and not growing:
            box_size = size - pos
        if box_size < header or pos + box_size > size:
            return
        yield FileBox(kind, pos, header, box_size)
        pos += box_size


def _children(data: bytes | memoryview, start: int = 0, end: int | None = None
              ) -> list[tuple[bytes, int, int]]:
    """``(type, payload start, box end)`` of the boxes in ``data[start:end]``."""
    end = len(data) if end is None else end
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = _HEAD.unpack_from(data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = _U64.unpack_from(data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            raise Mp4Error(f"box {kind!r} overruns its parent")
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def _find(data: bytes | memoryview, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    """Payload span of the box at ``path`` below ``data[start:end]``."""
    for i, name in enumerate(path):
        hit = next(((s, e) for k, s, e in _children(data, start, end) if k == name), None)
        if hit is None:
            return None
        start, end = hit
        if i == len(path) - 1:
            return start, end
    return start, end


def _parse_trak(moov: bytes, start: int, end: int, movie_ts: int) -> Track:
    tkhd = _find(moov, start, end, b"tkhd")
    mdhd = _find(moov, start, end, b"mdia", b"mdhd")
    hdlr = _find(moov, start, end, b"mdia", b"hdlr")
    stsd = _find(moov, start, end, b"mdia", b"minf", b"stbl", b"stsd")
    if tkhd is None or mdhd is None or hdlr is None or stsd is None:
        raise Mp4Error("trak without tkhd/mdhd/hdlr/stsd")
    version = moov[tkhd[0]]
    track_id = _U32.unpack_from(moov, tkhd[0] + (20 if version == 1 else 12))[0]
    # width and height: the last 8 bytes of tkhd, 16.16 fixed point.
    width = _U32.unpack_from(moov, tkhd[1] - 8)[0] >> 16
    height = _U32.unpack_from(moov, tkhd[1] - 4)[0] >> 16
    mversion = moov[mdhd[0]]
    timescale = _U32.unpack_from(moov, mdhd[0] + (20 if mversion == 1 else 12))[0]
    if timescale <= 0:
        raise Mp4Error("track timescale 0")
    handler = bytes(moov[hdlr[0] + 8 : hdlr[0] + 12])
    count = _U32.unpack_from(moov, stsd[0] + 4)[0]
    entries = [bytes(moov[s - 8 : e]) for _k, s, e in _children(moov, stsd[0] + 8, stsd[1])]
    if len(entries) != count or not entries:
        raise Mp4Error("stsd entry count mismatch")
    track = Track(track_id=track_id, handler=handler, timescale=timescale, entries=entries,
                  width=width, height=height)
    elst = _find(moov, start, end, b"edts", b"elst")
    if elst is not None:
        _apply_edit_list(track, moov, elst[0], movie_ts)
    return track


def _apply_edit_list(track: Track, moov: bytes, pos: int, movie_ts: int) -> None:
    version = moov[pos]
    n = _U32.unpack_from(moov, pos + 4)[0]
    p = pos + 8
    empty = 0
    for _ in range(min(n, 16)):
        if version == 1:
            seg_dur, media_time = struct.unpack_from(">Qq", moov, p)
            p += 20
        else:
            seg_dur, media_time = struct.unpack_from(">Ii", moov, p)
            p += 12
        if media_time == -1:
            empty += seg_dur
            continue
        track.edit_media_time = media_time
        break
    track.edit_empty_s = empty / movie_ts if movie_ts else 0.0


def _read_moov(moov: bytes) -> tuple[int, dict[int, Track], dict[int, _Trex]]:
    mvhd = _find(moov, 0, len(moov), b"mvhd")
    if mvhd is None:
        raise Mp4Error("moov without mvhd")
    movie_ts = _U32.unpack_from(moov, mvhd[0] + (20 if moov[mvhd[0]] == 1 else 12))[0]
    tracks: dict[int, Track] = {}
    trex: dict[int, _Trex] = {}
    for kind, s, e in _children(moov):
        if kind == b"trak":
            t = _parse_trak(moov, s, e, movie_ts)
            tracks[t.track_id] = t
        elif kind == b"mvex":
            for k2, s2, _e2 in _children(moov, s, e):
                if k2 == b"trex":
                    tid, sdi, dur, size, flags = struct.unpack_from(">IIIII", moov, s2 + 4)
                    trex[tid] = _Trex(sdi, dur, size, flags)
    return movie_ts, tracks, trex


def _read_moof(moof: bytes, header: int, moof_start: int, tracks: dict[int, Track],
               trex: dict[int, _Trex], run_counter: list[int]) -> None:
    """Append the samples of one ``moof`` (the whole box, ``header`` bytes of box header;
    ``moof_start``: its offset in the file)."""
    next_data = moof_start  # implicit base of a traf without base-data-offset (legacy)
    first_traf = True
    for kind, s, e in _children(moof, header):
        if kind != b"traf":
            continue
        tfhd = _find(moof, s, e, b"tfhd")
        if tfhd is None:
            raise Mp4Error("traf without tfhd")
        flags = _U32.unpack_from(moof, tfhd[0])[0] & 0xFFFFFF
        tid = _U32.unpack_from(moof, tfhd[0] + 4)[0]
        track = tracks.get(tid)
        defaults = trex.get(tid, _Trex())
        p = tfhd[0] + 8
        base: int
        if flags & 0x01:
            base = _U64.unpack_from(moof, p)[0]
            p += 8
        elif flags & 0x020000:
            base = moof_start
        else:
            base = moof_start if first_traf else next_data
        sdi, d_dur, d_size, d_flags = defaults.sdi, defaults.duration, defaults.size, \
            defaults.flags
        if flags & 0x02:
            sdi = _U32.unpack_from(moof, p)[0]
            p += 4
        if flags & 0x08:
            d_dur = _U32.unpack_from(moof, p)[0]
            p += 4
        if flags & 0x10:
            d_size = _U32.unpack_from(moof, p)[0]
            p += 4
        if flags & 0x20:
            d_flags = _U32.unpack_from(moof, p)[0]
            p += 4
        first_traf = False
        tfdt = _find(moof, s, e, b"tfdt")
        time: int | None = None
        if tfdt is not None:
            v = moof[tfdt[0]]
            time = (_U64 if v == 1 else _U32).unpack_from(moof, tfdt[0] + 4)[0]
        if time is None:
            time = (track.dts[-1] + track.dur[-1]) if track is not None and len(track) else 0
        data = base
        for k2, rs, _re in _children(moof, s, e):
            if k2 != b"trun":
                continue
            data, time = _read_trun(moof, rs, track, base, data, time, sdi, d_dur, d_size,
                                    d_flags, run_counter)
        next_data = data


def _read_trun(moof: bytes, rs: int, track: Track | None, base: int, data: int, time: int,
               sdi: int, d_dur: int, d_size: int, d_flags: int, run_counter: list[int]
               ) -> tuple[int, int]:
    word = _U32.unpack_from(moof, rs)[0]
    version, tflags = word >> 24, word & 0xFFFFFF
    count = _U32.unpack_from(moof, rs + 4)[0]
    p = rs + 8
    if tflags & 0x01:
        data = base + struct.unpack_from(">i", moof, p)[0]
        p += 4
    first_flags = None
    if tflags & 0x04:
        first_flags = _U32.unpack_from(moof, p)[0]
        p += 4
    fields = [(tflags & bit) != 0 for bit in (0x100, 0x200, 0x400, 0x800)]
    width = 4 * sum(fields)
    if p + width * count > len(moof):
        raise Mp4Error("trun overruns its moof")
    fmt = ">" + "".join(
        c for c, on in zip(("I", "I", "I", "i" if version else "I"), fields, strict=True) if on
    )
    run_counter[0] += 1
    run_id = run_counter[0]
    has_dur, has_size, has_flags, has_cto = fields
    for i, values in enumerate(struct.iter_unpack(fmt, moof[p : p + width * count])
                               if width else ((),) * count):
        j = 0
        dur = d_dur
        if has_dur:
            dur = values[j]
            j += 1
        size = d_size
        if has_size:
            size = values[j]
            j += 1
        sflags = d_flags
        if has_flags:
            sflags = values[j]
            j += 1
        elif i == 0 and first_flags is not None:
            sflags = first_flags
        cto = values[j] if has_cto else 0
        if track is not None:
            track.dts.append(time)
            track.dur.append(dur)
            track.size.append(size)
            track.offset.append(data)
            track.cto.append(cto)
            track.sync.append(0 if sflags & _NON_SYNC_BIT else 1)
            track.sdi.append(sdi)
            track.run.append(run_id)
        time += dur
        data += size
    return data, time


def read_segment(path: Path) -> Segment:
    """The tracks and sample tables of the fragmented MP4 at ``path``.

    Reads the ``moov`` and every ``moof``; ``mdat`` payloads are skipped. Samples whose
    bytes lie past the end of the file (a torn last fragment) are dropped.
    """
    size = path.stat().st_size
    movie_ts = 1000
    tracks: dict[int, Track] = {}
    trex: dict[int, _Trex] = {}
    have_moov = False
    run_counter = [0]
    with path.open("rb", buffering=0) as f:
        # Only the box headers are wanted here, a few KB every ~1 MB: no read-ahead (the
        # samples are read later, in order, by the copy).
        os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_RANDOM)
        for box in file_boxes(f, size):
            if box.kind == b"moov":
                if box.size > _MAX_MOOV:
                    raise Mp4Error("moov too large")
                f.seek(box.start + box.header)
                movie_ts, tracks, trex = _read_moov(f.read(box.size - box.header))
                have_moov = True
            elif box.kind == b"moof" and have_moov:
                if box.size > _MAX_MOOF:
                    raise Mp4Error("moof too large")
                f.seek(box.start)
                _read_moof(f.read(box.size), box.header, box.start, tracks, trex, run_counter)
    if not have_moov:
        raise Mp4Error("no moov")
    for track in tracks.values():
        _drop_past(track, size)
    return Segment(path=path, movie_timescale=movie_ts or 1000, tracks=tracks)


def _drop_past(track: Track, size: int) -> None:
    """Forget samples whose bytes are not all in the file (a moof without its mdat)."""
    n = len(track)
    keep = n
    while keep and track.offset[keep - 1] + track.size[keep - 1] > size:
        keep -= 1
    if keep < n:
        for name in ("dts", "dur", "size", "offset", "cto", "sync", "sdi", "run"):
            del getattr(track, name)[keep:]
