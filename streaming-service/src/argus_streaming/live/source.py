"""One RTSP pull per camera stream, shared by every viewer, with a GOP cache.

The source starts with its first viewer and stops ``linger_s`` after its last one. Frames
are fanned out from the socket callback that completed them (no task hop, no copy): each
viewer has its own bounded queue (``ViewerQueue``), so one slow viewer never slows another.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import structlog

from argus_common.addresses import Network
from argus_common.errors import ArgusError, BadGateway, GatewayTimeout
from argus_common.h264 import profile_level_id
from argus_common.rtsp import (
    AccessUnit,
    RtpDemux,
    RtspClient,
    RtspError,
    RtspTimeout,
    RtspUnsupported,
    StreamInfo,
)
from argus_streaming import metrics
from argus_streaming.cameras.client import CameraEndpoint
from argus_streaming.live.queue import ViewerQueue
from argus_streaming.live.rtmp_pull import RtmpPull, is_rtmp
from argus_streaming.live.rtp import audio_passthrough
from argus_streaming.tasks import spawn

log = structlog.get_logger("argus.streaming.source")
Resolver = Callable[[], Awaitable[CameraEndpoint]]
_MAX_BACKOFF_S = 5.0
_PROBE_FRAMES = 4  # the keyframe and the three frames after it
# A camera may send nothing after PLAY until its next keyframe (the simulator does, and
# cameras with long GOPs): until a connection's first frame, silence may last this long.
_FIRST_FRAME_S = 12.0


@dataclass(eq=False)
class Subscriber:
    """A consumer of a source: its video queue and, when it takes audio, its audio queue."""

    video: ViewerQueue
    audio: ViewerQueue | None = None


def http_error(exc: RtspError) -> ArgusError:
    """The HTTP error a viewer gets for a source that could not start."""
    if isinstance(exc, RtspTimeout):
        return GatewayTimeout(str(exc))
    return BadGateway(str(exc))


class CameraSource:
    """The pull of one stream (main or sub) of one camera."""

    def __init__(
        self,
        camera_id: int,
        stream: str,
        resolve: Resolver,
        *,
        linger_s: float,
        connect_ceiling_s: float,
        allowed_networks: list[Network] | None = None,
        gop_cache_max: int = 600,
        on_stopped: Callable[[CameraSource], None] = lambda _: None,
    ) -> None:
        self.camera_id = camera_id
        self.stream = stream
        self._resolve = resolve
        self.linger_s = linger_s
        self.connect_ceiling_s = connect_ceiling_s
        self.allowed_networks = allowed_networks  # CAMERA_ALLOWED_NETWORKS
        self.gop_cache_max = gop_cache_max
        self._on_stopped = on_stopped
        self.subscribers: set[Subscriber] = set()
        self._pending = 0
        self.gop: list[AccessUnit] = []
        self.info: StreamInfo | None = None
        self._loop = asyncio.get_running_loop()
        self._ready: asyncio.Future[StreamInfo] = self._loop.create_future()
        self._failed: asyncio.Future[RtspError] = self._loop.create_future()
        self._task: asyncio.Task[None] | None = None
        self._linger: asyncio.TimerHandle | None = None
        self._stopping = False
        self._demux: RtpDemux | None = None
        self._rtmp: RtmpPull | None = None  # the pull of an RTMP camera (rtmp_pull.py)
        self._audio_codec: str | None = None
        self._audio_clock: int | None = None
        self.restarts = 0
        self._probe_left = _PROBE_FRAMES
        self._media_seen = False  # a frame arrived on the current connection
        self._log = log.bind(camera_id=camera_id, stream=stream)

    @property
    def viewer_count(self) -> int:
        """Subscribers attached or attaching."""
        return len(self.subscribers) + self._pending

    @property
    def running(self) -> bool:
        """Whether the pull task is alive."""
        return self._task is not None and not self._task.done()

    async def attach(self, sub: Subscriber, *, replay: bool, timeout_s: float) -> StreamInfo:
        """Add a subscriber once the stream runs; raises 502/504 if the camera fails.

        With ``replay`` the subscriber first gets the cached GOP (from its keyframe), so it
        can show a picture at once instead of waiting for the next keyframe.
        """
        if self._stopping:
            raise BadGateway("stream is stopping, try again")
        self._cancel_linger()
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=f"source-{self.camera_id}")
            metrics.SOURCES.inc()
        self._pending += 1
        try:
            async with asyncio.timeout(timeout_s):
                info = await asyncio.shield(self._ready)
        except TimeoutError:
            raise GatewayTimeout("camera sent no picture within "
                                 f"{timeout_s:g} s") from None
        finally:
            self._pending -= 1
            if not self.subscribers and not self._pending:
                self._schedule_linger()
        if self._stopping:
            raise BadGateway("stream stopped")
        if replay and self.gop:
            sub.video.prefill(list(self.gop))
        self.subscribers.add(sub)
        self._cancel_linger()
        return info

    def detach(self, sub: Subscriber) -> None:
        """Remove a subscriber; the pull stops ``linger_s`` after the last one."""
        self.subscribers.discard(sub)
        if not self.subscribers and not self._pending:
            self._schedule_linger()

    def _schedule_linger(self) -> None:
        if self._stopping or self._linger is not None:
            return
        self._linger = self._loop.call_later(
            self.linger_s, lambda: spawn(self.stop())
        )

    def _cancel_linger(self) -> None:
        if self._linger is not None:
            self._linger.cancel()
            self._linger = None

    async def stop(self, error: BaseException | None = None) -> None:
        """Stop pulling and end every subscriber's queues."""
        if self._stopping:
            return
        self._stopping = True
        self._cancel_linger()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            metrics.SOURCES.dec()
        if not self._ready.done():
            self._ready.set_exception(error or BadGateway("stream stopped"))
            self._ready.exception()  # retrieved: no "never retrieved" warning
        for sub in list(self.subscribers):
            sub.video.close(error)
            if sub.audio is not None:
                sub.audio.close(error)
        self.subscribers.clear()
        self._on_stopped(self)
        self._log.info("source_stopped")

    # -- the pull ------------------------------------------------------------------------
    def _emit(self, unit: AccessUnit) -> None:
        self._media_seen = True
        if unit.kind == "audio":
            for sub in self.subscribers:
                if sub.audio is not None:
                    sub.audio.put(unit)
            return
        gop = self.gop
        if unit.keyframe:
            self.gop = [unit]
        elif gop:
            if len(gop) < self.gop_cache_max:
                gop.append(unit)
            else:
                self.gop = []  # GOP too long to replay: late viewers wait for a keyframe
        if not self._ready.done() and self.gop:
            # Ready a few frames after the first keyframe: B-frames (refused) show up in
            # the first frames after an IDR, so the first viewer gets a clean error.
            self._probe_left -= 1
            if self._probe_left <= 0 and not self._failed.done():
                self._ready.set_result(self._stream_info())
        for sub in self.subscribers:
            sub.video.put(unit)

    def _stream_info(self) -> StreamInfo:
        keeper = self._demux.keeper if self._demux else self._rtmp.keeper if self._rtmp else None
        sps = keeper.sps if keeper else None
        self.info = StreamInfo(
            video_codec="h264",
            profile_level_id=profile_level_id(sps) if sps else None,
            audio_codec=self._audio_codec,
            audio_clock=self._audio_clock,
        )
        return self.info

    def _on_loss(self) -> None:
        self.gop = []
        for sub in self.subscribers:
            sub.video.resync()

    def _on_bframes(self) -> None:
        if not self._failed.done():
            self._failed.set_result(RtspUnsupported(
                "camera stream uses B-frames, which WebRTC cannot carry; configure the camera "
                "without B-frames (baseline/main profile, bframes=0)"))

    async def _run(self) -> None:
        backoff = 0.5
        while True:
            client: RtspClient | None = None
            try:
                endpoint = await self._resolve()
                timeout = min(endpoint.connect_timeout_s, self.connect_ceiling_s)
                if is_rtmp(endpoint.url):
                    await self._pull_rtmp(endpoint, timeout)  # ends by raising, like _watch
                client = RtspClient(
                    endpoint.url, self._dispatch, connect_timeout_s=timeout,
                    request_timeout_s=timeout, want_audio=audio_passthrough,
                    allowed_networks=self.allowed_networks,
                )
                tracks = await client.start()
                video = tracks[0]
                audio = tracks[1] if len(tracks) > 1 else None
                self._audio_codec = audio.sdp.codec if audio else None
                self._audio_clock = audio.sdp.clock if audio else None
                self._demux = RtpDemux(
                    video.sdp, video.channel, audio.sdp if audio else None,
                    audio.channel if audio else None, self._emit, self._on_loss,
                    self._on_bframes,
                )
                self._log.info("source_started", audio=self._audio_codec)
                await self._watch(client, endpoint.read_timeout_s)
            except RtspUnsupported as exc:
                await self._fail(exc)
                return
            except RtspError as exc:
                if not self._ready.done():
                    await self._fail(exc)
                    return
                self.restarts += 1
                metrics.SOURCE_RESTARTS.labels(str(self.camera_id)).inc()
                self._log.warning("source_restart", reason=str(exc), backoff_s=backoff)
                self._on_loss()
            except ArgusError as exc:  # management said no (camera deleted, disabled)
                await self._fail(exc)
                return
            finally:
                self._demux = None
                if client is not None:
                    await client.close()
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF_S)

    def _dispatch(self, channel: int, packet: bytes) -> None:
        demux = self._demux
        if demux is not None:
            demux(channel, packet)

    async def _pull_rtmp(self, endpoint: CameraEndpoint, timeout_s: float) -> NoReturn:
        """One RTMP connection (a phone pushed to nginx-rtmp); no audio is passed on."""
        pull = RtmpPull(endpoint.url, self._emit, self._on_bframes,
                        connect_timeout_s=timeout_s, read_timeout_s=endpoint.read_timeout_s)
        try:
            await pull.start()
            self._rtmp = pull
            self._audio_codec = self._audio_clock = None
            self._log.info("source_started", audio=None, protocol="rtmp")
            await self._watch(pull, endpoint.read_timeout_s)
        finally:
            self._rtmp = None
            await pull.close()
        raise RtspError("RTMP stream ended")  # not reached: _watch only returns by raising

    async def _watch(self, client: RtspClient | RtmpPull, read_timeout_s: float) -> None:
        """Return or raise when the connection ends, stalls or the stream is refused."""
        self._media_seen = False
        while True:
            waiting: list[asyncio.Future[Any]] = [client.closed, self._failed]
            await asyncio.wait(
                waiting, timeout=read_timeout_s / 2,
                return_when=asyncio.FIRST_COMPLETED,
            )
            if self._failed.done():
                raise self._failed.result()
            if client.closed.done():
                raise RtspError("camera closed the connection")
            limit = read_timeout_s if self._media_seen else max(read_timeout_s, _FIRST_FRAME_S)
            if self._loop.time() - client.last_data > limit:
                raise RtspTimeout(f"camera sent nothing for {limit:g} s")

    async def _fail(self, exc: BaseException) -> None:
        self._log.warning("source_failed", reason=str(exc))
        error = http_error(exc) if isinstance(exc, RtspError) else exc
        if not self._ready.done():
            self._ready.set_exception(error)
            self._ready.exception()
        # stop() cancels this very task: run it in its own task.
        spawn(self.stop(error))
