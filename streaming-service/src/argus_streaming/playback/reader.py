"""Reads recorded files as one continuous H.264 stream from a wall-clock instant.

PyAV demuxes (never decodes) each file; ``h264_mp4toannexb`` turns MP4 (AVCC) samples into
Annex-B with SPS/PPS before every IDR. Timestamps continue across files and skip gaps, so a
boundary or a hole in the recording never makes the viewer wait. Blocking: run in a thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import av
from av.bitstream import BitStreamFilterContext

from argus_common.h264 import has_b_slice, split_annexb
from argus_common.rtsp.frames import VIDEO_CLOCK

_FRAME_S = 1 / 30  # gap left between files when a file's own last duration is unknown


@dataclass(frozen=True)
class PlaybackFile:
    """A recorded file and the wall-clock time of its first frame. ``path`` may be a
    blocking call that returns the file (a segment fetched from the object store when
    playback reaches it) or None."""

    path: Path | Callable[[], Path | None]
    start: datetime


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


def read_units(files: list[PlaybackFile], start: datetime) -> Iterator[PlaybackUnit]:
    """Access units from the keyframe at or before ``start`` to the end of the last file."""
    out_base = 0  # 90 kHz position where the current file begins in the output
    started = False
    for item in files:
        path = item.path if isinstance(item.path, Path) else item.path()
        if path is None:
            continue
        try:
            container = av.open(str(path), metadata_errors="replace")
        except (av.error.FFmpegError, OSError):
            continue  # a missing or unreadable file: go on with the next one
        with container:
            if not container.streams.video:
                continue
            stream = container.streams.video[0]
            tb = stream.time_base
            if tb is None:
                continue
            bsf = BitStreamFilterContext("h264_mp4toannexb", in_stream=stream)
            first_pts: int | None = None
            last_rel = 0
            gop: list[PlaybackUnit] = []
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
                    rel = round((pts - first_pts) * tb * VIDEO_CLOCK)
                    last_rel = max(last_rel, rel)
                    wall_ms = int(item.start.timestamp() * 1000) + rel * 1000 // VIDEO_CLOCK
                    if has_b_slice(split_annexb(data)):
                        raise BFramesInRecording("recording uses B-frames")
                    unit = PlaybackUnit(data, out_base + rel, key,
                                        not started, wall_ms)
                    if started:
                        yield unit
                        continue
                    # Before the requested instant: keep the GOP in progress as pre-roll.
                    if unit.keyframe:
                        gop = [unit]
                    elif gop:
                        gop.append(unit)
                    if wall_ms >= start.timestamp() * 1000 - 1 and gop:
                        started = True
                        last = gop.pop()
                        yield from gop
                        yield PlaybackUnit(last.data, last.pts, last.keyframe, False, wall_ms)
                        gop = []
            out_base += last_rel + round(_FRAME_S * VIDEO_CLOCK)
