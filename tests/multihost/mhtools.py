"""What the multi-host tests look at: each recorder's ``/status``, the segment index in
h1's PostgreSQL, and the gaps and overlaps in it. Bounded polls only."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from multihost import HOSTS, Bed

from argus_testkit import stack as kit


def status(b: Bed, host: str) -> dict[str, Any] | None:
    """A recorder's ``/status``, None when unreachable (its link is cut)."""
    try:
        return dict(httpx.get(f"{b.recorder_url(host)}/status", timeout=2).json())
    except (httpx.HTTPError, ValueError):
        return None


def recording(b: Bed, host: str) -> set[int] | None:
    """Cameras the host's recorder is writing (holds the lock), None when unreachable."""
    got = status(b, host)
    return set(got["recording"]) if got is not None else None


def shares(b: Bed, hosts: list[str]) -> dict[str, set[int]]:
    return {h: recording(b, h) or set() for h in hosts}


def covered(b: Bed, hosts: list[str], each: int) -> bool:
    """Every camera is written by one of ``hosts``, each of which writes at least ``each``."""
    got = shares(b, hosts)
    union = set().union(*got.values())
    return union == set(b.cameras.values()) and all(len(s) >= each for s in got.values())


def wait_for(check: Callable[[], Any], timeout: float, what: str, b: Bed) -> float:
    """Poll ``check`` until true; returns when (epoch s). Fails after ``timeout``."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return time.time()
        time.sleep(0.5)
    got = {h: sorted(s) for h, s in shares(b, list(HOSTS)).items()}
    raise AssertionError(
        f"timed out ({timeout} s): {what}; recording now: {got}\n{b.launcher.logs(20)}"
    )


@dataclass(frozen=True)
class Row:
    start: float  # epoch s
    end: float
    backfilled: bool
    path: str


def rows(b: Bed, camera_id: int) -> list[Row]:
    """The camera's indexed segments, oldest first."""
    found = kit.run_sync(_fetch(b.db_dsn, camera_id))
    return [
        Row(r["started_at"].timestamp(), r["ended_at"].timestamp(), r["backfilled"], r["path"])
        for r in found
    ]


async def _fetch(dsn: str, camera_id: int) -> list[Any]:
    import asyncpg

    conn = await asyncpg.connect(dsn)
    try:
        return list(
            await conn.fetch(
                "SELECT started_at, ended_at, backfilled, path FROM recording_segments "
                "WHERE camera_id = $1 AND deleted_at IS NULL ORDER BY started_at",
                camera_id,
            )
        )
    finally:
        await conn.close()


def lost_s(window: list[Row]) -> float:
    """Seconds between consecutive segments (gaps over 50 ms: a frame or two is jitter)."""
    spans = sorted((r.start, r.end) for r in window)
    total, reach = 0.0, None
    for s, e in spans:
        if reach is not None and s - reach > 0.05:
            total += s - reach
        reach = e if reach is None else max(reach, e)
    return round(total, 2)


def overlaps(window: list[Row]) -> list[tuple[float, float]]:
    """Pairs of consecutive segments that overlap by more than 50 ms."""
    spans = sorted((r.start, r.end) for r in window)
    return [(s, e) for (_, e), (s, _) in itertools.pairwise(spans) if s < e - 0.05]


def worst_seam_ms(window: list[Row]) -> float:
    """The largest step between one segment's end and the next one's start, in ms (gap
    positive, overlap negative; 0 when every segment starts where the previous ended)."""
    spans = sorted((r.start, r.end) for r in window)
    steps = [(s - e) * 1000 for (_, e), (s, _) in itertools.pairwise(spans)]
    return round(max(steps, key=abs), 1) if steps else 0.0


def loss_report(b: Bed, cams: set[int], since: float, until: float | None = None) -> dict[str, Any]:
    """Per camera, between ``since`` and ``until`` (the end of the index when None): video
    lost counting live segments only, lost after the backfill from the cameras' edge
    storage, and overlaps (all segments)."""
    live, after, double, seams = {}, {}, {}, {}
    for cam in sorted(cams):
        window = [r for r in rows(b, cam) if r.end >= since and (until is None or r.start <= until)]
        live[str(cam)] = lost_s([r for r in window if not r.backfilled])
        after[str(cam)] = lost_s(window)
        seams[str(cam)] = worst_seam_ms(window)
        if found := overlaps(window):
            double[str(cam)] = found
    return {
        "lost_live_only_s": live,
        "lost_after_backfill_s": after,
        "overlaps": double,
        "worst_seam_ms": seams,
    }


def backfills_idle(b: Bed, hosts: list[str]) -> bool:
    """No recorder has a backfill pending or running."""
    for host in hosts:
        got = status(b, host)
        if got is None:
            return False
        backfill = got.get("backfill") or {}
        if backfill.get("pending") or backfill.get("active"):
            return False
    return True
