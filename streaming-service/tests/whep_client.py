"""A WHEP client built on aiortc, for tests and benchmarks."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

import httpx
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamTrack


@dataclass
class WhepViewer:
    pc: RTCPeerConnection
    location: str
    answer: str
    track: asyncio.Future[MediaStreamTrack] = field(default_factory=asyncio.Future)
    # Set when the answer sends audio (the offer had audio and the camera a pass-through codec).
    audio_track: asyncio.Future[MediaStreamTrack] = field(default_factory=asyncio.Future)

    async def audio_frames(self, n: int, timeout_s: float) -> list[object]:
        """The next ``n`` decoded audio frames (bounded in time)."""
        track = await asyncio.wait_for(asyncio.shield(self.audio_track), timeout_s)
        out = []
        async with asyncio.timeout(timeout_s):
            while len(out) < n:
                out.append(await track.recv())
        return out

    async def frames(self, n: int, timeout_s: float) -> list[object]:
        """The next ``n`` decoded video frames (bounded in time)."""
        track = await asyncio.wait_for(asyncio.shield(self.track), timeout_s)
        out = []
        async with asyncio.timeout(timeout_s):
            while len(out) < n:
                out.append(await track.recv())
        return out

    async def timed_frames(self, n: int, timeout_s: float) -> list[tuple[object, float]]:
        """The next ``n`` frames with their arrival time (epoch ms)."""
        track = await asyncio.wait_for(asyncio.shield(self.track), timeout_s)
        out: list[tuple[object, float]] = []
        async with asyncio.timeout(timeout_s):
            while len(out) < n:
                frame = await track.recv()
                out.append((frame, time.time() * 1000))
        return out


async def whep_connect(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], *, audio: bool = False
) -> tuple[httpx.Response, WhepViewer | None]:
    """POST an offer to ``path``; returns the response and, on 201, a connected viewer."""
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    if audio:
        pc.addTransceiver("audio", direction="recvonly")
    loop = asyncio.get_running_loop()
    track_future: asyncio.Future[MediaStreamTrack] = loop.create_future()
    audio_future: asyncio.Future[MediaStreamTrack] = loop.create_future()

    @pc.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        future = track_future if track.kind == "video" else audio_future
        if not future.done():
            future.set_result(track)

    await pc.setLocalDescription(await pc.createOffer())
    resp = await client.post(path, content=pc.localDescription.sdp.encode(),
                             headers={**headers, "Content-Type": "application/sdp"})
    if resp.status_code != 201:
        await pc.close()
        return resp, None
    await pc.setRemoteDescription(RTCSessionDescription(resp.text, "answer"))
    viewer = WhepViewer(pc, resp.headers["location"], resp.text, track_future, audio_future)
    return resp, viewer


async def whep_close(client: httpx.AsyncClient, viewer: WhepViewer,
                     headers: dict[str, str]) -> int:
    status = (await client.delete(viewer.location, headers=headers)).status_code
    with contextlib.suppress(Exception):
        await viewer.pc.close()
    return status
