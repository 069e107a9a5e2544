"""Fault injection seen from real clients: drop, stall, offline, corrupt, resolution."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable, Iterator
from typing import Any

import av
import pytest
from camsim_rtsp import RtspClient

from argus_testkit.tools import needs

pytestmark = needs("ffmpeg")


@pytest.fixture(scope="module")
def sim(camsim_launcher: Callable[..., Any]) -> Iterator[Any]:
    # One camera per test, so faults never leak from one test into another.
    sim = camsim_launcher("--cameras", "5", "--resolution", "320x180", "--sub-resolution", "160x90")
    yield sim
    sim.stop()


async def read_until_closed(client: RtspClient, limit_s: float) -> bool:
    """True if the server closes the connection within ``limit_s`` seconds."""
    try:
        async with asyncio.timeout(limit_s):
            for _ in range(100_000):
                await client.read_packet()
    except (asyncio.IncompleteReadError, ConnectionError):
        return True
    except TimeoutError:
        return False
    return False


async def test_drop_closes_client_connections(sim: Any) -> None:
    async with RtspClient(sim.url(1)) as one, RtspClient(sim.url(1, "sub")) as two:
        await one.play()
        await two.play()
        await one.read_packet()
        await two.read_packet()
        resp = await sim.apost("/faults/cam1", {"drop": True})
        assert resp.status_code == 200
        assert resp.json()["applied"]["dropped"] == 2
        assert await read_until_closed(one, 5)
        assert await read_until_closed(two, 5)
        # Dropping is a one-shot: the camera serves new clients at once.
    async with RtspClient(sim.url(1)) as again:
        await again.play()
        await again.read_packet()


async def test_stall_sends_nothing_then_resumes_at_a_keyframe(sim: Any) -> None:
    async with RtspClient(sim.url(2)) as client:
        await client.play()
        await client.read_packet()
        assert (await sim.apost("/faults/cam2", {"stall": True})).status_code == 200
        # Drain what was already in flight, then the socket stays silent but open.
        drained = 0
        for _ in range(1000):
            try:
                async with asyncio.timeout(0.3):
                    await client.read_packet()
                drained += 1
            except TimeoutError:
                break
        assert drained < 100
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(1.5):
                await client.read_packet()
        assert (await sim.apost("/faults/cam2", {"stall": False})).status_code == 200
        async with asyncio.timeout(5):
            channel, packet = await client.read_packet()
        assert channel in (0, 1)
        first_video = packet
        for _ in range(10):
            if channel == 0:
                first_video = packet
                break
            channel, packet = await client.read_packet()
        # Delivery restarts with the parameter sets of a keyframe.
        assert first_video[12] & 0x1F == 7


async def test_offline_refuses_then_comes_back(sim: Any) -> None:
    async with RtspClient(sim.url(3)) as watching:
        await watching.play()
        await watching.read_packet()
        started = time.monotonic()
        resp = await sim.apost("/faults/cam3", {"offline_s": 2})
        assert resp.status_code == 200
        assert await read_until_closed(watching, 5)
    listing = {c["path"]: c for c in (await asyncio.to_thread(sim.get, "/cameras")).json()}
    assert listing["cam3"]["faults"]["offline"] is True
    refused = 0
    back = False
    for _ in range(60):  # bounded: 60 attempts, 0.25 s apart
        try:
            async with RtspClient(sim.url(3), timeout=3) as client:
                await client.describe()
                back = True
                break
        except (ConnectionError, asyncio.IncompleteReadError):
            refused += 1
            await asyncio.sleep(0.25)
    assert refused >= 1
    assert back
    assert time.monotonic() - started >= 1.5
    # Other cameras were never affected.
    async with RtspClient(sim.url(4)) as other:
        await other.describe()


def ffmpeg_errors(url: str, frames: int = 45, limit_s: float = 15.0) -> str:
    """What ffmpeg reports while decoding ``frames`` frames (stopped after ``limit_s``)."""
    proc = subprocess.Popen(
        [
            "ffmpeg",
            "-nostdin",
            "-v",
            "error",
            "-rtsp_transport",
            "tcp",
            "-i",
            url,
            "-frames:v",
            str(frames),
            "-f",
            "null",
            "-",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _, errors = proc.communicate(timeout=limit_s)
    except subprocess.TimeoutExpired:
        # A corrupt stream may never yield a frame: stop ffmpeg by PID and keep its log.
        proc.kill()
        _, errors = proc.communicate(timeout=10)
    return errors


def test_corrupt_makes_decoders_fail(sim: Any) -> None:
    assert ffmpeg_errors(sim.url(4)) == ""
    assert sim.post("/faults/cam4", {"corrupt": True}).status_code == 200
    try:
        errors = ffmpeg_errors(sim.url(4), limit_s=5.0)
    finally:
        assert sim.post("/faults/cam4", {"corrupt": False}).status_code == 200
    assert "h264" in errors, errors
    assert ffmpeg_errors(sim.url(4)) == ""


def test_resolution_change_mid_stream(sim: Any, pyav: Callable[..., list[av.VideoFrame]]) -> None:
    changed: list[bool] = []

    def watch(frame: av.VideoFrame) -> bool:
        if not changed:
            assert (frame.width, frame.height) == (320, 180)
            resp = sim.post("/faults/cam5", {"resolution": "480x270"})
            assert resp.status_code == 200
            changed.append(True)
        return (frame.width, frame.height) == (480, 270)

    try:
        frames = pyav(sim.url(5), 0, until=watch, max_frames=150)
        assert (frames[-1].width, frames[-1].height) == (480, 270)
        # A new client gets the new size straight from DESCRIBE's parameter sets.
        fresh = pyav(sim.url(5), 1)
        assert (fresh[0].width, fresh[0].height) == (480, 270)
    finally:
        sim.post("/faults/cam5", {"resolution": "320x180"})


def test_control_api_validates_input(sim: Any) -> None:
    bad = sim.post("/faults/cam1", {"stall": "yes"})
    assert bad.status_code == 400 and bad.json()["error"] == "BadRequest"
    assert sim.post("/faults/cam1", {"resolution": "big"}).status_code == 400
    assert sim.post("/faults/cam1", {"explode": True}).status_code == 400
    assert sim.post("/faults/cam1", [1, 2]).status_code == 400
    missing = sim.post("/faults/cam99", {"stall": True})
    assert missing.status_code == 404 and missing.json()["error"] == "NotFound"
    assert sim.get("/nothing").status_code == 404
    assert sim.get("/healthz").json() == {"status": "ok"}
    assert "camsim_clients" in sim.get("/metrics").text
