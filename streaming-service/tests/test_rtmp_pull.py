"""RTMP pulls (rtmp_pull.py): avcC parsing, and a real RTMP stream from ffmpeg — served by
ffmpeg itself in listen mode, so no nginx is needed here — through ``RtmpPull`` and through
``CameraSource`` as a viewer gets it. nginx-rtmp end to end: tests/test_rtmp_e2e.py."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import subprocess
from collections.abc import AsyncIterator

import av
import pytest

from argus_common.h264 import NAL_IDR, NAL_PPS, NAL_SPS, nal_type, split_annexb
from argus_common.rtsp.frames import AccessUnit
from argus_streaming.cameras.client import CameraEndpoint
from argus_streaming.live.queue import ViewerQueue
from argus_streaming.live.rtmp_pull import RtmpPull, is_rtmp, parse_avcc
from argus_streaming.live.source import CameraSource, Subscriber
from argus_testkit.ports import free_port
from argus_testkit.tools import require

pytestmark = pytest.mark.timeout(60)




def test_is_rtmp() -> None:
    assert is_rtmp("rtmp://h:1935/live/x") and is_rtmp("RTMP://h/live/x")
    assert not is_rtmp("rtsp://h/x") and not is_rtmp("http://h/x")


def test_parse_avcc() -> None:
    sps, pps = b"\x67\x42\xc0\x1e\xaa", b"\x68\xce\x3c\x80"
    record = (b"\x01\x42\xc0\x1e\xff\xe1" + len(sps).to_bytes(2, "big") + sps
              + b"\x01" + len(pps).to_bytes(2, "big") + pps)
    assert parse_avcc(record) == (4, [sps], [pps])
    for bad in (b"", b"\x00" * 10, record[:9], b"\x01\x42\xc0\x1e\xff\xe2\x00\x05ab"):
        with pytest.raises(ValueError):
            parse_avcc(bad)


def _listening(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port``, without connecting (ffmpeg's
    listen mode serves the first connection only)."""
    with open("/proc/net/tcp") as table:
        rows = [line.split() for line in table.readlines()[1:]]
    return any(r[1].endswith(f":{port:04X}") and r[3] == "0A" for r in rows)


@contextlib.asynccontextmanager
async def ffmpeg_rtmp_server(seconds: int = 20) -> AsyncIterator[str]:
    """ffmpeg serving a 320x180 H.264 test pattern (1 s GOP, no B-frames) to the first RTMP
    client that plays it; stopped by PID."""
    ffmpeg = require("ffmpeg")
    port = free_port()
    url = f"rtmp://127.0.0.1:{port}/live/test"
    proc = subprocess.Popen(
        [ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
         "testsrc2=size=320x180:rate=15,format=yuv420p", "-t", str(seconds),
         "-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "15",
         "-f", "flv", "-listen", "1", url],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):  # ffmpeg opens its socket after starting the encoder
            if _listening(port) or proc.poll() is not None:
                break
            await asyncio.sleep(0.1)
        assert _listening(port), "ffmpeg did not listen"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


async def test_pull_gives_decodable_annexb_access_units() -> None:
    units: list[AccessUnit] = []
    got = asyncio.Event()

    def emit(unit: AccessUnit) -> None:
        units.append(unit)
        if len(units) >= 25:
            got.set()

    async with ffmpeg_rtmp_server() as url:
        pull = RtmpPull(url, emit, lambda: None, connect_timeout_s=5, read_timeout_s=3)
        await pull.start()
        try:
            await asyncio.wait_for(got.wait(), 15)
        finally:
            await pull.close()
    assert pull.closed.done()
    assert pull.keeper.sps is not None and pull.keeper.pps is not None
    key = next(u for u in units if u.keyframe)
    types = [nal_type(n) for n in split_annexb(key.data)]
    assert types[:2] == [NAL_SPS, NAL_PPS] and NAL_IDR in types
    assert all(b.pts > a.pts for a, b in itertools.pairwise(units))
    decoder = av.CodecContext.create("h264", "r")
    frames = []
    for unit in units[units.index(key):]:
        frames += decoder.decode(av.Packet(unit.data))
    assert frames and (frames[0].width, frames[0].height) == (320, 180)


async def test_source_serves_an_rtmp_camera_and_refuses_a_dead_one() -> None:
    async with ffmpeg_rtmp_server() as url:
        async def resolve() -> CameraEndpoint:
            return CameraEndpoint(camera_id=1, stream="main", url=url,
                                  connect_timeout_s=5, read_timeout_s=3)

        source = CameraSource(1, "main", resolve, linger_s=0.1, connect_ceiling_s=5)
        sub = Subscriber(ViewerQueue(30))
        info = await source.attach(sub, replay=True, timeout_s=15)
        assert info.video_codec == "h264" and info.profile_level_id is not None
        first, _ = await asyncio.wait_for(sub.video.get(), 5)
        assert first.keyframe
        source.detach(sub)
        await source.stop()

    async def nowhere() -> CameraEndpoint:
        return CameraEndpoint(camera_id=2, stream="main",
                              url=f"rtmp://127.0.0.1:{free_port()}/live/none",
                              connect_timeout_s=2, read_timeout_s=2)

    dead = CameraSource(2, "main", nowhere, linger_s=0.1, connect_ceiling_s=2)
    with pytest.raises(Exception) as refused:
        await dead.attach(Subscriber(ViewerQueue(30)), replay=True, timeout_s=10)
    assert getattr(refused.value, "status_code", None) in (502, 504)
