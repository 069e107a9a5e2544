"""Retention by class: recordings around a camera's objects of chosen labels outlive the
camera's ``retention_days``.

A camera sets ``analysis.objects.retention_days`` (``{"person": 30}``). The purge by age
(``recordings/purge.py``) asks :func:`protected_ranges` which spans it must leave alone: per
camera, ``[first seen - pre-roll, last seen + post-roll]`` of every object of such a label
first seen within its label's days. Only spans the age purge could reach are looked up
(first seen before the camera's cutoff + pre-roll), and overlapping spans are merged, so a
busy camera hands back a short list. The disk guard does not honour them: when the disk is
full, space wins (as continuous recordings go before event recordings there).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.cameras.models import Camera
from argus_management.objects.models import TrackedObject

Span = tuple[datetime, datetime]
# Spans fetched per camera and label at most (a bound on one purge call's work).
_MAX_SPANS = 50_000


def label_days(analysis: object) -> dict[str, int]:
    """``analysis.objects.retention_days`` of a stored camera, leniently ({} if unusable)."""
    if not isinstance(analysis, dict):
        return {}
    objects = analysis.get("objects")
    days = objects.get("retention_days") if isinstance(objects, dict) else None
    if not isinstance(days, dict):
        return {}
    return {
        label: n for label, n in days.items()
        if isinstance(label, str) and isinstance(n, int) and not isinstance(n, bool) and n > 0
    }


def merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping or touching spans joined, in time order."""
    merged: list[Span] = []
    for lo, hi in sorted(spans):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    return merged


async def protected_ranges(
    session: AsyncSession, camera_ids: list[int] | None, now: datetime,
    pre_roll_s: float = 0.0, post_roll_s: float = 0.0,
) -> dict[int, list[Span]]:
    """Per camera, the merged spans the age purge must keep for retention by class."""
    query = select(Camera.id, Camera.retention_days, Camera.analysis)
    if camera_ids:
        query = query.where(Camera.id.in_(sorted(set(camera_ids))))
    before, after = timedelta(seconds=pre_roll_s), timedelta(seconds=post_roll_s)
    ranges: dict[int, list[Span]] = {}
    for camera_id, continuous_days, analysis in await session.execute(query):
        cutoff = now - timedelta(days=continuous_days)
        spans: list[Span] = []
        for label, days in sorted(label_days(analysis).items()):
            if days <= continuous_days:
                continue  # the camera's own retention keeps them as long already
            rows = await session.execute(
                select(TrackedObject.first_seen, TrackedObject.last_seen)
                .where(
                    TrackedObject.camera_id == camera_id, TrackedObject.label == label,
                    TrackedObject.first_seen >= now - timedelta(days=days),
                    TrackedObject.first_seen < cutoff + before,
                )
                .order_by(TrackedObject.first_seen)
                .limit(_MAX_SPANS)
            )
            spans.extend((first - before, max(last, first) + after) for first, last in rows)
        if spans:
            ranges[camera_id] = merge(spans)
    return ranges
