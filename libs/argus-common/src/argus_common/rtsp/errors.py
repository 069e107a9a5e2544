"""Errors of the RTSP client, each meaning one thing to a caller.

Messages are safe to log and to show: they never hold a URL, a user name or a password
(the client strips userinfo before anything else sees the URL).
"""

from __future__ import annotations

from typing import Literal


class RtspError(Exception):
    """Anything that stops a camera stream. ``status`` is the RTSP status code when the
    camera answered with one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RtspUnreachable(RtspError):
    """No usable TCP connection: the name does not resolve, the host is down, or the camera
    closed or reset the connection."""


class RtspRefused(RtspUnreachable):
    """The camera's host actively refused the TCP connection (nothing listens there)."""


class RtspTimeout(RtspError):
    """The camera did not answer (connect, a request, or media) within its timeout."""


AuthReason = Literal["required", "unsupported", "refused", "forbidden"]


class RtspAuthFailed(RtspError):
    """The camera refused access. ``reason``: ``required`` (we had no credentials),
    ``unsupported`` (no challenge scheme we speak), ``refused`` (our credentials were
    rejected, ``scheme`` says which), ``forbidden`` (403)."""

    def __init__(self, message: str, *, status: int | None = 401,
                 reason: AuthReason = "refused", scheme: str | None = None) -> None:
        super().__init__(message, status=status)
        self.reason: AuthReason = reason
        self.scheme = scheme


class RtspUnsupported(RtspError):
    """The stream cannot be used as asked (codec, transport, no such stream)."""


class RtspUnsupportedCodec(RtspUnsupported):
    """The camera's video is not H.264, the one codec the RTP depacketizer reads.
    ``codec``: the SDP's encoding name (lower case), None when the stream has no video;
    callers that can read other codecs (the recorder's PyAV ingest for H.265) catch this."""

    def __init__(self, message: str, *, codec: str | None = None,
                 status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.codec = codec
