"""Live source: renders the scene and encodes it with libx264 in a thread.

One thread per stream (camera x main/sub). The thread paces itself on the monotonic
clock, skips frames rather than drifting when it falls behind, reopens the encoder when
the camera's resolution changes (new SPS/PPS in-band), and hands each packetized access
unit to the hub on the event loop with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from fractions import Fraction

import av

from argus_camsim.audio import AudioCodec, AudioTone
from argus_camsim.config import EncodeSettings
from argus_camsim.h264 import find_parameter_sets, packetize, split_annexb
from argus_camsim.hub import StreamHub
from argus_camsim.rtp import VIDEO_CLOCK, now_ms
from argus_camsim.scene import Scene

log = logging.getLogger(__name__)
# The wall clock moved this far from the frames' capture clock: it stepped (a render lag
# stays under 0.5 s, when frames are skipped instead).
_REANCHOR_MS = 2000


def open_h264_encoder(
    width: int, height: int, settings: EncodeSettings
) -> av.video.codeccontext.VideoCodecContext:
    """A libx264 encoder tuned like a camera: ultrafast, zerolatency, fixed GOP, CBR-ish."""
    profile = settings.profile
    bframes = max(0, settings.bframes)
    if bframes and profile == "baseline":
        log.warning("baseline profile has no B-frames; using main")
        profile = "main"
    fps = settings.fps
    gop = settings.gop_frames
    kbps = settings.bitrate_for(width, height) // 1000
    ctx = av.CodecContext.create("libx264", "w")
    assert isinstance(ctx, av.video.codeccontext.VideoCodecContext)
    ctx.width = width
    ctx.height = height
    ctx.pix_fmt = "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.framerate = Fraction(fps, 1)
    ctx.bit_rate = kbps * 1000
    ctx.gop_size = gop
    ctx.max_b_frames = bframes
    ctx.thread_count = 1
    params = [
        f"keyint={gop}",
        f"min-keyint={gop}",
        "scenecut=0",
        # SPS/PPS before every IDR: a client joining mid-stream can start at any keyframe.
        "repeat-headers=1",
        f"bframes={bframes}",
        f"vbv-maxrate={kbps}",
        f"vbv-bufsize={kbps}",
        # ultrafast turns these off; the profile asked for decides what the stream uses.
        f"cabac={0 if profile == 'baseline' else 1}",
        f"8x8dct={1 if profile == 'high' else 0}",
    ]
    if bframes:
        params.append("b-adapt=0")
    ctx.options = {
        "preset": "ultrafast",
        "tune": "zerolatency",
        "profile": profile,
        "x264-params": ":".join(params),
    }
    ctx.open()
    return ctx


class LiveEncoder:
    """Renders and encodes one stream of one camera in a background thread."""

    def __init__(
        self,
        hub: StreamHub,
        scene: Scene,
        settings: EncodeSettings,
        loop: asyncio.AbstractEventLoop,
        audio: AudioCodec | None = None,
    ) -> None:
        self.hub = hub
        self.scene = scene
        self.settings = settings
        self.loop = loop
        self.audio = audio
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._ts_base = int.from_bytes(os.urandom(4), "big")

    @property
    def running(self) -> bool:
        """Whether the encoder thread is alive and not asked to stop."""
        return self._thread is not None and self._thread.is_alive() and not self._stop.is_set()

    def start(self) -> None:
        """Start the encoder thread (no-op when running)."""
        if self.running:
            return
        self._stop = threading.Event()
        name = f"enc-{self.hub.camera.path}-{self.hub.variant}"
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Ask the thread to stop; it exits after the frame in progress."""
        self._stop.set()

    def join(self, timeout: float = 2.0) -> None:
        """Wait for the thread to exit (used at shutdown)."""
        if self._thread is not None:
            self._thread.join(timeout)

    def _size(self) -> tuple[int, int]:
        cam = self.hub.camera
        if self.hub.variant == "main":
            return cam.width, cam.height
        return cam.sub_width, cam.sub_height

    def _run(self, stop: threading.Event) -> None:
        try:
            self._encode_loop(stop)
        except Exception:
            log.exception("encoder of %s/%s failed", self.hub.camera.path, self.hub.variant)
        finally:
            stop.set()

    def _encode_loop(self, stop: threading.Event) -> None:
        fps = self.settings.fps
        ctx = None
        size = (0, 0)
        tone = AudioTone(self.audio, rtp_base=self._ts_base) if self.audio else None
        wall_of_pts: dict[int, int] = {}
        t0 = time.monotonic()
        # Frame n is captured at wall0 + n / fps, as a camera's sensor clock ticks: the
        # picture's stamp, the RTP timestamp and the sender reports all say that instant,
        # however late a loaded machine renders it (the lag is then delay, as after a
        # real camera's capture). Re-anchored when the wall clock steps.
        wall0 = now_ms()
        n = 0
        while not stop.is_set():
            delay = t0 + n / fps - time.monotonic()
            if delay > 0:
                if stop.wait(delay):
                    break
            elif delay < -0.5:
                # Fell behind (CPU starved): skip the missed frames instead of bursting.
                n = int((time.monotonic() - t0) * fps) + 1
                if tone is not None:
                    tone.skip_to(n / fps)
                continue
            want = self._size()
            if ctx is None or want != size:
                ctx = open_h264_encoder(want[0], want[1], self.settings)
                size = want
                log.info("encoding %s/%s at %dx%d", self.hub.camera.path, self.hub.variant, *size)
            wall_ms = wall0 + round(n * 1000 / fps)
            if abs(now_ms() - wall_ms) > _REANCHOR_MS:
                wall0 = now_ms() - round(n * 1000 / fps)
                wall_ms = wall0 + round(n * 1000 / fps)
            buf = self.scene.render(size[0], size[1], wall_ms)
            frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
            frame.pts = n
            wall_of_pts[n] = wall_ms
            for packet in ctx.encode(frame):
                pts = packet.pts if packet.pts is not None else n
                self._emit(
                    bytes(packet), pts, packet.is_keyframe, wall_of_pts.pop(pts, wall_ms), size
                )
            if len(wall_of_pts) > 64:  # B-frame reordering never holds this many
                wall_of_pts.clear()
            if tone is not None:
                chunks = tone.encode_until(n / fps)
                if chunks and not self._post(self.hub.on_audio, chunks, wall_ms):
                    break
            n += 1

    def _emit(
        self, data: bytes, pts: int, keyframe: bool, wall_ms: int, size: tuple[int, int]
    ) -> None:
        nals = split_annexb(data)
        params = find_parameter_sets(nals) if keyframe else None
        payloads = packetize(nals)
        if not payloads:
            return
        rtp_ts = (self._ts_base + pts * VIDEO_CLOCK // self.settings.fps) & 0xFFFFFFFF
        self._post(self.hub.on_video, payloads, rtp_ts, keyframe, wall_ms, params, size)

    def _post(self, fn: object, *args: object) -> bool:
        try:
            self.loop.call_soon_threadsafe(fn, *args)  # type: ignore[arg-type]
        except RuntimeError:  # the loop is closed: the simulator is shutting down
            self._stop.set()
            return False
        return True
