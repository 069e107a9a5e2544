"""Fan-out of one encoded stream (a camera's main or sub stream) to its RTSP clients.

One source (live encoder or file loop) per hub, any number of subscribers. Frames are
framed once (:class:`MediaFrame`) and handed to every subscriber on the event loop; a
subscriber never blocks the hub: it writes without waiting and skips to the next keyframe
when its socket backs up (see ``rtsp.session``). Fault switches that act on media (stall,
corrupt) are applied here, so they hold for every source and every client.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from typing import Protocol

from argus_camsim.audio import AudioCodec
from argus_camsim.edge.store import EdgeStore
from argus_camsim.h264 import NAL_FU_A, NAL_PPS, NAL_SPS, ParameterSets
from argus_camsim.model import CameraInfo
from argus_camsim.rtp import VIDEO_PT, MediaFrame, random_ssrc

log = logging.getLogger(__name__)


class Subscriber(Protocol):
    """Something that receives frames: an RTSP session."""

    def deliver(self, frame: MediaFrame) -> None:
        """Take one frame; must not block."""

    def resync(self) -> None:
        """Skip everything until the next keyframe."""


class Source(Protocol):
    """The producer behind a hub (live encoder thread or loop scheduler entry)."""

    @property
    def running(self) -> bool:
        """Whether frames are being produced."""

    def start(self) -> None:
        """Start producing frames (idempotent)."""

    def stop(self) -> None:
        """Stop producing frames (idempotent)."""


def corrupt_payloads(payloads: list[bytes]) -> list[bytes]:
    """Replace the body of every slice payload with random bytes.

    Parameter sets stay intact so the decoder keeps trying, and fails on the slices.
    """
    out: list[bytes] = []
    for p in payloads:
        kind = p[0] & 0x1F
        if kind in (NAL_SPS, NAL_PPS) or len(p) < 4:
            out.append(p)
            continue
        keep = 2 if kind == NAL_FU_A else 1
        out.append(p[:keep] + os.urandom(len(p) - keep))
    return out


class StreamHub:
    """One stream of one camera: parameter sets, RTP state and subscribers."""

    def __init__(
        self, camera: CameraInfo, variant: str, audio: AudioCodec | None, linger_s: float
    ) -> None:
        self.camera = camera
        self.variant = variant
        self.audio = audio
        self.linger_s = linger_s
        self.source: Source | None = None
        self.params: ParameterSets | None = None
        self.width = camera.width if variant == "main" else camera.sub_width
        self.height = camera.height if variant == "main" else camera.sub_height
        self.video_ssrc = random_ssrc()
        self.audio_ssrc = random_ssrc()
        self._vseq = int.from_bytes(os.urandom(2), "big")
        self._aseq = int.from_bytes(os.urandom(2), "big")
        self._subs: tuple[Subscriber, ...] = ()
        self._params_changed = asyncio.Event()
        self._last_used = time.monotonic()
        self._stalled = False
        self._watch: asyncio.Task[None] | None = None
        self.frames_out = 0
        self.bytes_out = 0
        # The camera's own storage (edge.EdgeStore, main stream): records whatever happens
        # to the network, so the source never stops for want of clients.
        self.edge: EdgeStore | None = None

    @property
    def with_audio(self) -> bool:
        """Whether the stream has an audio track."""
        return self.audio is not None

    @property
    def subscribers(self) -> tuple[Subscriber, ...]:
        """Current subscribers."""
        return self._subs

    def subscribe(self, sub: Subscriber) -> None:
        """Add a subscriber (it waits for the next keyframe) and make sure frames flow."""
        if sub not in self._subs:
            self._subs = (*self._subs, sub)
        self.touch()

    def unsubscribe(self, sub: Subscriber) -> None:
        """Remove a subscriber; the source stops after ``linger_s`` without any."""
        self._subs = tuple(s for s in self._subs if s is not sub)
        self._last_used = time.monotonic()

    def touch(self) -> None:
        """Note a use of the stream and start its source if needed."""
        self._last_used = time.monotonic()
        if self.source is not None and not self.source.running:
            self.source.start()
        if self._watch is None or self._watch.done():
            self._watch = asyncio.get_running_loop().create_task(self._idle_watch())

    async def _idle_watch(self) -> None:
        # Encoding costs CPU: stop a source nobody has watched for linger_s seconds.
        while True:
            await asyncio.sleep(min(1.0, self.linger_s / 2 or 0.1))
            idle = time.monotonic() - self._last_used
            if not self._subs and idle >= self.linger_s and self.edge is None:
                if self.source is not None:
                    self.source.stop()
                    log.info("stopped idle stream %s/%s", self.camera.path, self.variant)
                return

    async def wait_params(self, wait_s: float) -> ParameterSets | None:
        """Parameter sets of the stream, starting the source and waiting if needed."""
        self.touch()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(wait_s):
                while self.params is None:
                    self._params_changed.clear()
                    await self._params_changed.wait()
        return self.params

    def on_video(
        self,
        payloads: list[bytes],
        rtp_ts: int,
        keyframe: bool,
        wall_ms: int,
        params: ParameterSets | None,
        size: tuple[int, int],
    ) -> None:
        """Publish one encoded access unit (called on the event loop)."""
        if params is not None and params != self.params:
            self.params = params
            self._params_changed.set()
        self.width, self.height = size
        if self.edge is not None:
            self.edge.record(payloads, keyframe, wall_ms, params, size)
        faults = self.camera.faults
        if faults.stall:
            self._stalled = True
            return
        if self._stalled:
            # Resume cleanly: clients wait for the next keyframe instead of decoding garbage.
            self._stalled = False
            for sub in self._subs:
                sub.resync()
        if not self._subs:
            return
        if faults.corrupt:
            payloads = corrupt_payloads(payloads)
        frame = MediaFrame(
            0, payloads, rtp_ts, self._vseq, self.video_ssrc, VIDEO_PT, keyframe, wall_ms
        )
        self._vseq = (self._vseq + len(payloads)) & 0xFFFF
        self._fanout(frame)

    def on_audio(self, frames: list[tuple[int, bytes]], wall_ms: int) -> None:
        """Publish audio frames, each already an RTP payload of the stream's codec."""
        codec = self.audio
        if not self._subs or self.camera.faults.stall or codec is None:
            return
        for rtp_ts, payload in frames:
            frame = MediaFrame(
                1,
                [payload],
                rtp_ts,
                self._aseq,
                self.audio_ssrc,
                codec.payload_type,
                False,
                wall_ms,
                marker_all=codec.marker,
                marker_last=False,
            )
            self._aseq = (self._aseq + 1) & 0xFFFF
            self._fanout(frame)

    def _fanout(self, frame: MediaFrame) -> None:
        self.frames_out += 1
        self.bytes_out += frame.nbytes
        for sub in self._subs:
            try:
                sub.deliver(frame)
            except Exception:  # one broken client must not stop the others
                log.exception("subscriber failed on %s/%s", self.camera.path, self.variant)
                self.unsubscribe(sub)

    def close(self) -> None:
        """Stop the source and the idle watcher."""
        if self.source is not None:
            self.source.stop()
        if self._watch is not None:
            self._watch.cancel()
