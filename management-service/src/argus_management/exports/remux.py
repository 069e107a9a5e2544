"""One camera's export: the segments of a time range remuxed into one progressive MP4.

Never transcoded: the samples are copied byte for byte. The video starts at the keyframe
at or before the requested start (decoders need it) and an edit list (``elst``) makes
playback begin at the requested instant; it ends with the last frame shown before the
requested end. Audio samples overlapping the range are kept, with their own edit. A gap
between segments (a recorder restart, the camera offline) stays a gap in time: the frame
before it is held, and the gap is reported in the plan (and the manifest).
"""

from __future__ import annotations

import operator
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import compress
from pathlib import Path
from typing import Protocol

from argus_common.mp4read import Segment, Track
from argus_management.exports.mp4write import Chunk, Edit, OutTrack, movie_header
from argus_management.exports.readahead import parsed_segments

# Segments closer than this are one continuous recording (rounding, not a gap).
GAP_TOLERANCE_S = 0.25
_READ_BLOCK = 8 * 1024 * 1024


@dataclass(frozen=True)
class SourceSegment:
    """A segment file and the wall-clock time (epoch seconds) of its first frame."""

    path: Path
    start: float


@dataclass
class Plan:
    """What to write: the header (``ftyp`` ``moov`` mdat head), then byte ranges."""

    header: bytes
    sources: list[Path]
    ranges: list[tuple[int, int, int]]  # (source index, offset, length), in output order
    start: float  # wall-clock of the first instant played
    end: float
    first_frame: float  # wall-clock of the keyframe the video starts at
    frames: int
    audio_samples: int
    gaps: list[tuple[float, float]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.header) + sum(r[2] for r in self.ranges)


class NothingRecorded(ValueError):
    """No video of the camera in the requested range."""


class Sink(Protocol):
    """Where the MP4 goes. ``write`` may keep reading ``data`` until its next call (the
    buffer is not reused before then)."""

    def write(self, data: bytes | memoryview, /) -> object: ...


@dataclass
class _Cursor:
    """Per output track: where the previous segment's samples ended (wall clock)."""

    out: OutTrack
    t0: float | None = None  # wall-clock decode time of the first output sample
    end: float | None = None  # wall-clock end of the last output sample


def _wall_origin(seg: Segment, video: Track, start: float) -> float:
    """Wall time of the track timeline's zero: the first frame is shown at ``start``."""
    return start - video.pts_s(0)


def _pick_video(video: Track, origin: float, t_start: float, t_end: float,
                prev_end: float | None) -> tuple[int, int] | None:
    """The index range [first, last] of video samples to copy from one segment."""
    n = len(video)
    if prev_end is None and origin + video.pts_s(n - 1) + video.dur[n - 1] / video.timescale \
            <= t_start:
        return None  # the segment ends before the range begins
    first: int | None = None
    for i in range(n):
        if not video.sync[i]:
            continue
        pts = origin + video.pts_s(i)
        if prev_end is not None:
            if pts >= prev_end - GAP_TOLERANCE_S / 10:
                first = i
                break
        elif pts <= t_start + 1e-6:
            first = i
        else:
            if first is None:
                first = i
            break
    if first is None:
        return None
    last = -1
    for i in range(first, n):
        if origin + video.pts_s(i) < t_end - 1e-6:
            last = i
    if last < first:
        return None
    return first, last


def _append(cur: _Cursor, track: Track, origin: float, first: int, last: int, source: int,
            chunks: list[tuple[int, Chunk, OutTrack]]) -> None:
    """Copy the tables of samples ``first..last`` of ``track`` into the output track."""
    out = cur.out
    scale = out.timescale / track.timescale
    seg_dts0 = origin + track.dts_s(first)
    if cur.t0 is None:
        cur.t0 = seg_dts0
    # Decode times: a per-segment base plus exact source deltas (no per-sample rounding).
    base = round((seg_dts0 - cur.t0) * out.timescale)
    d0 = track.dts[first]
    prev = out.dts[-1] if len(out.dts) else None
    sdi_map: dict[int, int] = {}
    chunk: Chunk | None = None
    run = -1
    if scale == 1.0 and _append_same_scale(out, track, first, last, source, base, prev,
                                           chunks):
        out.last_duration = max(1, track.dur[last])
        cur.end = origin + track.dts_s(last) + track.dur[last] / track.timescale
        return
    # The per-sample loop is most of a plan's CPU time (an hour is ~170,000 samples): the
    # arrays and bound methods are looked up once.
    t_dts, t_size, t_cto, t_sync = track.dts, track.size, track.cto, track.sync
    t_sdi, t_off, t_run = track.sdi, track.offset, track.run
    add_dts, add_size, add_cto = out.dts.append, out.sizes.append, out.ctos.append
    add_sync, add_chunk = out.syncs.append, chunks.append
    number = len(out.dts)
    for i in range(first, last + 1):
        dts = base + round((t_dts[i] - d0) * scale)
        if prev is not None and dts <= prev:
            dts = prev + 1
        prev = dts
        add_dts(dts)
        size = t_size[i]
        add_size(size)
        add_cto(round(t_cto[i] * scale))
        number += 1
        if t_sync[i]:
            add_sync(number)
        src_sdi = t_sdi[i]
        sdi = sdi_map.get(src_sdi)
        if sdi is None:
            entry = track.entries[min(max(src_sdi, 1), len(track.entries)) - 1]
            sdi = sdi_map[src_sdi] = out.entry_index(entry)
        off = t_off[i]
        if (chunk is not None and t_run[i] == run and chunk.sdi == sdi
                and chunk.src_offset + chunk.length == off):
            chunk.count += 1
            chunk.length += size
        else:
            chunk = Chunk(first=number - 1, count=1, sdi=sdi, source=source, src_offset=off,
                          length=size)
            add_chunk((off, chunk, out))
            run = t_run[i]
    out.last_duration = max(1, round(track.dur[last] * scale))
    cur.end = origin + track.dts_s(last) + track.dur[last] / track.timescale


