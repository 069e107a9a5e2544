"""What the soak (bench/soak.py) measures: RSS and open fds per service (the process and its
children, from /proc), the analyser's per-camera counters from its /metrics, and the
counters the load generators fill in (:class:`Stats`)."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

import httpx


def tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn workers, ffmpeg children)."""
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d.name))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def rss_and_fds(pid: int) -> tuple[float, int]:
    """RSS (MiB) and open fds summed over ``pid``'s process tree."""
    rss, fds = 0, 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    rss += int(line.split()[1])
            fds += len(os.listdir(f"/proc/{p}/fd"))
    return rss / 1024, fds


def write_json(path: str, value: dict[str, Any]) -> None:
    """Replace ``path`` with ``value`` atomically."""
    with open(path + ".tmp", "w") as f:
        json.dump(value, f)
    os.replace(path + ".tmp", path)


def read_json(path: str) -> dict[str, Any]:
    """``path``'s JSON object, {} while it is not there yet."""
    try:
        with open(path) as f:
            return dict(json.load(f))
    except (OSError, ValueError):
        return {}


ANALYSER_COUNTERS = {
    "argus_analysis_frames_total": "analysed",
    # Frames decoded but not analysed: the analyser was more than ANALYSIS_MAX_LAG_S behind.
    "argus_analysis_frames_dropped_total": "skipped",
    "argus_analysis_reconnects_total": "reconnects",
}


async def analyser_counts(c: httpx.AsyncClient, url: str | None) -> dict[str, dict[int, float]]:
    """The analyser's per-camera counters (``ANALYSER_COUNTERS``) from its /metrics."""
    out: dict[str, dict[int, float]] = {name: {} for name in ANALYSER_COUNTERS.values()}
    if url is None:
        return out
    try:
        text = (await c.get(url, timeout=5)).text
    except httpx.HTTPError:
        return out
    for line in text.splitlines():
        metric, _, rest = line.partition('{camera_id="')
        name = ANALYSER_COUNTERS.get(metric)
        if name is None:
            continue
        cam, _, value = rest.partition('"} ')
        with contextlib.suppress(ValueError):
            out[name][int(cam)] = float(value)
    return out


class Stats:
    def __init__(self) -> None:
        self.api_ms: list[float] = []
        self.api_errors: dict[str, int] = {}
        self.alert_s: list[float] = []
        self.alert_missed = 0
        self.misses: list[dict[str, Any]] = []  # each missed probe, with what was found
        self.analyser_metrics: str | None = None  # the analyser's /metrics URL
        self.hls_segments = 0
        self.hls_errors: dict[str, int] = {}

