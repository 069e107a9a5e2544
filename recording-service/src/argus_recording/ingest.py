"""The camera source: PyAV over RTSP/TCP (or RTMP), errors turned into ``IngestError``.

FFmpeg puts the URL, credentials included, into its error messages; every message that
leaves this module goes through ``redact_url``.
"""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av

from argus_common.logging import redact_url

VIDEO_CODECS = frozenset({"h264", "hevc"})
# Errors where the camera answered and refused us (credentials, path): waiting for it to
# "come back" makes no sense. Anything else (resets, timeouts, garbage) may be a camera
# that is away, and a probe can tell when it is back.
_REFUSED = (av.error.HTTPClientError,)


class IngestError(Exception):
    """The stream could not be opened or read. ``reason`` is short and safe to log, from the
    vocabulary of ``stream.down`` events (docs/contracts.md): ``auth``, ``refused``,
    ``timeout``, ``eof``, ``unsupported``, ``error``."""

    def __init__(self, reason: str, detail: str = "", *, unreachable: bool = False) -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail
        self.unreachable = unreachable


def _reason(exc: BaseException) -> str:
    if isinstance(exc, av.error.HTTPUnauthorizedError):
        return "auth"
    if isinstance(exc, av.error.HTTPClientError | ConnectionRefusedError):
        return "refused"
    if isinstance(exc, TimeoutError | av.error.ExitError):
        return "timeout"
    if isinstance(exc, EOFError | ConnectionResetError | BrokenPipeError):
        return "eof"
    return "error"


def _describe(exc: BaseException) -> str:
    return redact_url(f"{type(exc).__name__}: {exc}")[:300]


def _options(url: str, read_timeout_s: float, probe: bool) -> dict[str, str]:
    scheme = urlsplit(url).scheme.lower()
    micros = str(int(read_timeout_s * 1_000_000))
    if scheme in ("rtsp", "rtsps"):
        options = {"rtsp_transport": "tcp", "timeout": micros}
    else:
        # For RTMP "timeout" would mean "listen"; rw_timeout is the socket I/O timeout.
        options = {"rw_timeout": micros}
    if not probe:
        # The SDP carries the parameter sets: skip FFmpeg's probing, so the first packets
        # we see arrive in real time (they anchor wall-clock time; see clock.py).
        options.update(analyzeduration="0", probesize="32")
    return options


@dataclass
class Source:
    """An open stream: its video stream and, when MP4 can hold it, its audio stream."""

    container: av.container.InputContainer
    video: av.VideoStream
    audio: av.AudioStream | None
    dropped_audio: str | None  # codec name of audio that MP4 cannot hold

    def packets(self) -> Iterator[av.Packet[Any]]:
        """Demuxed packets of the kept streams; read errors become ``IngestError``."""
        streams: list[av.stream.Stream] = [self.video]
        if self.audio is not None:
            streams.append(self.audio)
        try:
            for packet in self.container.demux(streams):
                if packet.dts is None or packet.size == 0:
                    continue  # flush packets at end of stream
                yield packet
        except (av.FFmpegError, OSError, EOFError) as exc:
            raise IngestError(_reason(exc), _describe(exc), unreachable=True) from None
        raise IngestError("eof", "end of stream", unreachable=True)

    def close(self) -> None:
        try:
            self.container.close()
        except Exception:  # noqa: S110 - closing a broken connection may fail; nothing to do
            pass


@lru_cache(maxsize=1)
def _mp4_codecs() -> frozenset[str]:
    out = av.open(io.BytesIO(), "w", format="mp4")
    try:
        return frozenset(out.supported_codecs)
    finally:
        out.close()


def mp4_can_hold(stream: av.stream.Stream) -> bool:
    """Whether FFmpeg's MP4 muxer accepts this stream's codec (AAC yes, G.711 no)."""
    name = stream.codec_context.name if stream.codec_context else ""
    return bool(name) and name in _mp4_codecs()


def open_source(url: str, connect_timeout_s: float, read_timeout_s: float) -> Source:
    """Open ``url`` (credentials in its userinfo) and pick the streams to record."""
    container = _open(url, connect_timeout_s, read_timeout_s, probe=False)
    if container.streams.video and container.streams.video[0].codec_context.width == 0:
        # No parameter sets in the SDP: let FFmpeg probe the stream for them.
        container.close()
        container = _open(url, connect_timeout_s, read_timeout_s, probe=True)
    if not container.streams.video:
        container.close()
        raise IngestError("unsupported", "the stream has no video track")
    video = container.streams.video[0]
    if video.codec_context.name not in VIDEO_CODECS:
        name = video.codec_context.name
        container.close()
        raise IngestError("unsupported", f"video codec {name} (need H.264 or H.265)")
    audio: av.AudioStream | None = None
    dropped: str | None = None
    for stream in container.streams.audio:
        if mp4_can_hold(stream):
            audio = stream
            break
        dropped = stream.codec_context.name
    return Source(container=container, video=video, audio=audio, dropped_audio=dropped)


def _open(
    url: str, connect_timeout_s: float, read_timeout_s: float, probe: bool
) -> av.container.InputContainer:
    try:
        # PyAV's own timeout is an interrupt callback that FFmpeg calls around every socket
        # read and that takes the GIL: with a hundred cameras that costs more than the
        # remux. So it bounds only the opening; reads are bounded by FFmpeg's socket
        # timeout (``timeout``/``rw_timeout`` in the options), which needs no callback.
        return av.open(
            url, options=_options(url, read_timeout_s, probe),
            timeout=(connect_timeout_s, None),
        )
    except _REFUSED as exc:
        raise IngestError(_reason(exc), _describe(exc)) from None
    except (av.FFmpegError, OSError, EOFError) as exc:
        raise IngestError(_reason(exc), _describe(exc), unreachable=True) from None


def rtsp_answers(url: str, timeout_s: float) -> bool:
    """Whether the RTSP server answers DESCRIBE for ``url`` (no credentials sent: a 401
    counts as an answer). Used while backing off, to reconnect as soon as a camera that
    went away is back. DESCRIBE rather than OPTIONS: servers in front of several cameras
    answer OPTIONS for all of them even when one is down."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "rtsp" or not parts.hostname:
        return False
    hostport = parts.netloc.rpartition("@")[2]
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, ""))
    request = (
        f"DESCRIBE {clean} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n"
        "User-Agent: argus-recording\r\n\r\n"
    )
    try:
        with socket.create_connection((parts.hostname, parts.port or 554), timeout_s) as sock:
            sock.settimeout(timeout_s)
            sock.sendall(request.encode("latin-1"))
            return sock.recv(16).startswith(b"RTSP/1.")
    except (OSError, ValueError, UnicodeError):
        return False