def _append_same_scale(out: OutTrack, track: Track, first: int, last: int, source: int,
                       base: int, prev: int | None,
                       chunks: list[tuple[int, Chunk, OutTrack]]) -> bool:
    """``_append``'s tables, the same values, without a Python loop per sample: for a
    track in the output's timescale (the usual case), its decode times strictly increasing
    from ``prev`` and one sample description. False (nothing done) when that does not hold.
    The plan's CPU time is spent before the first byte is written, so it adds to the
    export's wall time."""
    stop = last + 1
    if min(track.sdi[first:stop]) != max(track.sdi[first:stop]):
        return False
    shift = base - track.dts[first]
    dts = [d + shift for d in track.dts[first:stop]]
    if (prev is not None and dts[0] <= prev) or not all(map(operator.lt, dts, dts[1:])):
        return False
    src_sdi = track.sdi[first]
    sdi = out.entry_index(track.entries[min(max(src_sdi, 1), len(track.entries)) - 1])
    number = len(out.dts)
    out.dts.extend(dts)
    sizes = track.size[first:stop]
    out.sizes.extend(sizes.tolist())
    out.ctos.extend(track.cto[first:stop])
    out.syncs.extend(compress(range(number + 1, number + len(dts) + 1), track.sync[first:stop]))
    # A chunk ends where the fragment run changes or the next sample is not right behind.
    offsets, runs = track.offset[first:stop], track.run[first:stop]
    ends = list(map(operator.add, offsets, sizes))
    breaks = map(operator.or_, map(operator.ne, offsets[1:], ends),
                 map(operator.ne, runs[1:], runs))
    cuts = list(compress(range(1, len(dts)), breaks))
    for b, e in zip([0, *cuts], [*cuts, len(dts)], strict=True):
        off = offsets[b]
        chunk = Chunk(first=number + b, count=e - b, sdi=sdi, source=source, src_offset=off,
                      length=ends[e - 1] - off)
        chunks.append((off, chunk, out))
    return True


def _pick_audio(audio: Track, origin: float, lo: float, hi: float,
                prev_end: float | None) -> tuple[int, int] | None:
    first = last = -1
    for i in range(len(audio)):
        t = origin + audio.dts_s(i)
        end = t + audio.dur[i] / audio.timescale
        if end <= lo or t >= hi:
            continue
        if prev_end is not None and t < prev_end - 1e-3:
            continue
        if first < 0:
            first = i
        last = i
    return (first, last) if first >= 0 else None


