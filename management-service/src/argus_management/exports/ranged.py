"""Tiered segments an export covers only in part: just the fragments it needs.

An export of 5 s from a 60 s segment on the object store used to fetch the whole object
into the read-through cache. With the segment's fragment index (``argus_common.segindex``,
the sidecar kept beside it when it was tiered), the fragments that overlap the window
(widened by ``MARGIN_S``) are fetched with ranged GETs into a scratch file laid out as the
object itself: the init section and the first fragment, a ``free`` box standing in for the
fragments skipped (a sparse hole, never fetched), then the fragments wanted; the file ends
after the last one. Offsets stay those of the object, so absolute ``base_data_offset``\\ s
read as well as moof-relative ones, and the first fragment keeps the segment's timeline
origin exact (``remux`` places a segment by its first frame's presentation time). The
remuxer reads that file as it reads a whole one; it copies the same samples.

The copy is checked before use (the first sample after the hole of every track must carry
the fragment's own decode time: ``tfdt``, and the video one must be a keyframe); anything
else (no sidecar, a damaged one, the local file still there, the object already cached, a
segment the window covers whole, a failed GET) takes the whole-object path, unchanged.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import structlog
from prometheus_client import Counter

from argus_common.mp4boxes import free_box_header
from argus_common.mp4read import Mp4Error, read_segment
from argus_common.objectstore import ObjectStoreError, SegmentFiles
from argus_common.segindex import SegmentIndex, read_sidecar
from argus_management.exports.remux import SourceSegment

log = structlog.get_logger("argus.exports.ranged")

TIER_READS = Counter(
    "argus_export_tier_reads_total",
    "Tiered segments read by exports: ranged (only the fragments needed) or whole",
    ["path"],
)
for _path in ("ranged", "whole"):
    TIER_READS.labels(path=_path)  # both series from the start, at 0

# Off: every tiered segment is fetched whole into the read-through cache (the old path).
RANGED_EXPORTS = True
# Fragments this close to the window are fetched too: a keyframe's composition offset, an
# audio frame straddling a fragment boundary (tens of milliseconds).
MARGIN_S = 0.5
# Past the hole, each track must resume this close to the video's fragment time: a track
# without ``tfdt`` would resume where the first fragment ended instead.
_RESUME_TOLERANCE_S = 0.5
PART_BYTES = 8 * 2**20  # one ranged GET
CONCURRENCY = 4


@dataclass(frozen=True)
class Spans:
    """What to fetch of the object: byte ranges ``[first, end)``, and where the hole is."""

    spans: list[tuple[int, int]]
    hole: tuple[int, int] | None  # [first, end) of the free box, when fragments are skipped
    resume: int  # offset of the first fragment after the hole (== end of spans[0] if none)

    @property
    def size(self) -> int:
        return self.spans[-1][1]

    @property
    def fetched(self) -> int:
        return sum(e - s for s, e in self.spans)


def plan_spans(sidecar: SegmentIndex, seg_start: float, t_start: float, t_end: float
               ) -> Spans | None:
    """The byte ranges of the fragments of a segment starting at ``seg_start`` (epoch s)
    that overlap ``[t_start, t_end)`` widened by ``MARGIN_S``, plus the init section and
    the first fragment; None when that is the whole object (or nothing)."""
    idx = sidecar.index
    frags = idx.fragments
    if not frags or idx.timescale <= 0:
        return None
    f0 = frags[0].start
    lo, hi = t_start - MARGIN_S, t_end + MARGIN_S
    wanted = [i for i, f in enumerate(frags)
              if seg_start + (f.start - f0) / idx.timescale < hi
              and seg_start + (f.end() - f0) / idx.timescale > lo]
    if not wanted:
        return None
    first, last = wanted[0], wanted[-1]
    end = frags[last].offset + frags[last].size
    if last == len(frags) - 1 and first <= 1:
        return None  # all of it: the whole-object path
    head_end = frags[0].offset + frags[0].size
    if first <= 1:
        return Spans([(0, end)], None, head_end)
    resume = frags[first].offset
    return Spans([(0, head_end), (resume, end)], (head_end, resume), resume)




async def _fetch(files: SegmentFiles, key: str, plan: Spans, dest: Path) -> None:
    """Write ``plan``'s spans of object ``key`` at their offsets in ``dest`` (sparse)."""
    gate = asyncio.Semaphore(CONCURRENCY)
    fd = await asyncio.to_thread(os.open, dest, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        if plan.hole is not None:
            await asyncio.to_thread(os.pwrite, fd, free_box_header(plan.hole[1] - plan.hole[0]),
                                    plan.hole[0])

        async def part(first: int, end: int) -> None:
            async with gate:
                data = await files.read_range(key, first, end - 1)
            if len(data) != end - first:
                raise ObjectStoreError("ranged get: short read")
            await asyncio.to_thread(os.pwrite, fd, data, first)

        await asyncio.gather(*(part(o, min(o + PART_BYTES, end))
                               for first, end in plan.spans
                               for o in range(first, end, PART_BYTES)))
        await asyncio.to_thread(os.ftruncate, fd, plan.size)
    finally:
        await asyncio.to_thread(os.close, fd)


def _check(path: Path, sidecar: SegmentIndex, plan: Spans) -> bool:
    """Whether the copy reads as the object would: past the hole, every track resumes at
    its fragment's own decode time (``tfdt``), the video one on a keyframe at the time the
    sidecar gives. Blocking."""
    if plan.hole is None:
        return True  # a prefix of the object: the same samples up to where it ends
    try:
        parsed = read_segment(path)
    except (Mp4Error, OSError, ValueError):
        return False
    video = parsed.track(b"vide")
    frag = next(f for f in sidecar.index.fragments if f.offset == plan.resume)
    if video is None or video.timescale != sidecar.index.timescale:
        return False
    at = next((i for i in range(len(video)) if video.offset[i] >= plan.resume), None)
    if at is None or not video.sync[at] or video.dts[at] != frag.start:
        return False
    resumed = frag.start / video.timescale
    for track in parsed.tracks.values():
        i = next((i for i in range(len(track)) if track.offset[i] >= plan.resume), None)
        if i is not None and abs(track.dts[i] / track.timescale - resumed) \
                > _RESUME_TOLERANCE_S:
            return False
    return True


async def window_copy(files: SegmentFiles, path: Path, key: str, seg_start: float,
                      t_start: float, t_end: float, scratch: Path) -> tuple[Path, int] | None:
    """A scratch file with the parts of tiered segment ``key`` (local path ``path``, gone)
    that ``[t_start, t_end)`` needs, and the bytes fetched; None: use the whole object."""
    if not RANGED_EXPORTS or not files.settings.enabled:
        return None
    if await asyncio.to_thread(path.is_file):
        return None  # the recorder has not removed its local copy yet
    sidecar = await asyncio.to_thread(read_sidecar, path)
    if sidecar is None:
        return None
    plan = plan_spans(sidecar, seg_start, t_start, t_end)
    if plan is None:
        return None
    await asyncio.to_thread(scratch.mkdir, parents=True, exist_ok=True)
    dest = scratch / f"{path.stem}-{secrets.token_hex(4)}.mp4"
    try:
        if await files.held("object", key, sidecar.file_size) is not None:
            return None  # already on local disk
        await _fetch(files, key, plan, dest)
        if await asyncio.to_thread(_check, dest, sidecar, plan):
            return dest, plan.fetched
        log.warning("export_ranged_mismatch", key=key)
    except ObjectStoreError as exc:
        log.warning("export_ranged_failed", key=key, error=str(exc))
    await asyncio.to_thread(dest.unlink, missing_ok=True)
    return None


async def source_segment(files: SegmentFiles, path: Path, tier: str, key: str | None,
                         seg_start: float, t_start: float, t_end: float, scratch: Path
                         ) -> SourceSegment | None:
    """What an export reads of one segment: the fragments it needs of a tiered one with a
    sidecar (:func:`window_copy`), else a local file of it (None: neither tier has it)."""
    if tier == "object" and key:
        found = await window_copy(files, path, key, seg_start, t_start, t_end, scratch)
        if found is not None:
            TIER_READS.labels(path="ranged").inc()
            return SourceSegment(found[0], seg_start)
    local = await files.local_path(path, tier, key)
    if local is None:
        return None
    if tier == "object" and key:
        TIER_READS.labels(path="whole").inc()
    return SourceSegment(local, seg_start)
