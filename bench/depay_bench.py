"""H.264 RTP depacketizing cost per frame, as the live path and the recorder pay it.

    .venv/bin/python bench/depay_bench.py [--seconds 10] [--rounds 15] [--against REV]

A synthetic camera stream: 1920x1080 at 30 fps, 4 Mbit/s, 1 s GOP (an IDR six times the
size of a P frame, SPS/PPS/SEI before it), one slice per picture, RTP payloads of at most
1400 bytes (FU-A), built once in memory. Every path gets the whole stream, packet by
packet, as the RTSP client hands it over (``(channel, packet)``), in rounds interleaved
with each other; the figure is CPU microseconds per frame (best and median round):

- ``streaming``: ``RtpDemux`` as streaming's live source uses it (Annex-B out, B-frame
  check on, parameter sets before IDRs), including the ``AccessUnit``;
- ``recorder``: ``AuAssembler`` of recording-service (AVCC MP4 samples);
- ``depay-annexb`` / ``depay-avcc``: the shared depacketizer alone, when it has that API.

``--against REV`` loads the same classes from git revision REV (``depay.py``,
``demux.py``, ``rtp_au.py`` of that commit) and runs them in the same rounds, for a
before/after on one machine under one load; the outputs of both must be equal.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from argus_common.rtsp.packetize import packetize
from argus_common.rtsp.sdp import SdpTrack

ROOT = Path(__file__).resolve().parent.parent
FPS, BITRATE, GOP, IDR_RATIO, MTU = 30, 4_000_000, 30, 6, 1400
SPS = bytes.fromhex("6764002aacd940780227e5c04400000300040000030f03c60c6580")
PPS = bytes.fromhex("68ebe3cb22c0")
SEI = b"\x06\x05\x10" + bytes(range(1, 17)) + b"\x80"


def _body(rng: random.Random, size: int) -> bytes:
    # No zero bytes: nothing to escape, and Annex-B splits exactly where the NALs end.
    return rng.randbytes(size).replace(b"\x00", b"\x01")


def stream(seconds: float) -> tuple[list[bytes], int]:
    """RTP packets (interleaved payloads, no '$' framing) of ``seconds`` of video."""
    rng = random.Random(7)
    p_size = BITRATE // 8 // FPS * GOP // (GOP - 1 + IDR_RATIO)
    packets: list[bytes] = []
    seq, ts, frames = 40_000, 0xFFFF_0000, int(seconds * FPS)  # both wrap in the run
    for n in range(frames):
        if n % GOP == 0:
            nals = [SPS, PPS, SEI, b"\x65\x88" + _body(rng, p_size * IDR_RATIO)]
        else:
            nals = [b"\x41\x9a" + _body(rng, p_size)]
        payloads = packetize(nals, MTU)
        for i, payload in enumerate(payloads):
            marker = 0x80 if i == len(payloads) - 1 else 0
            packets.append(bytes((0x80, marker | 96)) + (seq & 0xFFFF).to_bytes(2, "big")
                           + (ts & 0xFFFFFFFF).to_bytes(4, "big") + b"\x12\x34\x56\x78"
                           + payload)
            seq += 1
        ts += 90_000 // FPS
    return packets, frames


def _load(name: str, source: str) -> ModuleType:
    path = Path(tempfile.mkdtemp(prefix="depay-bench-")) / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def old_modules(rev: str) -> dict[str, ModuleType]:
    """depay/demux/rtp_au of git revision ``rev``, importing each other, not today's."""
    def show(path: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), "show", f"{rev}:{path}"],
                              capture_output=True, text=True, check=True).stdout

    rtsp = "libs/argus-common/src/argus_common/rtsp"
    depay = _load("old_depay", show(f"{rtsp}/depay.py"))
    demux = _load("old_demux", show(f"{rtsp}/demux.py").replace(
        "argus_common.rtsp.depay", "old_depay"))
    rtp_au = _load("old_rtp_au", show("recording-service/src/argus_recording/rtp_au.py")
                   .replace("argus_common.rtsp.depay", "old_depay"))
    return {"depay": depay, "demux": demux, "rtp_au": rtp_au}


def paths(demux: Any, rtp_au: Any, depay: Any,
          out: list[Any]) -> dict[str, Callable[[], Callable[[int, bytes], None]]]:
    """Factories of one per-connection handler per path; units land in ``out``."""
    video = SdpTrack("video", 96, "h264")
    found: dict[str, Callable[[], Callable[[int, bytes], None]]] = {
        "streaming": lambda: demux.RtpDemux(video, 0, None, None, out.append, lambda: None,
                                            lambda: None),
        "recorder": lambda: rtp_au.AuAssembler(0, None, None, out.append, out.append),
    }
    depacketizer = getattr(depay, "H264Depacketizer", None)
    if depacketizer is not None and hasattr(depacketizer, "packet"):
        for fmt in ("annexb", "avcc"):
            def make(fmt: str = fmt) -> Callable[[int, bytes], None]:
                handler: Callable[[int, bytes], None] = depacketizer(
                    out.append, annexb=fmt == "annexb")
                return handler
            found[f"depay-{fmt}"] = make
    return found


def run_once(factory: Callable[[], Callable[[int, bytes], None]],
             packets: list[bytes]) -> float:
    handler = factory()
    t0 = time.process_time()
    for pkt in packets:
        handler(0, pkt)
    return time.process_time() - t0


def digest(units: list[Any]) -> list[tuple[bytes, int, bool]]:
    """What a path emitted, comparable across revisions."""
    out = []
    for u in units:
        if hasattr(u, "pts"):  # AccessUnit
            out.append((u.data, u.pts, u.keyframe))
        else:  # VideoAU
            out.append((u.data, u.ts, u.key))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--against", help="git revision to compare with (before/after)")
    args = parser.parse_args()
    packets, frames = stream(args.seconds)
    import argus_common.rtsp.demux as demux
    import argus_common.rtsp.depay as depay
    from argus_recording import rtp_au

    out: list[Any] = []
    table = paths(demux, rtp_au, depay, out)
    if args.against:
        old = old_modules(args.against)
        for name, factory in paths(old["demux"], old["rtp_au"], old["depay"], out).items():
            table[f"{name}@{args.against}"] = factory
    outputs: dict[str, list[tuple[bytes, int, bool]]] = {}
    for name, factory in table.items():
        out.clear()
        run_once(factory, packets)
        outputs[name] = digest(out)
        assert len(outputs[name]) == frames, (name, len(outputs[name]))
    for name in table:
        twin = name.split("@")[0]
        if twin != name and twin in outputs:
            assert outputs[name] == outputs[twin], f"{name} and {twin} differ"
    times: dict[str, list[float]] = {name: [] for name in table}
    for _ in range(args.rounds):
        for name, factory in table.items():
            out.clear()
            times[name].append(run_once(factory, packets))
    mbit = sum(len(p) - 12 for p in packets) * 8 / args.seconds / 1e6
    load = os.getloadavg()[0]
    print(f"{frames} frames, {len(packets)} RTP packets ({len(packets) / frames:.1f} per "
          f"frame), {mbit:.2f} Mbit/s payload, load avg {load:.1f}")
    print(f"{'path':<28} {'best µs/frame':>14} {'median µs/frame':>16} {'µs/packet':>10}")
    for name, values in times.items():
        best, median = min(values) / frames * 1e6, statistics.median(values) / frames * 1e6
        per_packet = min(values) / len(packets) * 1e6
        print(f"{name:<28} {best:>14.1f} {median:>16.1f} {per_packet:>10.2f}")


if __name__ == "__main__":
    main()
