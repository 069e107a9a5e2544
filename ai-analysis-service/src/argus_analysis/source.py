"""Video inputs: RTSP (Basic/Digest, over TCP), RTMP/HTTP/MPEG-TS streams and files,
demuxed and decoded with PyAV.

Live inputs decode with one thread and slice threading only: frame threading would hold
each frame back by a frame per extra thread. Jobs on files want throughput instead and
may use frame threads. FFmpeg puts the URL, credentials included, into its error
messages; everything that leaves this module goes through ``redact_url``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import av
import structlog

from argus_common.logging import redact_url
from argus_common.media import demuxer_options, is_stream

log = structlog.get_logger("argus.analysis.source")

# Consecutive undecodable packets before the connection is considered broken.
MAX_DECODE_ERRORS = 100


class SourceError(Exception):
    """The input could not be opened or read. ``reason`` is short and safe to log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


def describe(exc: BaseException) -> str:
    """An exception as text with any URL credentials removed."""
    return redact_url(f"{type(exc).__name__}: {exc}")[:300]


@dataclass(frozen=True)
class DecoderOptions:
    """How to decode: ``threads`` 1 for live (slice threads only), 0 for "as many as
    useful" (frame threads, files); ``hwaccel`` decodes on the GPU (NVDEC) when PyAV and
    the machine support it; ``skip_loop_filter`` skips H.264/H.265 deblocking (about a
    fifth of the decode time; slightly blockier pictures)."""

    threads: int = 1
    hwaccel: bool = False
    skip_loop_filter: bool = False


@dataclass
class DecodedFrame:
    """A decoded picture: ``media_s`` its timestamp in the stream, ``arrival`` when its
    packet was read (epoch s), ``decode_in`` when that packet entered the decoder."""

    frame: Any  # av.VideoFrame
    media_s: float
    arrival: float
    decode_in: float


class VideoSource:
    """An open input and its video decoder."""

    def __init__(self, container: Any, stream: Any, live: bool) -> None:
        self.container = container
        self.stream = stream
        self.live = live
        self.decoder_errors = 0
        self.time_base = float(stream.time_base) if stream.time_base else 1 / 90_000
        duration = stream.duration if stream.duration else None
        self.duration_s: float | None = (
            float(duration * stream.time_base) if duration and stream.time_base else None
        )
        if self.duration_s is None and container.duration:
            self.duration_s = container.duration / 1_000_000

    @property
    def codec(self) -> str:
        return str(self.stream.codec_context.name)

    def frames(self) -> Iterator[DecodedFrame]:
        """Decoded frames in order. Undecodable packets are counted in ``decoder_errors``
        and skipped; a live stream ending or failing raises ``SourceError``, a file ends."""
        decoder = self.stream.codec_context
        failures = 0
        last_media = 0.0
        try:
            for packet in self.container.demux(self.stream):
                arrival = time.time()
                if packet.size == 0:
                    continue  # a flush packet: the decoder is drained after the loop
                try:
                    frames = decoder.decode(packet)
                except av.FFmpegError:
                    self.decoder_errors += 1
                    failures += 1
                    if failures >= MAX_DECODE_ERRORS:
                        raise SourceError("decode_failed", "too many undecodable packets") from None
                    continue
                failures = 0
                for frame in frames:
                    last_media = self._media_s(frame, last_media)
                    yield DecodedFrame(frame, last_media, arrival, arrival)
            for frame in decoder.decode(None):
                last_media = self._media_s(frame, last_media)
                yield DecodedFrame(frame, last_media, time.time(), time.time())
        except (av.FFmpegError, OSError, EOFError) as exc:
            raise SourceError("read_failed", describe(exc)) from None
        if self.live:
            raise SourceError("end_of_stream")

    def _media_s(self, frame: Any, previous: float) -> float:
        pts = frame.pts
        if pts is None:
            return previous
        return float(pts * self.time_base)

    def close(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: S110 - closing a broken connection may fail; nothing to do
            pass


def open_source(
    url: str,
    *,
    connect_timeout_s: float = 5.0,
    read_timeout_s: float = 5.0,
    live: bool = True,
    decoder: DecoderOptions | None = None,
) -> VideoSource:
    """Open ``url`` (a stream URL with credentials in its userinfo, or a file path) and
    prepare its first video stream's decoder."""
    decoder = decoder or DecoderOptions()
    kwargs: dict[str, Any] = {}
    if is_stream(url):
        kwargs["options"] = demuxer_options(url, read_timeout_s)
        # PyAV's read timeout is an interrupt callback that takes the GIL around every
        # socket read; the socket timeout in the options bounds reads without it.
        kwargs["timeout"] = (connect_timeout_s, None)
    if decoder.hwaccel:
        from av.codec.hwaccel import HWAccel

        kwargs["hwaccel"] = HWAccel("cuda", allow_software_fallback=True)
    try:
        container = av.open(url, **kwargs)
    except av.error.HTTPUnauthorizedError as exc:
        raise SourceError("unauthorized", describe(exc)) from None
    except (av.FFmpegError, OSError, EOFError) as exc:
        raise SourceError("connect_failed", describe(exc)) from None
    if not container.streams.video:
        container.close()
        raise SourceError("no_video", "the input has no video track")
    stream = container.streams.video[0]
    context = stream.codec_context
    if decoder.threads == 1:
        context.thread_count = 1
        context.thread_type = "SLICE"
    else:
        context.thread_count = decoder.threads
        context.thread_type = "AUTO"
    if decoder.skip_loop_filter:
        context.options = {**dict(context.options or {}), "skip_loop_filter": "all"}
    return VideoSource(container, stream, live)
