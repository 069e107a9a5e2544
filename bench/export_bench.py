"""Export speed against the physical limit: one hour of 1080p at 4 Mbit/s remuxed into an
evidence bundle (MP4 + manifest + signature, SHA-256 of everything) against ``cp`` of the
same segment files, on the same disk, in the same run.

The segments are made once with FFmpeg, ``-c copy`` from a looped 10 s clip (x264, GOP 2 s,
AAC audio), cut every 60 s into fragmented MP4 the way the recorder's FFmpeg writer makes
them (``frag_keyframe+empty_moov+default_base_moof``). Before every timed run the source
files are dropped from the page cache (``POSIX_FADV_DONTNEED``), and both runs end with
their output fsynced, so each reads from and writes to the disk. Runs alternate (cp,
export, cp, export …); the figures are the medians. Goal (issue W2 6/10): ratio <= 1.5.

    .venv/bin/python bench/export_bench.py [--minutes 60] [--runs 3] [--dir PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from argus_management.exports.bundle import BundleJob, ItemSpec, Progress, build_bundle
from argus_management.exports.mp4read import read_segment
from argus_management.exports.remux import SourceSegment
from argus_management.exports.signing import load_signing_key

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SEGMENT_S = 60


def run(cmd: list[str]) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_segments(root: Path, minutes: int) -> list[Path]:
    """``minutes`` one-minute fMP4 segments of 1080p 4 Mbit/s video with AAC audio."""
    clip = root / "clip.mp4"
    run(["ffmpeg", "-y", "-loglevel", "error",
         "-f", "lavfi", "-i", "testsrc2=size=1920x1080:rate=25:duration=10",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration=10",
         "-c:v", "libx264", "-preset", "ultrafast", "-b:v", "4M", "-maxrate", "4M",
         "-bufsize", "4M", "-x264-params", "keyint=50:min-keyint=50:scenecut=0:bframes=0",
         "-pix_fmt", "yuv420p", "-c:a", "aac", "-b:a", "64k", "-shortest", str(clip)])
    out = root / "segments"
    out.mkdir()
    run(["ffmpeg", "-y", "-loglevel", "error", "-stream_loop", "-1", "-i", str(clip),
         "-t", str(minutes * 60), "-c", "copy", "-f", "segment",
         "-segment_time", str(SEGMENT_S), "-reset_timestamps", "1",
         "-segment_format", "mp4", "-segment_format_options",
         "movflags=frag_keyframe+empty_moov+default_base_moof",
         str(out / "%04d.mp4")])
    return sorted(out.glob("*.mp4"))


def starts(segments: list[Path]) -> list[float]:
    """Seconds from T0 at which each segment starts, as the recorder announces them (the
    wall time of its first frame): the durations of the ones before (60 s, give or take
    the cut at a keyframe)."""
    out, at = [], 0.0
    for path in segments:
        out.append(at)
        video = read_segment(path).track(b"vide")
        assert video is not None
        at += (video.dts[-1] + video.dur[-1] - video.dts[0]) / video.timescale
    return out


def evict(paths: list[Path]) -> None:
    """Drop these files' pages from the page cache (clean pages: nothing is lost)."""
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def time_cp(segments: list[Path], dest: Path) -> float:
    evict(segments)
    dest.mkdir()
    t = time.perf_counter()
    subprocess.run(["cp", *map(str, segments), str(dest)], check=True)
    for path in dest.iterdir():
        fd = os.open(path, os.O_RDONLY)
        os.fsync(fd)
        os.close(fd)
    elapsed = time.perf_counter() - t
    shutil.rmtree(dest)
    return elapsed


def time_export(segments: list[Path], offsets: list[float], dest: Path, key_dir: Path,
                minutes: int) -> tuple[float, float, int, int]:
    """Seconds, CPU seconds, bundle bytes, frames."""
    sources = [SourceSegment(p, (T0 + timedelta(seconds=at)).timestamp())
               for p, at in zip(segments, offsets, strict=True)]
    evict(segments)
    job = BundleJob(
        export_id=1, name="bench", reason="benchmark", exported_by={"username": "bench"},
        created_at=datetime.now(UTC), argus_version="bench",
        items=[ItemSpec(camera_id=1, camera_name="bench", start=T0,
                        end=T0 + timedelta(minutes=minutes), segments=sources)],
        audit_rows=[], key=load_signing_key(str(key_dir)), path=dest,
    )
    cpu = time.process_time()
    t = time.perf_counter()
    result = build_bundle(job, Progress())
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - cpu
    frames = int(result.files[0]["frames"])
    size = result.bytes
    dest.unlink()
    return elapsed, cpu, size, frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/work/.export-bench"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        t = time.perf_counter()
        segments = make_segments(root, args.minutes)
        total = sum(p.stat().st_size for p in segments)
        print(f"segments: {len(segments)} x {SEGMENT_S} s, {total / 1e9:.2f} GB "
              f"(made in {time.perf_counter() - t:.0f} s)", flush=True)
        offsets = starts(segments)
        cps, exports, cpus = [], [], []
        size = frames = 0
        for i in range(args.runs):
            cps.append(time_cp(segments, root / "copy"))
            elapsed, cpu, size, frames = time_export(segments, offsets, root / "bundle.zip",
                                                     root, args.minutes)
            exports.append(elapsed)
            cpus.append(cpu)
            print(f"run {i + 1}: cp {cps[-1]:.2f} s, export {elapsed:.2f} s "
                  f"(cpu {cpu:.2f} s), ratio {elapsed / cps[-1]:.2f}", flush=True)
        cp_s, export_s = statistics.median(cps), statistics.median(exports)
        ratios = sorted(e / c for e, c in zip(exports, cps, strict=True))
        print(f"bundle: {size / 1e9:.2f} GB, {frames} frames")
        print(f"median: cp {cp_s:.2f} s ({total / cp_s / 1e6:.0f} MB/s), export "
              f"{export_s:.2f} s ({total / export_s / 1e6:.0f} MB/s, cpu "
              f"{statistics.median(cpus):.2f} s); ratio per run: median "
              f"{statistics.median(ratios):.2f}, best {ratios[0]:.2f}, worst {ratios[-1]:.2f} "
              f"(goal <= 1.5)")
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"python {sys.version.split()[0]}")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
