"""Reads recorded files as one continuous H.264 stream from a wall-clock instant.

PyAV demuxes (never decodes) each file; ``h264_mp4toannexb`` turns MP4 (AVCC) samples into
Annex-B with SPS/PPS before every IDR. Timestamps continue across files and skip gaps, so a
boundary or a hole in the recording never makes the viewer wait. Blocking: run in a thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import av
from av.bitstream import BitStreamFilterContext
from av.container import InputContainer

from argus_common.h264 import has_b_slice, split_annexb
from argus_common.rtsp.frames import VIDEO_CLOCK
from argus_streaming.playback.ranged import RangedFile, RangedSegment
from argus_streaming.playback.tail import CutFile, complete_length

_FRAME_S = 1 / 30  # gap left between files when a file's own last duration is unknown


@dataclass(frozen=True)
class PlaybackFile:
    """A recorded file and the wall-clock time of its first frame. ``path`` may be a
    tiered segment read with ranged GETs (playback/ranged.py), or a blocking call that
    returns the file or such a segment (when playback reaches it) or None. ``growing``: the
    recorder is still writing it (instant replay, playback/tail.py): read up to its last
    complete fragment and follow it."""

    path: Path | RangedSegment | Callable[[], Path | RangedSegment | None]
    start: datetime
    growing: bool = False


@dataclass(frozen=True)
class PlaybackUnit:
    """One access unit: Annex-B bytes, 90 kHz timestamp (continuous), keyframe flag,
    and whether it comes before the requested instant (pre-roll from the keyframe)."""

    data: bytes
    pts: int
    keyframe: bool
    preroll: bool
    wall_ms: int


class BFramesInRecording(ValueError):
    """The recording uses B-frames, which WebRTC cannot carry."""


# Following a growing file: how often to look for a new fragment, and how long one may
# take before the file counts as finished (the recorder closed it, or the camera stopped).
FOLLOW_POLL_S = 0.25
FOLLOW_IDLE_S = 8.0


@dataclass
class _State:
    out_base: int = 0  # 90 kHz position where the current file begins in the output
    started: bool = False
    gop: list[PlaybackUnit] = field(default_factory=list)


def read_units(
    files: list[PlaybackFile], start: datetime,
    more: Callable[[datetime], list[PlaybackFile]] | None = None,
) -> Iterator[PlaybackUnit]:
    """Access units from the keyframe at or before ``start`` to the end of the last file.
    ``more(after)``: files that started after ``after`` (the recorder's newest, for a
    playback that follows live), asked when the list runs out."""
    state = _State()
    queue = list(files)
    while queue:
        item = queue.pop(0)
        path = item.path if isinstance(item.path, (Path, RangedSegment)) else item.path()
        if path is None:
            continue
        if isinstance(path, RangedSegment):
            # Only the fragments from the one that holds ``start`` on are fetched.
            reader, base = path.open(max(0.0, (start - item.start).total_seconds()))
            last_rel = yield from _read_file(reader, None, item, start, state, -1, base)
        elif item.growing:
            last_rel, later = yield from _follow(path, item, start, state, more)
            queue.extend(later)
        else:
            last_rel = yield from _read_file(path, None, item, start, state, -1)
        if last_rel is not None:
            state.out_base += last_rel + round(_FRAME_S * VIDEO_CLOCK)


def _follow(
    path: Path, item: PlaybackFile, start: datetime, state: _State,
    more: Callable[[datetime], list[PlaybackFile]] | None,
) -> Generator[PlaybackUnit, None, tuple[int | None, list[PlaybackFile]]]:
    """Units of a file still being written, fragment by fragment, until it stops growing;
    returns the last position and the files that followed it (``more``)."""
    done = 0
    last_rel: int | None = None
    idle_since = time.monotonic()
    later: list[PlaybackFile] = []
    while True:
        try:
            limit = complete_length(path)
        except OSError:
            limit = done  # removed (or moved by salvage): whatever was read stands
        if limit > done:
            done = limit
            rel = yield from _read_file(path, limit, item, start, state,
                                        -1 if last_rel is None else last_rel)
            if rel is not None and (last_rel is None or rel > last_rel):
                last_rel = rel
            idle_since = time.monotonic()
            continue
        if later or time.monotonic() - idle_since >= FOLLOW_IDLE_S:
            break  # checked once more after the next file appeared: this one is complete
        if more is not None and time.monotonic() - idle_since >= 2 * FOLLOW_POLL_S:
            later = more(item.start)
            if later:
                continue
        time.sleep(FOLLOW_POLL_S)
    return last_rel, later


def _read_file(
    path: Path | RangedFile, limit: int | None, item: PlaybackFile, start: datetime,
    state: _State, after_rel: int, base_rel: int = 0,
) -> Generator[PlaybackUnit, None, int | None]:
    """Units of one file (its first ``limit`` bytes when given) whose position in the file
    is past ``after_rel``; returns the last position seen (None: nothing readable).
    ``base_rel``: where the first unit read lies in the file (a ranged read from a later
    fragment on)."""
    source: str | CutFile | RangedFile = path if isinstance(path, RangedFile) else str(path)
    try:
        if limit is not None and isinstance(path, Path):
            source = CutFile(path, limit)
        container = av.open(source, "r", format=None if isinstance(source, str) else "mp4",
                            metadata_errors="replace")
    except (av.error.FFmpegError, OSError):
        if not isinstance(source, str):
            source.close()
        return None  # a missing or unreadable file (or a failed GET): go on with the next
    try:
        with container:
            return (yield from _demux(container, limit, item, start, state, after_rel, base_rel))
    finally:
        if not isinstance(source, str):
            source.close()


def _demux(
    container: InputContainer, limit: int | None, item: PlaybackFile, start: datetime,
    state: _State, after_rel: int, base_rel: int,
) -> Generator[PlaybackUnit, None, int | None]:
    """The units of an open container (see ``_read_file``)."""
    if not container.streams.video:
        return None
    stream = container.streams.video[0]
    tb = stream.time_base
    if tb is None:
        return None
    bsf = BitStreamFilterContext("h264_mp4toannexb", in_stream=stream)
    first_pts: int | None = None
    last_rel = 0
    try:
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            # The filter takes the packet over: read what we need first.
            pts, key = packet.pts, packet.is_keyframe
            for filtered in bsf.filter(packet):
                data = bytes(filtered)
                if not data:
                    continue
                if first_pts is None:
                    first_pts = pts
                rel = base_rel + round((pts - first_pts) * tb * VIDEO_CLOCK)
                last_rel = max(last_rel, rel)
                if rel <= after_rel:
                    continue  # read before this file grew
                yield from _unit(data, rel, key, item, start, state)
    except av.error.FFmpegError:
        if limit is None:
            raise
    return last_rel if first_pts is not None else None


def _unit(
    data: bytes, rel: int, key: bool, item: PlaybackFile, start: datetime, state: _State
) -> Iterator[PlaybackUnit]:
    wall_ms = int(item.start.timestamp() * 1000) + rel * 1000 // VIDEO_CLOCK
    if has_b_slice(split_annexb(data)):
        raise BFramesInRecording("recording uses B-frames")
    unit = PlaybackUnit(data, state.out_base + rel, key, not state.started, wall_ms)
    if state.started:
        yield unit
        return
    # Before the requested instant: keep the GOP in progress as pre-roll.
    if unit.keyframe:
        state.gop = [unit]
    elif state.gop:
        state.gop.append(unit)
    if wall_ms >= start.timestamp() * 1000 - 1 and state.gop:
        state.started = True
        last = state.gop.pop()
        yield from state.gop
        yield PlaybackUnit(last.data, last.pts, last.keyframe, False, wall_ms)
        state.gop = []
