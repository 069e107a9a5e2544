"""``argus-analysis analyse``: motion detection on one file or stream, printed as JSON lines.

Needs neither Redis nor management: handy to tune settings on a clip (MP4, MPEG-TS, any
container PyAV reads) or to check a camera URL. Each motion start/end is one line; with
``--frames`` every analysed frame is.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import cv2

from argus_analysis.cameras import MotionSettings
from argus_analysis.config import OVERLAY_MASK
from argus_analysis.detect.select import choose_device
from argus_analysis.pipeline import AnalysisParams, Analyzer
from argus_analysis.source import DecoderOptions, SourceError, open_source
from argus_common.media import is_stream


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="argus-analysis analyse", description=__doc__)
    p.add_argument("input", help="a file path or a stream URL (rtsp://, http://, udp:// …)")
    p.add_argument("--sensitivity", type=int, default=50)
    p.add_argument("--min-area", type=float, default=0.002)
    p.add_argument("--start-frames", type=int, default=3)
    p.add_argument("--end-quiet-s", type=float, default=5.0)
    p.add_argument("--zones", default="[]", help="JSON list of polygons [[x, y], …]")
    p.add_argument("--masks", default=None, help="JSON list of polygons (default: top quarter)")
    p.add_argument("--algorithm", choices=["diff", "mog2"], default="diff")
    p.add_argument("--max-width", type=int, default=640)
    p.add_argument("--max-frames", type=int, default=0, help="stop after N frames (0: all)")
    p.add_argument("--frames", action="store_true", help="print every analysed frame")
    return p


def analyse_main(argv: list[str]) -> int:
    """Run the ``analyse`` subcommand; returns the exit status."""
    args = _parser().parse_args(argv)
    cv2.setNumThreads(1)
    try:
        settings = MotionSettings(
            enabled=True, sensitivity=args.sensitivity, min_area=args.min_area,
            zones=json.loads(args.zones), masks=json.loads(args.masks) if args.masks else [],
            start_frames=args.start_frames, end_quiet_s=args.end_quiet_s,
        )
    except ValueError as exc:
        print(f"invalid settings: {exc}", file=sys.stderr)
        return 2
    params = AnalysisParams(
        detector=settings.detector_config(args.algorithm, 0.15, [OVERLAY_MASK]),
        start_frames=settings.start_frames, end_quiet_s=settings.end_quiet_s,
        max_width=args.max_width, downscale="stride",
    )
    live = is_stream(args.input)
    try:
        decoder = DecoderOptions(threads=1 if live else 0)
        source = open_source(args.input, live=live, decoder=decoder)
    except SourceError as exc:
        print(f"cannot open the input: {exc.reason} {exc.detail}", file=sys.stderr)
        return 1
    analyzer = Analyzer(choose_device("cpu"), params)
    count, started = 0, time.perf_counter()
    try:
        for decoded in source.frames():
            a = analyzer.process(decoded.frame, decoded.media_s, decoded.media_s)
            count += 1
            if args.frames or a.transition is not None:
                print(json.dumps({
                    "media_s": round(a.media_s, 3), "motion": a.result.motion,
                    "score": a.result.score, "boxes": a.result.boxes,
                    "event": None if a.transition is None else f"motion.{a.transition.kind}",
                }), flush=True)
            if args.max_frames and count >= args.max_frames:
                break
    except SourceError as exc:
        print(f"input failed: {exc.reason}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        source.close()
    elapsed = time.perf_counter() - started
    print(json.dumps({"frames": count, "seconds": round(elapsed, 2),
                      "fps": round(count / elapsed, 1) if elapsed else None}), file=sys.stderr)
    return 0
