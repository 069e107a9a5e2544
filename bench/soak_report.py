"""The soak's figures (bench/soak.py): RSS growth and fd range per service after warm-up,
gaps in each camera's indexed segments, files on disk not indexed, and the summary that
``make soak`` prints and appends to its JSON lines."""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from soak_measure import Stats
from streaming_stack import percentile

from argus_recording.layout import list_segments
from argus_testkit import stack as kit

SERVICES = ("redis", "management", "camera-simulator", "recording", "analysis", "streaming")


def gaps(db: kit.Database, cameras: list[int], since: float) -> dict[str, Any]:
    """Gaps between consecutive indexed segments of each camera after ``since``."""
    total, count, worst, segments = 0.0, 0, 0.0, 0
    for cam in cameras:
        rows = db.fetch(
            "SELECT started_at, ended_at FROM recording_segments WHERE camera_id"
            " = $1 AND deleted_at IS NULL ORDER BY started_at",
            cam,
        )
        spans = [
            (r["started_at"].timestamp(), r["ended_at"].timestamp())
            for r in rows
            if r["ended_at"] is not None and r["started_at"].timestamp() >= since
        ]
        segments += len(spans)
        for (_, end), (start, _) in itertools.pairwise(spans):
            if start - end > 0.05:
                count += 1
                total += start - end
                worst = max(worst, start - end)
    return {
        "segments": segments,
        "gaps": count,
        "gap_s": round(total, 2),
        "worst_gap_s": round(worst, 2),
    }


def unindexed(db: kit.Database, recordings: Path, cameras: list[int]) -> int:
    missing = 0
    for cam in cameras:
        files = list_segments(recordings, cam)
        indexed = {
            r["path"]
            for r in db.fetch("SELECT path FROM recording_segments WHERE camera_id = $1", cam)
        }
        missing += len(files - indexed - ({max(files)} if files else set()))
    return missing


def summarize(samples: list[dict[str, Any]], warm_t: float) -> dict[str, Any]:
    out: dict[str, Any] = {}
    warm = [s for s in samples if s["t"] >= warm_t] or samples[-1:]
    for name in SERVICES:
        rss = [s["services"][name]["rss_mib"] for s in warm if name in s["services"]]
        fds = [s["services"][name]["fds"] for s in warm if name in s["services"]]
        if not rss:
            continue
        base, last = rss[0], statistics.fmean(rss[-3:])
        out[name] = {
            "rss_warm_mib": round(base, 1),
            "rss_end_mib": round(last, 1),
            "rss_max_mib": round(max(rss), 1),
            "rss_growth_pct": round(100 * (last - base) / base, 1),
            "fds_min": min(fds),
            "fds_max": max(fds),
            "fds_warm": fds[0],
            "fds_end": fds[-1],
        }
    return out


def build_summary(
    args: argparse.Namespace,
    cameras: list[int],
    samples: list[dict[str, Any]],
    stats: Stats,
    viewers: dict[str, Any],
    db: kit.Database,
    recordings: Path,
    t_start: float,
    warm_t: float,
) -> dict[str, Any]:
    """The run's summary: every figure the soak reports, from its samples and counters."""
    fps_all = [f for s in samples if s["t"] >= warm_t for f in s["viewer_fps"].values()]
    return {
        "summary": True,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "minutes": args.minutes,
        "warmup_min": round(args.warmup * args.minutes, 1),
        "cameras": len(cameras),
        "viewers": args.viewers,
        "load_end": os.getloadavg(),
        "load_max_1m": max(s["load"][0] for s in samples) if samples else None,
        "services": summarize(samples, warm_t),
        "continuity": gaps(db, cameras, t_start + 30),
        "unindexed_files": unindexed(db, recordings, cameras),
        "api": {
            "requests": len(stats.api_ms),
            "errors": stats.api_errors,
            "p50_ms": round(percentile(stats.api_ms, 50), 1) if stats.api_ms else None,
            "p99_ms": round(percentile(stats.api_ms, 99), 1) if stats.api_ms else None,
            "max_ms": round(max(stats.api_ms), 1) if stats.api_ms else None,
        },
        "alerts": {
            "n": len(stats.alert_s),
            "missed": stats.alert_missed,
            "p50_s": round(statistics.median(stats.alert_s), 2) if stats.alert_s else None,
            "max_s": round(max(stats.alert_s), 2) if stats.alert_s else None,
            "misses": stats.misses,
        },
        "hls": {"segments": stats.hls_segments, "errors": stats.hls_errors},
        "analyser": samples[-1].get("analyser") if samples else None,
        "whep": {
            "fps_min": min(fps_all) if fps_all else None,
            "fps_mean": round(statistics.fmean(fps_all), 1) if fps_all else None,
            "reconnects": viewers.get("reconnects"),
        },
    }
