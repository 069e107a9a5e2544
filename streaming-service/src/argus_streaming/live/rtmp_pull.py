"""RTMP pulls (phones pushed to nginx-rtmp): FFmpeg's RTMP/FLV demuxer through PyAV.

RTSP cameras go through our own client (``rtsp/client.py``), built for the lowest latency.
RTMP carries whole frames in FLV tags, so FFmpeg's demuxer adds no frame of delay here, and
a reader thread is enough. The thread turns each packet (length-prefixed NAL units, as in
MP4) into the Annex-B access units every source emits, and hands them to the event loop
with ``call_soon_threadsafe``. It presents the same ``closed`` / ``last_data`` surface as
``RtspClient``, so ``CameraSource`` watches both the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import av
import structlog

from argus_common.h264 import (
    ParameterSetKeeper,
    has_b_slice,
    is_keyframe,
    split_annexb,
    split_avcc,
    to_annexb,
)
from argus_common.logging import redact_url
from argus_common.rtsp.errors import RtspError, RtspTimeout, RtspUnreachable, RtspUnsupported
from argus_common.rtsp.frames import VIDEO_CLOCK, AccessUnit

log = structlog.get_logger("argus.streaming.rtmp")
_JOIN_GRACE_S = 2.0


def is_rtmp(url: str) -> bool:
    """Whether ``url`` is pulled with this module rather than the RTSP client."""
    return urlsplit(url).scheme.lower() in ("rtmp", "rtmps")


def parse_avcc(extradata: bytes) -> tuple[int, list[bytes], list[bytes]]:
    """``(NAL length size, SPS list, PPS list)`` of an ``AVCDecoderConfigurationRecord``
    (ISO/IEC 14496-15 5.3.3.1); raises ``ValueError`` when it is not one."""
    if len(extradata) < 7 or extradata[0] != 1:
        raise ValueError("not an avcC record")
    length_size = (extradata[4] & 0x03) + 1
    pos = 5
    out: list[list[bytes]] = [[], []]
    for which in (0, 1):
        count = extradata[pos] & (0x1F if which == 0 else 0xFF)
        pos += 1
        for _ in range(count):
            if pos + 2 > len(extradata):
                raise ValueError("truncated avcC record")
            size = int.from_bytes(extradata[pos : pos + 2], "big")
            pos += 2
            if pos + size > len(extradata):
                raise ValueError("truncated avcC record")
            out[which].append(extradata[pos : pos + size])
            pos += size
    return length_size, out[0], out[1]


def _open_error(exc: BaseException) -> RtspError:
    text = redact_url(f"{type(exc).__name__}: {exc}")[:200]
    if isinstance(exc, ConnectionRefusedError):
        return RtspUnreachable(f"RTMP server refused the connection ({text})")
    if isinstance(exc, TimeoutError | av.error.ExitError):
        return RtspTimeout("RTMP server did not answer in time")
    # nginx-rtmp closes a play of a stream nobody publishes (idle_streams off).
    return RtspUnreachable(f"stream is not being published ({text})")


class RtmpPull:
    """One RTMP play connection: ``start()`` opens it, ``close()`` ends it."""

    def __init__(
        self,
        url: str,
        emit: Callable[[AccessUnit], None],
        on_bframes: Callable[[], None],
        *,
        connect_timeout_s: float,
        read_timeout_s: float,
    ) -> None:
        self._url = url  # may hold credentials: never logged
        self._emit = emit
        self._on_bframes = on_bframes
        self._connect_timeout_s = connect_timeout_s
        self._read_timeout_s = read_timeout_s
        self._loop = asyncio.get_running_loop()
        self.keeper = ParameterSetKeeper()
        self.closed: asyncio.Future[None] = self._loop.create_future()
        self.last_data = self._loop.time()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._length_size: int | None = None  # None: packets are Annex-B already

    async def start(self) -> None:
        """Connect and read the stream header; raises ``RtspError`` subclasses."""
        container = await asyncio.to_thread(self._open)
        try:
            video = self._video_stream(container)
        except RtspError:
            container.close()
            raise
        self.last_data = self._loop.time()
        self._thread = threading.Thread(
            target=self._read, args=(container, video), name="rtmp-pull", daemon=True
        )
        self._thread.start()

    def _open(self) -> Any:
        try:
            return av.open(
                self._url,
                options={"rtmp_live": "live", "analyzeduration": "200000",
                         "probesize": "1000000"},
                timeout=(self._connect_timeout_s, self._read_timeout_s),
            )
        except (av.FFmpegError, OSError, EOFError) as exc:
            raise _open_error(exc) from None

    def _video_stream(self, container: Any) -> Any:
        if not container.streams.video:
            raise RtspUnsupported("the RTMP stream has no video")
        video = container.streams.video[0]
        if video.codec_context.name != "h264":
            raise RtspUnsupported("the RTMP stream is not H.264")
        extradata = bytes(video.codec_context.extradata or b"")
        if extradata[:1] == b"\x01":
            try:
                self._length_size, sps, pps = parse_avcc(extradata)
            except ValueError:
                raise RtspUnsupported("the RTMP stream's H.264 header is unreadable") from None
            self.keeper = ParameterSetKeeper(sps[0] if sps else None, pps[0] if pps else None)
        else:
            self.keeper.process(split_annexb(extradata))
        return video

    def _read(self, container: Any, video: Any) -> None:
        """Reader thread: demux until EOF, an error, or ``close()``."""
        first: int | None = None
        last = -1
        bframes_seen = False
        try:
            for packet in container.demux(video):
                if self._stop.is_set():
                    break
                ts = packet.pts if packet.pts is not None else packet.dts
                if ts is None or packet.size == 0:
                    continue
                data = bytes(packet)
                nals = (split_avcc(data, self._length_size) if self._length_size
                        else split_annexb(data))
                if not nals:
                    continue
                if not bframes_seen and has_b_slice(nals):
                    bframes_seen = True
                    self._loop.call_soon_threadsafe(self._on_bframes)
                    continue
                ticks = int(ts * packet.time_base * VIDEO_CLOCK)
                first = ticks if first is None else first
                last = max(ticks - first, last + 1)  # never backwards, never repeated
                unit = AccessUnit("video", to_annexb(self.keeper.process(nals)), last,
                                  is_keyframe(nals), time.time_ns() // 1_000_000)
                self._loop.call_soon_threadsafe(self._deliver, unit)
        except (av.FFmpegError, OSError, EOFError) as exc:
            if not self._stop.is_set():
                log.info("rtmp_pull_ended", reason=type(exc).__name__)
        finally:
            with contextlib.suppress(Exception):
                container.close()
            with contextlib.suppress(RuntimeError):  # the loop may be closed at shutdown
                self._loop.call_soon_threadsafe(self._finish)

    def _deliver(self, unit: AccessUnit) -> None:
        self.last_data = self._loop.time()
        self._emit(unit)

    def _finish(self) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    async def close(self) -> None:
        """Stop reading; the thread ends at its next packet or read timeout."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join, self._read_timeout_s + _JOIN_GRACE_S)
        self._finish()
