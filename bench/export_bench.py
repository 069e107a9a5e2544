"""Export speed against the physical limit: one hour of 1080p at 4 Mbit/s remuxed into an
evidence bundle (MP4 + manifest + signature, SHA-256 of everything) against ``cp`` of the
same segment files, on the same disk, in the same run.

The segments are made once with FFmpeg, ``-c copy`` from a looped 10 s clip (x264, GOP 2 s,
AAC audio), cut every 60 s into fragmented MP4 the way the recorder's FFmpeg writer makes
them (``frag_keyframe+empty_moov+default_base_moof``). Before every timed run the source
files are dropped from the page cache (``POSIX_FADV_DONTNEED``), and both runs end with
their output fsynced, so each reads from and writes to the disk. Runs alternate (cp,
export, cp, export …); the figures are the medians. Goal (issue W2 6/10): ratio <= 1.5.

Each export runs in a child process that times ``build_bundle`` alone. ``--compare REV``
also exports with management's code as it was at git revision ``REV`` (its
``management-service/src`` first on ``PYTHONPATH``), in the same runs (cp, then both codes,
taking turns at going first), so both see the same load; every bundle is made with the same
``created_at`` and checked to be the same bytes (size, manifest, zip headers and central
directory) whichever code made it.

    .venv/bin/python bench/export_bench.py [--minutes 60] [--runs 3] [--dir PATH]
        [--compare REV]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from argus_common.mp4read import read_segment

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
SEGMENT_S = 60
ROOT = Path(__file__).resolve().parents[1]


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


def _source_at(rev: str, into: Path) -> Path:
    """management-service/src as it was at ``rev``, extracted into ``into``."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "management-service/src"],
                             check=True, capture_output=True, timeout=60).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True, timeout=60)
    return into / "management-service" / "src"


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
                minutes: int, pythonpath: Path | None) -> dict[str, Any]:
    """One export in a child process (management's code from ``pythonpath`` when given,
    else the working tree's), timed by the child: seconds, CPU seconds, bundle bytes,
    frames, and digests that must be equal whichever code made the bundle."""
    evict(segments)
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath),
                                                          env.get("PYTHONPATH")]))
    order = {"segments": [str(p) for p in segments], "offsets": offsets, "dest": str(dest),
             "key_dir": str(key_dir), "minutes": minutes}
    out = subprocess.run([sys.executable, __file__, "--child"], input=json.dumps(order),
                         env=env, check=True, capture_output=True, text=True, timeout=600)
    result: dict[str, Any] = json.loads(out.stdout.splitlines()[-1])
    dest.unlink()
    return result


def child() -> None:
    """The timed export (see ``time_export``); prints one JSON line."""
    from argus_management.exports.bundle import BundleJob, ItemSpec, Progress, build_bundle
    from argus_management.exports.remux import SourceSegment
    from argus_management.exports.signing import load_signing_key

    order = json.loads(sys.stdin.read())
    dest = Path(order["dest"])
    sources = [SourceSegment(Path(p), (T0 + timedelta(seconds=at)).timestamp())
               for p, at in zip(order["segments"], order["offsets"], strict=True)]
    job = BundleJob(
        export_id=1, name="bench", reason="benchmark", exported_by={"username": "bench"},
        created_at=T0, argus_version="bench",  # fixed: bundles compare byte for byte
        items=[ItemSpec(camera_id=1, camera_name="bench", start=T0,
                        end=T0 + timedelta(minutes=order["minutes"]), segments=sources)],
        audit_rows=[], key=load_signing_key(order["key_dir"]), path=dest,
    )
    cpu = time.process_time()
    t = time.perf_counter()
    result = build_bundle(job, Progress())
    elapsed = time.perf_counter() - t
    cpu = time.process_time() - cpu
    size = dest.stat().st_size
    with dest.open("rb") as f:  # the zip's headers and central directory (CRC-32s)
        ends = f.read(1 << 16)
        f.seek(max(0, size - (1 << 16)))
        ends += f.read()
    print(json.dumps({"seconds": elapsed, "cpu": cpu, "bytes": size,
                      "frames": int(result.files[0]["frames"]),
                      "manifest": result.manifest_sha256,
                      "ends": hashlib.sha256(ends).hexdigest()}))


def _summary(label: str, runs: list[dict[str, Any]], cps: list[float], total: int) -> None:
    seconds = [r["seconds"] for r in runs]
    ratios = sorted(r["seconds"] / c for r, c in zip(runs, cps, strict=True))
    export_s = statistics.median(seconds)
    print(f"{label}: export median {export_s:.2f} s ({total / export_s / 1e6:.0f} MB/s, cpu "
          f"{statistics.median(r['cpu'] for r in runs):.2f} s); ratio per run: median "
          f"{statistics.median(ratios):.2f}, best {ratios[0]:.2f}, worst {ratios[-1]:.2f} "
          f"(goal <= 1.5)")


def main() -> None:
    if sys.argv[1:] == ["--child"]:
        child()
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=Path("/work/.export-bench"))
    parser.add_argument("--compare", metavar="REV",
                        help="also export with management as at git revision REV")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(dir=args.dir))
    try:
        codes: dict[str, Path | None] = {"working tree": None}
        if args.compare:
            (root / "old").mkdir()
            codes = {f"at {args.compare}": _source_at(args.compare, root / "old"), **codes}
        t = time.perf_counter()
        segments = make_segments(root, args.minutes)
        total = sum(p.stat().st_size for p in segments)
        print(f"segments: {len(segments)} x {SEGMENT_S} s, {total / 1e9:.2f} GB "
              f"(made in {time.perf_counter() - t:.0f} s)", flush=True)
        offsets = starts(segments)
        cps: list[float] = []
        runs: dict[str, list[dict[str, Any]]] = {label: [] for label in codes}
        for i in range(args.runs):
            cps.append(time_cp(segments, root / "copy"))
            # The codes take turns going first, so neither always follows cp.
            labels = list(codes) if i % 2 == 0 else list(reversed(codes))
            line = [f"run {i + 1}: cp {cps[-1]:.2f} s"]
            for label in labels:
                r = time_export(segments, offsets, root / "bundle.zip", root, args.minutes,
                                codes[label])
                runs[label].append(r)
                line.append(f"{label} {r['seconds']:.2f} s (cpu {r['cpu']:.2f} s, ratio "
                            f"{r['seconds'] / cps[-1]:.2f})")
            line.append("load " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
            print("; ".join(line), flush=True)
        made = {(r["bytes"], r["manifest"], r["ends"]) for rs in runs.values() for r in rs}
        some = next(iter(runs.values()))[0]
        print(f"bundle: {some['bytes'] / 1e9:.2f} GB, {some['frames']} frames; "
              + ("identical" if len(made) == 1 else "DIFFERENT") + " across runs and codes")
        cp_s = statistics.median(cps)
        print(f"cp median {cp_s:.2f} s ({total / cp_s / 1e6:.0f} MB/s), "
              f"spread {min(cps):.2f}-{max(cps):.2f} s")
        for label, rs in runs.items():
            _summary(label, rs, cps, total)
        print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
              f"python {sys.version.split()[0]}")
        if len(made) != 1:
            sys.exit("the bundles differ")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
