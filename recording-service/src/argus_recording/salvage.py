"""Turning a segment file found on disk into an announceable segment, or removing it.

Used for orphans at start-up (files written but never announced: the recorder died, or
Redis was down) and for a segment whose close failed. A torn tail is cut back to the last
complete fragment (truncate, fsync) before the file is described.
"""

from __future__ import annotations

import os
from pathlib import Path

import av
import structlog

from argus_recording.layout import fsync_dir, fsync_file, start_ms_of
from argus_recording.mp4box import walk
from argus_recording.writer import KIND_TAG, ClosedSegment

log = structlog.get_logger("argus.recording.salvage")


def _describe(path: Path) -> tuple[str, int, int, bool, float, str | None]:
    """Codec, size, audio, media duration and kind tag, by demuxing (no decoding)."""
    # Metadata is read leniently: a torn or corrupted tag must not hide playable video.
    with av.open(str(path), metadata_errors="replace") as container:
        video = container.streams.video[0]
        if video.codec_context is None:  # a stream FFmpeg cannot name (a corrupted header)
            raise ValueError("no usable video stream")
        codec = video.codec_context.name
        width, height = video.codec_context.width, video.codec_context.height
        has_audio = bool(container.streams.audio)
        tb = float(video.time_base or 0)
        first: int | None = None
        end = 0
        for packet in container.demux(video):
            if packet.pts is None:
                continue
            first = packet.pts if first is None else min(first, packet.pts)
            end = max(end, packet.pts + (packet.duration or 0))
        comment = str(container.metadata.get("comment", ""))
    kind = comment[len(KIND_TAG):] if comment.startswith(KIND_TAG) else None
    duration = (end - (first or 0)) * tb if first is not None else 0.0
    return codec, width, height, has_audio, duration, kind


def salvage(
    root: Path, relpath: str, camera_id: int, default_kind: str, durable: bool = True
) -> ClosedSegment | None:
    """Repair ``relpath`` if torn and describe it; None (and the file removed) when nothing
    in it can be played."""
    path = root / relpath
    start_ms = start_ms_of(relpath)
    try:
        layout = walk(path)
    except OSError as exc:
        log.warning("salvage_unreadable", path=relpath, error=type(exc).__name__)
        return None
    if start_ms is None or not layout.playable:
        _remove(path, durable)
        log.info("salvage_dropped", path=relpath, size=layout.size)
        return None
    if layout.torn:
        with path.open("r+b") as f:
            f.truncate(layout.valid_end)
        if durable:
            fsync_file(path)
        log.info("salvage_truncated", path=relpath, size=layout.size, kept=layout.valid_end)
    try:
        codec, width, height, has_audio, duration, kind = _describe(path)
    except (av.FFmpegError, OSError, IndexError, ValueError) as exc:
        log.warning("salvage_undecodable", path=relpath, error=type(exc).__name__)
        _remove(path, durable)
        return None
    if durable:
        fsync_dir(path.parent)
    kind = kind if kind in ("continuous", "event", "backfill") else default_kind
    return ClosedSegment(
        camera_id=camera_id, relpath=relpath, start_ms=start_ms,
        end_ms=start_ms + round(duration * 1000), bytes=path.stat().st_size, kind=kind,
        codec=codec, width=width, height=height, has_audio=has_audio,
    )


def _remove(path: Path, durable: bool) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    if durable:
        fsync_dir(path.parent)
