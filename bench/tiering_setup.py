"""Set-up shared by the tiering benches (``tiering_bench.py``, ``tiering_vod_bench.py``,
``tiering_playback_bench.py``, ``export_ranged_bench.py``): a 1080p30 H.264 fMP4 segment
made with FFmpeg, the store's settings, tiered copies of it as the recorder's mover leaves
them (in the recordings layout, sidecar written while the file is local, uploaded, the local
file removed), a count of the S3 requests and bytes a client asks for, and the machine's
load for each bench's figures.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argus_common.objectstore import ObjectStore, ObjectStoreSettings
from argus_common.segindex import write_index
from argus_testkit.objectstore import LocalObjectStore

CAMERA = 1
START = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


def uptime() -> str:
    """``uptime``'s line (the load a figure was measured at)."""
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def load_average() -> str:
    """``load average 1.00 2.00 3.00``: the line each bench ends with."""
    la = os.getloadavg()
    return f"load average {la[0]:.2f} {la[1]:.2f} {la[2]:.2f}"


def make_segment(path: Path, seconds: int) -> None:
    """``seconds`` of 1080p30 testsrc2, ~4 Mbit/s, 1 s GOPs, no B-frames, one fragment per
    GOP (the recorder's movflags)."""
    subprocess.run(
        [
            "ffmpeg", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size=1920x1080:rate=30:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-b:v", "4M", "-maxrate", "4M", "-bufsize", "8M", "-g", "30", "-bf", "0",
            "-pix_fmt", "yuv420p",
            "-movflags", "frag_keyframe+empty_moov+default_base_moof",
            str(path),
        ],
        check=True,
        timeout=600,
    )


def settings(store: LocalObjectStore, cache: Path, **extra: str) -> ObjectStoreSettings:
    """The store's ``ARGUS_S3_*`` settings with the cache in ``cache`` (and ``extra``)."""
    return ObjectStoreSettings(**{**store.env(), "ARGUS_S3_CACHE_DIR": str(cache), **extra})


def layout(root: Path, n: int, seconds: int) -> tuple[str, datetime]:
    """The path (recordings layout) and start of the ``n``-th consecutive segment."""
    began = START + timedelta(seconds=n * seconds)
    rel = f"{CAMERA}/{began:%Y-%m-%d}/{began:%H}/{int(began.timestamp() * 1000)}.mp4"
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    return rel, began


async def tier_copies(
    segment: Path, root: Path, count: int, seconds: int, conf: ObjectStoreSettings
) -> tuple[list[tuple[str, datetime]], list[float]]:
    """``count`` copies of ``segment`` tiered as the mover does: each one's sidecar written
    (timed), uploaded as its own path, removed locally. Returns the segments and the
    sidecar write times."""
    segs = [layout(root, n, seconds) for n in range(count)]
    writes = []
    for rel, _ in segs:
        shutil.copyfile(segment, root / rel)
        t0 = time.perf_counter()
        if write_index(root / rel) is None:
            raise RuntimeError(f"cannot index {rel}")
        writes.append(time.perf_counter() - t0)
    async with ObjectStore(conf) as up:
        for rel, _ in segs:
            await up.put_file(root / rel, rel)
    for rel, _ in segs:
        (root / rel).unlink()
    return segs, writes


class S3Counts:
    """The requests a client sends from now on, by operation, and the bytes its GETs ask
    for (by their ``Range``)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.get_bytes = 0
        client.meta.events.register("before-call.s3", self._call)
        client.meta.events.register("before-parameter-build.s3.GetObject", self._get)

    def _call(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _get(self, params: dict[str, Any], **_: Any) -> None:
        first, _dash, last = str(params.get("Range", "")).removeprefix("bytes=").partition("-")
        if first.isdigit() and last.isdigit():
            self.get_bytes += int(last) - int(first) + 1

    @property
    def requests(self) -> int:
        """All requests so far."""
        return sum(self.calls.values())