def plan_export(segments: Sequence[SourceSegment], t_start: float, t_end: float,
                comment: str = "") -> Plan:
    """Plan the MP4 of ``[t_start, t_end)`` (epoch seconds) from ``segments`` (in time
    order). Raises :class:`NothingRecorded` when no video falls in the range."""
    video_cur: _Cursor | None = None
    audio_cur: _Cursor | None = None
    sources: list[Path] = []
    chunks: list[tuple[int, Chunk, OutTrack]] = []
    ordered: list[Chunk] = []
    gaps: list[tuple[float, float]] = []
    first_frame = 0.0
    for seg, parsed in parsed_segments(segments, t_end):
        video = parsed.track(b"vide")
        if video is None or not len(video):
            continue
        origin = _wall_origin(parsed, video, seg.start)
        picked = _pick_video(video, origin, t_start, t_end,
                             video_cur.end if video_cur else None)
        if picked is None:
            continue
        first, last = picked
        source = len(sources)
        sources.append(seg.path)
        chunks = []
        if video_cur is None:
            video_cur = _Cursor(OutTrack(track_id=1, handler=b"vide",
                                         timescale=video.timescale, width=video.width,
                                         height=video.height))
            first_frame = origin + video.pts_s(first)
        else:
            assert video_cur.end is not None
            shown = origin + video.pts_s(first)
            if shown - video_cur.end > GAP_TOLERANCE_S:
                gaps.append((video_cur.end, shown))
        _append(video_cur, video, origin, first, last, source, chunks)
        audio = parsed.track(b"soun")
        if audio is not None and len(audio):
            lo = max(t_start, origin + video.pts_s(first))
            a = _pick_audio(audio, origin, lo, t_end, audio_cur.end if audio_cur else None)
            if a is not None:
                if audio_cur is None:
                    audio_cur = _Cursor(OutTrack(track_id=2, handler=b"soun",
                                                 timescale=audio.timescale))
                _append(audio_cur, audio, origin, a[0], a[1], source, chunks)
        # Within a segment, samples go out in the order they lie in the file.
        chunks.sort(key=lambda c: c[0])
        for _off, chunk, out in chunks:
            out.chunks.append(chunk)
            ordered.append(chunk)
    if video_cur is None or video_cur.t0 is None or video_cur.end is None:
        raise NothingRecorded("no recorded video in the requested range")
    start = max(t_start, first_frame)
    end = min(t_end, video_cur.end)
    _edit(video_cur, start, end)
    tracks = [video_cur.out]
    if audio_cur is not None and audio_cur.t0 is not None:
        _edit(audio_cur, start, end)
        tracks.append(audio_cur.out)
    ranges: list[tuple[int, int, int]] = []
    pos = 0
    for chunk in ordered:
        chunk.out_offset = pos
        pos += chunk.length
        if ranges and ranges[-1][0] == chunk.source and sum(ranges[-1][1:]) == chunk.src_offset:
            src, off, length = ranges[-1]
            ranges[-1] = (src, off, length + chunk.length)
        else:
            ranges.append((chunk.source, chunk.src_offset, chunk.length))
    header = movie_header(tracks, pos, comment)
    return Plan(header=header, sources=sources, ranges=ranges, start=start, end=end,
                first_frame=first_frame, frames=len(video_cur.out.dts),
                audio_samples=len(audio_cur.out.dts) if audio_cur else 0, gaps=gaps)


def _edit(cur: _Cursor, start: float, end: float) -> None:
    """Play ``[start, end)`` of the track: an empty edit first when it begins later."""
    assert cur.t0 is not None
    out = cur.out
    if end <= start:
        out.edits = [Edit(1, 0)]
        return
    begins = cur.t0
    if begins > start:
        lead = round((begins - start) * 1000)
        out.edits = [Edit(lead, -1), Edit(max(1, round((end - begins) * 1000)), 0)]
    else:
        out.edits = [Edit(max(1, round((end - start) * 1000)),
                          round((start - begins) * out.timescale))]


def _prefetch(sources: list[Path], index: int) -> None:
    if index < len(sources):
        try:
            fd = os.open(sources[index], os.O_RDONLY | os.O_CLOEXEC)
        except OSError:
            return
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_WILLNEED)
        finally:
            os.close(fd)


def write_plan(plan: Plan, sink: Sink, progress: Callable[[int], None] | None = None,
               cancelled: Callable[[], bool] | None = None) -> int:
    """Write the MP4 of ``plan`` to ``sink``; returns the bytes written. ``progress`` gets
    the running total after each block; ``cancelled`` is polled between blocks."""
    sink.write(plan.header)
    done = len(plan.header)
    # Two buffers in turn: a sink may still be reading the previous block (hashing it in
    # another thread) while the next one is read (see bundle.py).
    views = [memoryview(bytearray(_READ_BLOCK)), memoryview(bytearray(_READ_BLOCK))]
    turn = 0
    fds: dict[int, int] = {}
    try:
        for src, offset, length in plan.ranges:
            fd = fds.get(src)
            if fd is None:
                fd = fds[src] = os.open(plan.sources[src], os.O_RDONLY | os.O_CLOEXEC)
                # Read straight through: the kernel may read ahead generously; and the next
                # file is asked for now, so the disk reads it while this one is written.
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_SEQUENTIAL)
                _prefetch(plan.sources, src + 1)
            while length:
                want = min(length, _READ_BLOCK)
                view = views[turn]
                turn ^= 1
                got = os.preadv(fd, [view[:want]], offset)
                if got <= 0:
                    raise OSError(f"{plan.sources[src].name} ended early")
                sink.write(view[:got])
                offset += got
                length -= got
                done += got
                if progress is not None:
                    progress(done)
                if cancelled is not None and cancelled():
                    raise InterruptedError("export cancelled")
            # Close files behind us: an hour is 60 files, a day 1,440.
            if len(fds) > 4:
                for key in sorted(fds)[:-2]:
                    os.close(fds.pop(key))
    finally:
        for fd in fds.values():
            os.close(fd)
    return done
