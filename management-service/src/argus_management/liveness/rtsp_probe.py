"""The RTSP liveness probe: one ``DESCRIBE`` (or ``OPTIONS``) with the shared RTSP client
(``argus_common.rtsp``), answering a Basic or Digest challenge with the camera's credentials.

It opens no media session, so a probe costs the camera one short TCP connection. Results:
200 -> ``ok``; 401/403 with our credentials (or none to give) -> ``auth_failed``; any other
status -> ``error``; connect/read timeouts -> ``timeout``; connection refused -> ``refused``;
reset, EOF or name resolution failure -> ``unreachable``.
"""

from __future__ import annotations

import time
from typing import Literal
from urllib.parse import urlsplit

from argus_common.rtsp import (
    RtspAuthFailed,
    RtspClient,
    RtspError,
    RtspRefused,
    RtspTimeout,
    RtspUnreachable,
    strip_userinfo,
)
from argus_management.liveness.results import Outcome, ProbeResult

USER_AGENT = "ARGUS-liveness/1"

__all__ = ["USER_AGENT", "probe_rtsp", "strip_userinfo"]

_AUTH_DETAIL = {
    "required": "credentials required",
    "unsupported": "no supported authentication scheme",
    "forbidden": "forbidden",
}


def _outcome(exc: RtspError, method: str) -> tuple[Outcome, str]:
    """The probe vocabulary for a client error (messages hold no credentials)."""
    if isinstance(exc, RtspAuthFailed):
        if exc.reason == "refused":
            return "auth_failed", f"credentials refused ({exc.scheme})"
        return "auth_failed", _AUTH_DETAIL[exc.reason]
    if isinstance(exc, RtspTimeout):
        return "timeout", str(exc)
    if isinstance(exc, RtspRefused):
        return "refused", "connection refused"
    if isinstance(exc, RtspUnreachable):
        return "unreachable", str(exc)
    if exc.status is not None:
        return "error", f"{method} answered {exc.status}"
    return "error", str(exc)


async def probe_rtsp(
    url: str,
    username: str | None = None,
    password: str | None = None,
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 3.0,
    method: Literal["DESCRIBE", "OPTIONS"] = "DESCRIBE",
) -> ProbeResult:
    """Probe the RTSP ``url`` (``rtsp://host[:port]/path``) with one request, answering an
    authentication challenge once. Never raises; the result's detail is safe to log."""
    start = time.perf_counter()

    def done(outcome: Outcome, detail: str = "", status: int | None = None) -> ProbeResult:
        return ProbeResult(outcome, detail, status, time.perf_counter() - start)

    try:
        parts = urlsplit(url)
        _ = parts.port
    except ValueError:
        return done("error", "malformed URL")
    if parts.scheme.lower() != "rtsp" or not parts.hostname:
        return done("unsupported", f"no probe for {parts.scheme or 'this'} URLs")
    given = username is not None and password is not None
    # Only the given credentials are used, never userinfo left in the URL.
    client = RtspClient(
        strip_userinfo(url), username=username if given else None,
        password=password if given else None, connect_timeout_s=connect_timeout,
        request_timeout_s=read_timeout, user_agent=USER_AGENT, keepalive=False,
    )
    try:
        response = await (client.describe() if method == "DESCRIBE" else client.options())
        return done("ok", "", response.status)
    except RtspError as exc:
        outcome, detail = _outcome(exc, method)
        return done(outcome, detail, exc.status)
    finally:
        client.abort()
