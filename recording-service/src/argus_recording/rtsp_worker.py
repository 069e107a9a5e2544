"""One RTSP H.264 camera recorded on the ingest loop with the shared RTSP client.

``argus_common.rtsp.RtspClient`` does DESCRIBE/SETUP/PLAY over TCP and hands every
interleaved frame to the ``AuAssembler`` from its ``data_received``; the whole path to the
segment file (stamping, the pre-roll ring, the fMP4 fragment) runs in that callback, with
no queue and no thread switch. A camera whose stream is not H.264 is handed back to the
PyAV worker (``fallback``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import structlog

from argus_common.fmp4 import AudioTrack
from argus_common.h264 import parameter_sets_from_sprop
from argus_common.rtsp.client import RtspClient
from argus_common.rtsp.errors import (
    RtspAuthFailed,
    RtspError,
    RtspTimeout,
    RtspUnreachable,
    RtspUnsupported,
    RtspUnsupportedCodec,
)
from argus_common.rtsp.sdp import SdpTrack
from argus_recording.fragments import FragmentContext
from argus_recording.ingest import IngestError, rtsp_answers
from argus_recording.ingest_loop import ingest_loop
from argus_recording.packets import Item
from argus_recording.rtp_au import AuAssembler, AudioAU, VideoAU
from argus_recording.rtp_stamp import RtpStamper

if TYPE_CHECKING:
    from argus_recording.worker_core import WorkerCore

log = structlog.get_logger("argus.recording.worker")
_WATCH_S = 0.5  # how often a silent connection is checked against its read timeout


def _error(exc: RtspError) -> IngestError:
    """An RTSP client error in the ``stream.down`` reason vocabulary."""
    text = str(exc)
    if isinstance(exc, RtspAuthFailed):
        return IngestError("auth", text)
    if isinstance(exc, RtspUnsupported):
        return IngestError("unsupported", text)
    if isinstance(exc, RtspTimeout):
        return IngestError("timeout", text, unreachable=True)
    if isinstance(exc, RtspUnreachable):
        reason = "refused" if text.startswith("cannot connect") else "eof"
        return IngestError(reason, text, unreachable=True)
    return IngestError("error", text, unreachable=True)


def audio_track(track: SdpTrack) -> AudioTrack | None:
    """The MP4 audio track of an SDP audio description, if MP4 can hold it."""
    if track.codec == "mpeg4-generic" and track.fmtp.get("mode", "").lower() == "aac-hbr":
        try:
            config = bytes.fromhex(track.fmtp.get("config", ""))
        except ValueError:
            return None
        return AudioTrack("aac", track.clock, track.channels, config) if config else None
    if track.codec == "opus":
        channels = 2 if track.fmtp.get("sprop-stereo") == "1" else 1
        return AudioTrack("opus", 48_000, channels)
    return None


class RtspSession:
    """Records one connection: assembler → stamper → recorder, inside the client's
    ``data_received``."""

    def __init__(
        self,
        core: WorkerCore,
        client: RtspClient,
        audio: AudioTrack | None,
        pending: set[asyncio.Future[None]],
    ) -> None:
        self.core = core
        self.client = client
        self.failure: IngestError | None = None
        video = client.tracks[0]
        sps, pps = parameter_sets_from_sprop(video.sdp.fmtp.get("sprop-parameter-sets", ""))
        audio_channel = client.tracks[1].channel if audio and len(client.tracks) > 1 else None
        self.stamper = RtpStamper(
            sps, pps, audio.sample_rate if audio else 0, core.settings.max_clock_drift_ms
        )
        loop = asyncio.get_running_loop()
        closer = ingest_loop().closer

        def run_later(fn: Callable[[], None]) -> None:
            future = asyncio.wrap_future(closer.submit(fn), loop=loop)
            pending.add(future)
            future.add_done_callback(pending.discard)

        ctx = FragmentContext(
            camera_id=core.camera.id,
            root=core.settings.root,
            dirs=core.dirs,
            durable=core.settings.durable,
            audio=audio if audio_channel is not None else None,
            clock=self.stamper.clock,
            on_closed=core.closed,
            on_failed=core.failed,
            run_later=run_later,
        )
        self.recorder = core.make_recorder(ctx)
        if core.handoff is not None:
            core.handoff.new_session()
        self.assembler = AuAssembler(
            video.channel, audio_channel, audio.codec if audio else None, self._video, self._audio,
            self.stamper.video_reports, self.stamper.audio_reports,
        )

    def _video(self, au: VideoAU) -> None:
        try:
            item = self.stamper.video(au)
            if self.stamper.jumped:
                self.recorder.stop()  # finish what we have; start over at a keyframe
            self.core.last_heard = time.monotonic()
            if item.key:
                self.core.on_keyframe(item)
            if not self._record(item):
                self.core.dropped(self.recorder.writer is None)
        except Exception as exc:
            self._fail(exc)

    def _record(self, item: Item) -> bool:
        handoff = self.core.handoff
        if handoff is None:
            return self.recorder.on_packet(item)
        return handoff.feed(item, self.recorder, self.stamper.clock)

    def _audio(self, au: AudioAU) -> None:
        try:
            item = self.stamper.audio(au)
            if item is not None and not self._record(item):
                self.core.dropped(self.recorder.writer is None)
        except Exception as exc:
            self._fail(exc)

    def _fail(self, exc: Exception) -> None:
        if self.failure is None:
            if isinstance(exc, OSError):  # a full or failing disk: the session starts over
                log.warning(
                    "segment_write_failed", error=type(exc).__name__, detail=exc.strerror or ""
                )
            else:
                log.error("ingest_failed", error=type(exc).__name__, exc_info=exc)
            self.failure = IngestError("error", "internal error", unreachable=True)
        self.client.on_rtp = _ignore

    async def run(self, stop: asyncio.Event) -> IngestError | None:
        """Record until ``stop`` is set (None) or the stream fails (its error)."""
        client = self.client
        client.on_rtp = self.assembler
        loop = asyncio.get_running_loop()
        timeout = self.core.camera.read_timeout_s
        stopping: asyncio.Future[Any] = asyncio.ensure_future(stop.wait())
        try:
            await client.play()
            waits: list[asyncio.Future[Any]] = [stopping, client.closed]
            while self.failure is None:
                done, _ = await asyncio.wait(
                    waits, timeout=_WATCH_S, return_when=asyncio.FIRST_COMPLETED
                )
                if stopping in done:
                    return None
                if client.closed in done:
                    return IngestError("eof", "the camera closed the connection", unreachable=True)
                if loop.time() - client.last_data > timeout:
                    return IngestError("timeout", f"no media for {timeout:g} s", unreachable=True)
            return self.failure
        except RtspError as exc:
            return _error(exc)
        finally:
            stopping.cancel()
            client.on_rtp = _ignore
            self.recorder.stop()


def _ignore(channel: int, packet: bytes) -> None:
    """RTP handler of a session that ended."""


async def record_rtsp(
    core: WorkerCore, stop: asyncio.Event, wake: asyncio.Event, fallback: Callable[[], None]
) -> None:
    """Connect, record, reconnect with backoff until ``stop``; calls ``fallback`` (and
    returns) if the camera's video is not H.264."""
    attempt = 0
    pending: set[asyncio.Future[None]] = set()
    camera = core.camera
    seen_audio: list[SdpTrack] = []

    def want_audio(track: SdpTrack) -> bool:
        seen_audio.append(track)
        return audio_track(track) is not None

    try:
        while not stop.is_set():
            if attempt:
                core.reconnects.inc()
            client = RtspClient(
                camera.source_url(),
                connect_timeout_s=camera.connect_timeout_s,
                request_timeout_s=max(camera.connect_timeout_s, camera.read_timeout_s),
                want_audio=want_audio,
                user_agent="argus-recording",
                allowed_networks=list(core.settings.allowed_networks) or None,
            )
            error: IngestError | None
            try:
                tracks = await client.setup()
            except RtspUnsupported as exc:
                await client.close()
                if isinstance(exc, RtspUnsupportedCodec):
                    log.info(
                        "ingest_fallback", detail="video is not H.264: PyAV ingest", codec=exc.codec
                    )
                    fallback()
                    return
                error = _error(exc)
            except RtspError as exc:
                await client.close()
                error = _error(exc)
            else:
                audio = audio_track(tracks[1].sdp) if len(tracks) > 1 else None
                if seen_audio and audio is None:
                    core.audio_dropped(seen_audio[-1].codec)
                core.session_up = False
                session = RtspSession(core, client, audio, pending)
                try:
                    error = await session.run(stop)
                finally:
                    await client.close()
            seen_audio.clear()
            if stop.is_set():
                break
            if error is not None:
                log.debug("connect_failed", reason=error.reason, detail=error.detail)
                core.set_state(False, error.reason, error.detail)
            attempt = 1 if core.session_up else attempt + 1
            await _backoff(core, attempt - 1, error.unreachable if error else True, stop, wake)
    finally:
        if core.up:
            core.set_state(False, "stopping")
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)


async def _backoff(
    core: WorkerCore, attempt: int, probe: bool, stop: asyncio.Event, wake: asyncio.Event
) -> None:
    """Wait the next backoff step; return early when stopped, woken, or when a camera that
    stopped answering RTSP probes answers again (see worker.py)."""
    loop = asyncio.get_running_loop()
    delay = core.backoff_delay(attempt)
    deadline = loop.time() + delay
    url = core.camera.source_url()
    probe_timeout = min(1.0, core.camera.connect_timeout_s)
    seen_down = False
    while not stop.is_set():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(min(core.settings.probe_interval_s, remaining)):
                await wake.wait()
            wake.clear()
            return
        if not probe or deadline - loop.time() < 0.2:
            continue
        if not await asyncio.to_thread(rtsp_answers, url, probe_timeout):
            seen_down = True
        elif seen_down:
            log.debug("probe_answered")
            return
