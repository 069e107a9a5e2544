"""Errors of the RTSP client, each meaning one thing to the viewer."""

from __future__ import annotations


class RtspError(Exception):
    """Anything that stops a camera stream; the message is safe to show (no credentials)."""


class RtspUnreachable(RtspError):
    """TCP connect failed or was refused: the camera is down or the address is wrong."""


class RtspTimeout(RtspError):
    """The camera did not answer (connect, a request, or media) within its timeout."""


class RtspAuthFailed(RtspError):
    """The camera refused our credentials."""


class RtspUnsupported(RtspError):
    """The stream cannot be passed through (codec, B-frames, transport)."""
