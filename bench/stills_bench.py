"""Cost of the timeline's preview stills (recording-service ``stills.py``): CPU per still
and per segment, and bytes per still, for one-minute 1080p segments at 4 Mbit/s.

The segment is made once with FFmpeg (testsrc2: detailed, moving; x264, GOP 2 s, no
B-frames, fragmented like the recorder's files). Each run makes the stills of it the way
the recorder does after a segment closes (the file is in the page cache: it was just
written), measuring the thread's CPU time.

    .venv/bin/python bench/stills_bench.py [--runs 5] [--width 320]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from argus_recording.stills import make_stills


def make_segment(root: Path, seconds: int = 60) -> Path:
    path = root / "segment.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-y",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            f"testsrc2=size=1920x1080:rate=25:duration={seconds}",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-b:v",
            "4M",
            "-maxrate",
            "4M",
            "-bufsize",
            "4M",
            "-x264-params",
            "keyint=50:min-keyint=50:scenecut=0:bframes=0",
            "-pix_fmt",
            "yuv420p",
            "-movflags",
            "frag_keyframe+empty_moov+default_base_moof",
            str(path),
        ],
        check=True,
    )
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--width", type=int, default=320)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = make_segment(Path(tmp))
        size = path.stat().st_size
        print(f"segment: 60 s 1080p, {size / 1e6:.1f} MB")
        for interval in (10.0, 60.0):
            cpus, walls, sizes = [], [], []
            count = 0
            for _ in range(args.runs):
                t, c = time.perf_counter(), time.thread_time()
                stills = make_stills(path, interval, args.width)
                cpus.append(time.thread_time() - c)
                walls.append(time.perf_counter() - t)
                count = len(stills)
                sizes = [len(data) for _, data in stills]
            cpu = statistics.median(cpus)
            print(
                f"interval {interval:.0f} s: {count} stills per segment, "
                f"cpu {cpu * 1000:.0f} ms per segment ({cpu / count * 1000:.1f} ms per "
                f"still; wall {statistics.median(walls) * 1000:.0f} ms), "
                f"{statistics.mean(sizes) / 1000:.1f} KB per still at {args.width} px "
                f"({sum(sizes) / size * 100:.2f} % of the segment's bytes); "
                f"100 cameras: {cpu * 100 / 60 * 100:.1f} % of one core"
            )
        print(
            f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
            f"python {sys.version.split()[0]}"
        )


if __name__ == "__main__":
    main()
