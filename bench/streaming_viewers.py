"""Many WebRTC viewers of one camera: frame rate per viewer and streaming-service CPU.

The camera is the simulator replaying a pre-encoded clip (``--source loop``: 1080p30 at
``--kbps``, 1 s GOP), so the simulator costs almost nothing. The viewers are aiortc peers
spread over ``--client-procs`` processes: each does ICE, DTLS and SRTP (every packet is
decrypted), then counts RTP packets and frames (marker bits) per viewer instead of
depacketizing and decoding them, which a 2-core machine could not do for 50 1080p streams.
streaming-service CPU is read from /proc for its whole process group (workers included)
over a steady window.

    .venv/bin/python bench/streaming_viewers.py [--viewers 1 10 25 50] [--kbps 4000]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "streaming-service" / "tests"))
from streaming_stack import load, streaming_stack

TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid: int) -> float:
    """utime + stime of every live process in process group ``pgid``."""
    total = 0
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


class Counts:
    """Packets and frames (marker bits) that one viewer received and decrypted."""

    def __init__(self) -> None:
        self.packets = 0
        self.frames = 0


def count_only(pc: Any) -> Counts:
    """Once ``pc`` is connected, replace its RTP path with a counter.

    Each SRTP packet is still decrypted (and its authentication checked) with the session's
    keys, straight from the socket callback; STUN (consent checks) and RTCP take their usual
    path. Depacketizing, jitter buffering and decoding are skipped.
    """
    counts = Counts()
    dtls = pc.getTransceivers()[0].receiver.transport
    srtp = dtls._rx_srtp
    for protocol in dtls.transport._connection._protocols:
        original = protocol.datagram_received

        def received(data: bytes, addr: Any, original: Any = original) -> None:
            if 127 < data[0] < 192 and not 192 <= data[1] <= 223:  # SRTP, not SRTCP
                try:
                    plain = srtp.unprotect(data)
                except Exception:
                    return
                counts.packets += 1
                if plain[1] & 0x80:  # marker: last packet of a frame
                    counts.frames += 1
                return
            original(data, addr)

        protocol.datagram_received = received
    return counts


async def _viewers(base: str, token: str, camera_id: int, n: int, settle_s: float,
                   window_s: float, start_at: float) -> dict[str, Any]:
    from whep_client import whep_close, whep_connect

    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        viewers = []
        for _ in range(n):
            resp, viewer = await whep_connect(client, f"/whep/{camera_id}", headers)
            assert resp.status_code == 201, resp.text
            viewers.append(viewer)
        for _ in range(600):  # up to 30 s for every viewer to connect
            if all(v.pc.connectionState == "connected" for v in viewers):
                break
            await asyncio.sleep(0.05)
        counts = [count_only(v.pc) for v in viewers]
        await asyncio.sleep(max(0.0, start_at - time.time()) + settle_s)
        f0 = [c.frames for c in counts]
        p0 = sum(c.packets for c in counts)
        own0, t0 = sum(os.times()[:2]), time.monotonic()
        await asyncio.sleep(window_s)
        dt = time.monotonic() - t0
        fps = [(c.frames - f) / dt for c, f in zip(counts, f0, strict=True)]
        pps = (sum(c.packets for c in counts) - p0) / dt
        own = (sum(os.times()[:2]) - own0) / dt
        for v in viewers:
            await whep_close(client, v, headers)  # type: ignore[arg-type]
    return {"fps": fps, "pps": pps, "cpu": own}


def _client(args: tuple[str, str, int, int, float, float, float], out: Any) -> None:
    out.put(asyncio.run(_viewers(*args)))


def run(base: str, token: str, camera_id: int, pid: int, n: int, procs: int,
        window_s: float) -> dict[str, Any]:
    """``n`` viewers over ``procs`` client processes; CPU over the common window."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    shares = [n // procs + (1 if i < n % procs else 0) for i in range(procs)]
    start_at = time.time() + 3 + n * 0.08  # every process connected by then
    settle = 3.0
    workers = [ctx.Process(target=_client, args=((base, token, camera_id, k, settle, window_s,
                                                   start_at), out))
               for k in shares if k]
    for w in workers:
        w.start()
    time.sleep(max(0.0, start_at - time.time()) + settle)
    cpu0, t0 = group_cpu_seconds(pid), time.monotonic()
    time.sleep(window_s)
    cpu1, t1 = group_cpu_seconds(pid), time.monotonic()
    results = [out.get(timeout=120) for _ in workers]
    for w in workers:
        w.join(30)
    fps = [f for r in results for f in r["fps"]]
    return {"cpu": (cpu1 - cpu0) / (t1 - t0), "fps_mean": sum(fps) / len(fps),
            "fps_min": min(fps), "pps": sum(r["pps"] for r in results),
            "client_cpu": sum(r["cpu"] for r in results)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--resolution", default="1920x1080")
    ap.add_argument("--kbps", type=int, default=4000, help="the looped clip's bitrate")
    ap.add_argument("--viewers", type=int, nargs="+", default=[1, 10, 25, 50])
    ap.add_argument("--client-procs", type=int, default=2)
    ap.add_argument("--window", type=float, default=10.0)
    ap.add_argument("--env", nargs="*", default=[], help="extra STREAMING_X=Y settings")
    args = ap.parse_args()
    extra = dict(e.split("=", 1) for e in args.env)
    print(f"date {time.strftime('%Y-%m-%d')} load {load()} cpus {os.cpu_count()} {extra}")
    with streaming_stack(args.resolution, loop_kbps=args.kbps, **extra) as s:
        for n in args.viewers:
            r = run(s.base_url, s.token, s.camera_id, s.pid, n,
                    min(args.client_procs, n), args.window)
            print(f"{n:3d} viewers {args.resolution}@30 {args.kbps} kbit/s: streaming-service "
                  f"{r['cpu'] * 100:.1f}% of a core ({r['cpu'] * 100 / n:.2f}%/viewer), "
                  f"fps/viewer mean {r['fps_mean']:.1f} min {r['fps_min']:.1f}, "
                  f"{r['pps'] / n:.0f} packets/s/viewer; clients {r['client_cpu'] * 100:.0f}%"
                  f" load {load()}", flush=True)
            time.sleep(2)
    print(f"load after {load()}")


if __name__ == "__main__":
    main()
