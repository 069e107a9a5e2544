"""The stretch a recorder is still writing, for the timeline (``TimelineOut.growing``).

A segment is indexed only when it closes (``SegmentClosed``), so without this the timeline
would end up to a segment's length (60 s) before now. The recorder writes fragmented MP4
(a ``moof`` + ``mdat`` per GOP) and every finished fragment is on disk at once, so the
camera's newest files that the index does not list yet are read here, box headers only
(``argus_common.mp4read``): each gives a range from its start to the end of its last complete
fragment. Nothing is stored: the answer is as fresh as the file, a crash leaves no row, and
when the segment closes its indexed range takes over (streaming's instant replay reads the
same files the same way).
"""

from __future__ import annotations

import asyncio
import os
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.events import utcnow
from argus_common.mp4read import Mp4Error, read_segment
from argus_management.recordings.models import RecordingSegment
from argus_management.recordings.schemas import GapOut, RangeOut

_NAME = re.compile(r"^(\d{10,16})\.mp4$")
# Only files started this recently can still be open (a recorder closes a segment after
# RECORDING_SEGMENT_SECONDS, at most an hour; event clips at most 10 min): older hours are
# never listed.
RECENT = timedelta(minutes=15)
_MAX_FILES = 8


def _candidates(root: Path, camera_id: int, now: datetime) -> list[tuple[str, datetime]]:
    since = now - RECENT
    hour = since.replace(minute=0, second=0, microsecond=0)
    found: list[tuple[str, datetime]] = []
    while hour <= now + timedelta(hours=1):
        rel_dir = f"{camera_id}/{hour:%Y-%m-%d}/{hour:%H}"
        try:
            names = os.listdir(root / rel_dir)
        except OSError:
            names = []
        for name in names:
            match = _NAME.match(name)
            if match is None:
                continue
            began = datetime.fromtimestamp(int(match.group(1)) / 1000, UTC)
            if began >= since:
                found.append((f"{rel_dir}/{name}", began))
        hour += timedelta(hours=1)
    return sorted(found, key=lambda item: item[1])[-_MAX_FILES:]


def written_s(path: Path) -> float | None:
    """Seconds of video in the complete fragments of ``path``; None when none yet."""
    try:
        segment = read_segment(path)
    except (OSError, Mp4Error, ValueError):
        return None
    track = segment.track(b"vide")
    if track is None or not len(track) or track.timescale <= 0:
        return None
    return (track.dts[-1] + track.dur[-1] - track.dts[0]) / track.timescale


def _extents(root: Path, files: list[tuple[str, datetime]]) -> list[tuple[datetime, datetime]]:
    out = []
    for rel, began in files:
        seconds = written_s(root / rel)
        if seconds is not None and seconds > 0:
            out.append((began, began + timedelta(seconds=seconds)))
    return out


async def growing_ranges(
    session: AsyncSession, root: Path | None, camera_id: int, start: datetime, end: datetime
) -> list[RangeOut]:
    """Ranges of the camera's unindexed newest files overlapping ``[start, end]``."""
    now = utcnow()
    if root is None or end < now - RECENT or start > now:
        return []
    files = await asyncio.to_thread(_candidates, root, camera_id, now)
    if not files:
        return []
    indexed = set(
        await session.scalars(
            select(RecordingSegment.path).where(
                RecordingSegment.camera_id == camera_id,
                RecordingSegment.path.in_([rel for rel, _ in files]),
            )
        )
    )
    fresh = [(rel, began) for rel, began in files if rel not in indexed]
    if not fresh:
        return []
    spans = await asyncio.to_thread(_extents, root, fresh)
    return [
        RangeOut(start=max(lo, start), end=min(hi, end))
        for lo, hi in spans
        if hi > start and lo < end
    ]


def without_growing(gaps: list[GapOut], growing: list[RangeOut]) -> list[GapOut]:
    """``gaps`` less the stretches being written (the summary computes gaps from the
    index alone, which does not list them yet)."""
    out: list[GapOut] = []
    for gap in gaps:
        pieces = [(gap.start, gap.end)]
        for span in growing:
            cut: list[tuple[datetime, datetime]] = []
            for lo, hi in pieces:
                if span.end <= lo or span.start >= hi:
                    cut.append((lo, hi))
                    continue
                if lo < span.start:
                    cut.append((lo, span.start))
                if span.end < hi:
                    cut.append((span.end, hi))
            pieces = cut
        out += [GapOut(start=lo, end=hi, cause=gap.cause) for lo, hi in pieces if hi > lo]
    return out
