"""The floor under the recorder's cost per video packet, in two parts measured apart:

    .venv/bin/python bench/recording_floor.py read --url-template rtsp://H:P/cam{n}/main \
        --streams 50 --seconds 30
    .venv/bin/python bench/recording_floor.py remux --url-template ... --seconds 10

``read``: N connections of the shared RTSP client (``argus_common.rtsp``) on one loop (uvloop
when installed, as the recorder), every interleaved frame handed to a handler that does
nothing: socket reads and interleave framing, no depacketization. ``remux``: the access
units of one camera are captured for ``--seconds`` (assembler included), then written
with the recorder's ``FragmentWriter`` again and again into a scratch directory; CPU per
access unit of the writing alone (fMP4 boxes, writev, one fsync per segment as in
production). Both print one JSON line. Called by bench/recording_vs_ffmpeg.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from argus_common.rtsp.client import RtspClient
from argus_recording.fragments import FragmentWriter
from argus_recording.ingest_loop import _new_loop
from argus_recording.layout import DirMaker
from argus_recording.rtp_au import AuAssembler, VideoAU
from argus_recording.rtp_stamp import RtpStamper


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def read(template: str, streams: int, seconds: float) -> dict[str, float]:
    frames = [0]

    def count(channel: int, packet: bytes) -> None:
        if channel == 0 and packet[1] & 0x80:  # marker bit: one access unit
            frames[0] += 1

    clients = []
    for n in range(1, streams + 1):
        client = RtspClient(template.format(n=n), on_rtp=count)
        await client.start()
        clients.append(client)
    await asyncio.sleep(3)
    frames[0] = 0
    c0, t0 = cpu(), time.monotonic()
    await asyncio.sleep(seconds)
    c1, t1 = cpu(), time.monotonic()
    for client in clients:
        await client.close()
    return {"streams": streams, "cpu_pct": (c1 - c0) / (t1 - t0) * 100,
            "frames": frames[0], "us_per_packet": (c1 - c0) / max(1, frames[0]) * 1e6}


async def capture(url: str, seconds: float) -> list[VideoAU]:
    units: list[VideoAU] = []
    client = RtspClient(url)
    tracks = await client.setup()
    client.on_rtp = AuAssembler(tracks[0].channel, None, None, units.append, lambda a: None)
    await client.play()
    await asyncio.sleep(seconds)
    await client.close()
    return units


def remux(units: list[VideoAU], sps: bytes, pps: bytes, rounds: int) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix="argus-remux-floor-"))
    dirs = DirMaker(root, True)
    first_key = next(i for i, u in enumerate(units) if u.key)
    units = units[first_key:]
    best = float("inf")
    try:
        for r in range(rounds):
            stamper = RtpStamper(sps, pps, 0, 2000)
            items = [stamper.video(u) for u in units]
            c0 = cpu()
            writer = FragmentWriter(root=root, dirs=dirs, camera_id=r + 1, first=items[0],
                                    kind="continuous", audio=None, durable=True)
            for item in items:
                writer.write(item)
            writer.finish(items[-1].wall_ms)
            best = min(best, cpu() - c0)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return {"units": len(units), "us_per_packet": best / len(units) * 1e6}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("mode", choices=["read", "remux"])
    parser.add_argument("--url-template", required=True)
    parser.add_argument("--streams", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args()
    loop = _new_loop()
    if args.mode == "read":
        out = loop.run_until_complete(read(args.url_template, args.streams, args.seconds))
    else:
        url = args.url_template.format(n=1)
        units = loop.run_until_complete(capture(url, args.seconds))
        sps = next(u.sps for u in units if u.sps is not None)
        pps = next(u.pps for u in units if u.pps is not None)
        out = remux(units, sps, pps, rounds=5)
    out["load_avg"] = os.getloadavg()[0]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
