"""Analysis of backfilled footage: how much faster than real time one segment file goes
through ``backfill/job.py`` (decode with one thread, motion, objects), at a CPU share.

    .venv/bin/python bench/backfill_analysis.py [--seconds 10] [--size 1920x1080] [--fps 25]

A segment of real H.264 (FFmpeg's ``testsrc2`` encoded by libx264 at 4 Mbit/s, 1080p25 by
default: motion in every frame, the worst case for the object path) is written once, then
analysed at ``ANALYSIS_BACKFILL_CPU_SHARE`` 1.0 and 0.5, with
motion only and with the ONNX test model on the motion regions. Printed: footage seconds
per wall second (x real time) and the analysing thread's CPU time (decode included).
``--file`` analyses a segment of your own instead (e.g. one the recorder wrote).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from argus_analysis.backfill.job import BackfillSegment, analyse_segment  # noqa: E402
from argus_analysis.cameras import MotionSettings  # noqa: E402
from argus_analysis.config import OVERLAY_MASK  # noqa: E402
from argus_analysis.detect.onnx import OnnxDetector  # noqa: E402
from argus_analysis.detect.select import DeviceChoice  # noqa: E402
from argus_analysis.objects.engine import ObjectEngine  # noqa: E402
from argus_analysis.objects.settings import ObjectSettings  # noqa: E402
from argus_analysis.pipeline import AnalysisParams  # noqa: E402

MODEL = ROOT / "ai-analysis-service" / "models" / "sim-detector.onnx"


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--size", default="1920x1080")
    ap.add_argument("--fps", type=int, default=25)
    ap.add_argument("--analysed-fps", type=float, default=10.0)
    ap.add_argument("--file", type=Path)
    args = ap.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    print(f"load average {os.getloadavg()}, {os.cpu_count()} CPUs")
    clip = args.file
    if clip is None:  # FFmpeg's testsrc2 at 4 Mbit/s: something changes in every frame
        clip = Path(tempfile.mkdtemp(prefix="argus-backfill-bench-")) / "segment.mp4"
        subprocess.run(
            [
                "ffmpeg",
                "-loglevel",
                "error",
                "-f",
                "lavfi",
                "-i",
                f"testsrc2=size={width}x{height}:rate={args.fps}",
                "-t",
                str(args.seconds),
                "-c:v",
                "libx264",
                "-preset",
                "veryfast",
                "-b:v",
                "4M",
                "-maxrate",
                "4M",
                "-bufsize",
                "8M",
                "-g",
                str(2 * args.fps),
                "-bf",
                "0",
                "-pix_fmt",
                "yuv420p",
                str(clip),
            ],
            check=True,
        )
    print(f"segment: {clip.name}, {clip.stat().st_size / 1e6:.1f} MB")
    params = AnalysisParams(
        detector=MotionSettings(enabled=True).detector_config("diff", 0.15, [OVERLAY_MASK]),
        start_frames=3,
        end_quiet_s=1.0,
        max_width=640,
        downscale="stride",
    )
    detector = OnnxDetector(MODEL)
    objects = ObjectSettings.model_validate({"enabled": True})

    def make_engine(sink: Any) -> ObjectEngine:
        return ObjectEngine({"onnx": detector}, "onnx", sink, fps=5)

    for label, with_objects in (("motion", False), ("motion + onnx objects", True)):
        for share in (1.0, 0.5):
            c0, w0 = time.thread_time(), time.perf_counter()
            found = analyse_segment(
                BackfillSegment(1, clip, 1_700_000_000.0),
                "bench",
                DeviceChoice("cpu", "opencv", "bench"),
                params,
                make_engine if with_objects else None,
                objects if with_objects else ObjectSettings(),
                fps=args.analysed_fps,
                cpu_share=share,
                stop=threading.Event(),
            )
            wall, cpu = time.perf_counter() - w0, time.thread_time() - c0
            print(
                f"{label}, CPU share {share:.1f}: {found.media_s / wall:.1f}x real time "
                f"(wall {wall:.2f} s, thread CPU {cpu:.2f} s = {cpu / wall:.2f} of a core; "
                f"{found.frames} frames decoded, {found.analysed} analysed, "
                f"{len(found.motion)} motion and {len(found.objects)} object events)"
            )
    print(f"load average after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
