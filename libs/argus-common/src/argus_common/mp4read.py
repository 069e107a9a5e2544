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
from dataclasses import dataclass, field
from pathlib import Path

from argus_common.mp4boxes import (
    FileBox,
    Mp4Error,
    Trex,
    children,
    decode_time,
    field_after_times,
    file_boxes,
    find,
    handler_type,
    parse_tfhd,
    parse_trex,
    parse_trun,
)

__all__ = ["FileBox", "Mp4Error", "Segment", "Track", "file_boxes", "read_segment"]

_U32 = struct.Struct(">I")
# sample_flags: bit 16 is sample_is_non_sync_sample (8.8.3.1).
_NON_SYNC_BIT = 0x00010000
_MAX_MOOV = 64 * 1024 * 1024
_MAX_MOOF = 64 * 1024 * 1024


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


def _parse_trak(moov: bytes, start: int, end: int, movie_ts: int) -> Track:
    tkhd = find(moov, start, end, b"tkhd")
    mdhd = find(moov, start, end, b"mdia", b"mdhd")
    hdlr = find(moov, start, end, b"mdia", b"hdlr")
    stsd = find(moov, start, end, b"mdia", b"minf", b"stbl", b"stsd")
    if tkhd is None or mdhd is None or hdlr is None or stsd is None:
        raise Mp4Error("trak without tkhd/mdhd/hdlr/stsd")
    track_id = field_after_times(moov, tkhd[0])
    # width and height: the last 8 bytes of tkhd, 16.16 fixed point.
    width = _U32.unpack_from(moov, tkhd[1] - 8)[0] >> 16
    height = _U32.unpack_from(moov, tkhd[1] - 4)[0] >> 16
    timescale = field_after_times(moov, mdhd[0])
    if timescale <= 0:
        raise Mp4Error("track timescale 0")
    count = _U32.unpack_from(moov, stsd[0] + 4)[0]
    entries = [bytes(moov[s - 8 : e]) for _k, s, e in children(moov, stsd[0] + 8, stsd[1])]
    if len(entries) != count or not entries:
        raise Mp4Error("stsd entry count mismatch")
    track = Track(track_id=track_id, handler=handler_type(moov, hdlr[0]), timescale=timescale,
                  entries=entries, width=width, height=height)
    elst = find(moov, start, end, b"edts", b"elst")
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


def _read_moov(moov: bytes) -> tuple[int, dict[int, Track], dict[int, Trex]]:
    mvhd = find(moov, 0, len(moov), b"mvhd")
    if mvhd is None:
        raise Mp4Error("moov without mvhd")
    movie_ts = field_after_times(moov, mvhd[0])
    tracks: dict[int, Track] = {}
    trex: dict[int, Trex] = {}
    for kind, s, e in children(moov):
        if kind == b"trak":
            t = _parse_trak(moov, s, e, movie_ts)
            tracks[t.track_id] = t
        elif kind == b"mvex":
            for k2, s2, _e2 in children(moov, s, e):
                if k2 == b"trex":
                    tid, defaults = parse_trex(moov, s2)
                    trex[tid] = defaults
    return movie_ts, tracks, trex


def _read_moof(moof: bytes, header: int, moof_start: int, tracks: dict[int, Track],
               trex: dict[int, Trex], run_counter: list[int]) -> None:
    """Append the samples of one ``moof`` (the whole box, ``header`` bytes of box header;
    ``moof_start``: its offset in the file)."""
    next_data = moof_start  # implicit base of a traf without base-data-offset (legacy)
    first_traf = True
    for kind, s, e in children(moof, header):
        if kind != b"traf":
            continue
        at = find(moof, s, e, b"tfhd")
        if at is None:
            raise Mp4Error("traf without tfhd")
        tfhd = parse_tfhd(moof, at[0])
        track = tracks.get(tfhd.track_id)
        defaults = trex.get(tfhd.track_id, Trex())
        base: int
        if tfhd.base_data_offset is not None:
            base = tfhd.base_data_offset
        elif tfhd.flags & 0x020000:
            base = moof_start
        else:
            base = moof_start if first_traf else next_data
        sdi, d_dur, d_size, d_flags = (
            defaults.sdi if tfhd.sdi is None else tfhd.sdi,
            defaults.duration if tfhd.duration is None else tfhd.duration,
            defaults.size if tfhd.size is None else tfhd.size,
            defaults.flags if tfhd.sample_flags is None else tfhd.sample_flags)
        first_traf = False
        tfdt = find(moof, s, e, b"tfdt")
        if tfdt is not None:
            time = decode_time(moof, tfdt[0])
        else:
            time = (track.dts[-1] + track.dur[-1]) if track is not None and len(track) else 0
        data = base
        for k2, rs, _re in children(moof, s, e):
            if k2 != b"trun":
                continue
            data, time = _read_trun(moof, rs, track, base, data, time, sdi, d_dur, d_size,
                                    d_flags, run_counter)
        next_data = data


def _read_trun(moof: bytes, rs: int, track: Track | None, base: int, data: int, time: int,
               sdi: int, d_dur: int, d_size: int, d_flags: int, run_counter: list[int]
               ) -> tuple[int, int]:
    trun = parse_trun(moof, rs)
    if trun.data_offset is not None:
        data = base + trun.data_offset
    p, width, count = trun.samples, trun.width, trun.count  # bounded by parse_trun
    run_counter[0] += 1
    run_id = run_counter[0]
    has_dur, has_size, has_flags, has_cto = trun.has
    first_flags = trun.first_flags
    for i, values in enumerate(struct.iter_unpack(trun.fmt, moof[p : p + width * count])
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
    trex: dict[int, Trex] = {}
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
