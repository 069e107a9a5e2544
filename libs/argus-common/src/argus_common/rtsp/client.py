"""A small asyncio RTSP client (RFC 2326): OPTIONS, DESCRIBE, SETUP over TCP interleaved,
PLAY, keepalive, TEARDOWN.

RTP packets are handed to ``on_rtp`` synchronously from ``data_received``, so an access unit
can be completed and fanned out within the same event-loop callback that read its last
packet. Credentials are used only to build ``Authorization`` headers; the URLs kept here
and every error message have no userinfo.

The connection is pinned to a checked address (:mod:`~argus_common.rtsp.connect`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from argus_common.addresses import Network
from argus_common.rtsp.auth import Authenticator
from argus_common.rtsp.connect import open_connection, split_credentials, strip_userinfo
from argus_common.rtsp.errors import (
    RtspAuthFailed,
    RtspError,
    RtspTimeout,
    RtspUnreachable,
    RtspUnsupported,
    RtspUnsupportedCodec,
)
from argus_common.rtsp.protocol import Response, RtpHandler, RtspProtocol, _drop
from argus_common.rtsp.sdp import SdpTrack, control_url, parse_sdp

__all__ = ["USER_AGENT", "PlayingTrack", "Response", "RtpHandler", "RtspClient",
           "split_credentials", "strip_userinfo"]

USER_AGENT = "argus"
MIN_SESSION_TIMEOUT_S = 1.0  # a camera announcing less (or 0) gets keepalives this often


@dataclass
class PlayingTrack:
    """A track set up for PLAY: its SDP description and its interleaved RTP channel."""

    sdp: SdpTrack
    channel: int


class RtspClient:
    """One RTSP session to one camera stream (see the package docstring for its use)."""

    def __init__(
        self,
        url: str,
        on_rtp: RtpHandler | None = None,
        *,
        username: str | None = None,
        password: str | None = None,
        connect_timeout_s: float = 5.0,
        request_timeout_s: float = 5.0,
        want_audio: Callable[[SdpTrack], bool] = lambda _: False,
        user_agent: str = USER_AGENT,
        keepalive: bool = True,
        rcvbuf: int | None = None,
        allowed_networks: list[Network] | None = None,
    ) -> None:
        self.url, user, pw = split_credentials(url)
        self.allowed_networks = allowed_networks  # CAMERA_ALLOWED_NETWORKS (None: any)
        if username is not None:
            user, pw = username, password
        self._auth = Authenticator(user, pw or "") if user is not None else None
        self._on_rtp: RtpHandler = on_rtp or _drop
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self._want_audio = want_audio
        self.user_agent = user_agent
        self._keepalive_enabled = keepalive
        self._rcvbuf = rcvbuf
        self._proto: RtspProtocol | None = None
        self._cseq = 0
        self._session: str | None = None
        self.session_timeout_s = 60.0
        self.tracks: list[PlayingTrack] = []
        self.sdp_tracks: list[SdpTrack] = []
        self._keepalive: asyncio.Task[None] | None = None
        self._base = self.url
        self.keepalive_method = "GET_PARAMETER"

    # -- state -----------------------------------------------------------------------------
    @property
    def authenticator(self) -> Authenticator | None:
        """The credentials' authenticator (None without credentials)."""
        return self._auth

    @property
    def closed(self) -> asyncio.Future[None]:
        """Resolves when the TCP connection ends."""
        assert self._proto is not None, "not connected"
        return self._proto.closed

    @property
    def on_rtp(self) -> RtpHandler:
        """Receives every interleaved frame as ``(channel, packet)``; may be replaced at any
        time, e.g. by an :class:`~argus_common.rtsp.demux.RtpDemux` between ``setup()``
        and ``play()``."""
        return self._on_rtp

    @on_rtp.setter
    def on_rtp(self, handler: RtpHandler) -> None:
        self._on_rtp = handler
        if self._proto is not None:
            self._proto.on_rtp = handler

    @property
    def last_data(self) -> float:
        """Loop time of the last bytes received."""
        return self._proto.last_data if self._proto else 0.0

    @property
    def base_url(self) -> str:
        """The content base of the session (no userinfo)."""
        return self._base

    def pause_reading(self, paused: bool = True) -> None:
        """Stop (or resume) reading the socket: the camera's sends back up (flow control)."""
        if self._proto is not None and self._proto.transport is not None:
            if paused:
                self._proto.transport.pause_reading()
            else:
                self._proto.transport.resume_reading()

    # -- connection ------------------------------------------------------------------------
    async def connect(self) -> None:
        """Open the TCP connection (done by every request when needed)."""
        self._proto = await open_connection(
            self.url, self._on_rtp, timeout_s=self.connect_timeout_s,
            allowed_networks=self.allowed_networks, rcvbuf=self._rcvbuf)

    # -- requests --------------------------------------------------------------------------
    async def options(self) -> Response:
        """OPTIONS on the URL; raises :class:`RtspError` unless the camera answers 2xx."""
        return await self._request("OPTIONS", self.url, {})

    async def describe(self) -> Response:
        """DESCRIBE the URL; the SDP tracks land in :attr:`sdp_tracks`. Raises
        :class:`RtspError` unless the camera answers 2xx."""
        resp = await self._request("DESCRIBE", self.url, {"Accept": "application/sdp"})
        base = resp.header("content-base") or resp.header("content-location") or self.url
        try:
            self._base = strip_userinfo(base)
        except ValueError:
            # A malformed base (an unclosed IPv6 bracket): what a camera without one gets.
            self._base = self.url
        self.sdp_tracks = parse_sdp(resp.body.decode("utf-8", "replace"))
        return resp

    async def request(
        self, method: str, uri: str | None = None, headers: dict[str, str] | None = None
    ) -> Response:
        """Send one request (answering one authentication challenge) and return the
        answer whatever its status. Raises only when no answer came."""
        return await self._request(method, uri or self._base, headers or {}, expect_ok=False)

    async def start(self) -> list[PlayingTrack]:
        """Connect, DESCRIBE, SETUP the H.264 track (and audio if wanted), PLAY."""
        tracks = await self.setup()
        await self.play()
        return tracks

    async def setup(self) -> list[PlayingTrack]:
        """Connect, DESCRIBE and SETUP the H.264 track (and audio if wanted), not PLAY."""
        await self.describe()
        video = next((t for t in self.sdp_tracks if t.kind == "video"), None)
        if video is None or video.codec != "h264":
            raise RtspUnsupportedCodec("the stream has no H.264 video track",
                                       codec=video.codec if video else None)
        chosen = [video]
        audio = next((t for t in self.sdp_tracks if t.kind == "audio"), None)
        if audio is not None and self._want_audio(audio):
            chosen.append(audio)
        for i, track in enumerate(chosen):
            channel = 2 * i
            headers = {"Transport": f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"}
            try:
                # Cameras that build absolute control URLs may copy our userinfo into them.
                url = strip_userinfo(control_url(self._base, track.control))
            except ValueError:
                raise RtspUnsupported("camera sent a malformed track control URL") from None
            resp = await self._request("SETUP", url, headers)
            self._take_session(resp.header("session"))
            self.tracks.append(PlayingTrack(track, channel))
        return self.tracks

    def _take_session(self, session: str) -> None:
        if not session:
            return
        sid, _, params = session.partition(";")
        self._session = sid.strip()
        for p in params.split(";"):
            key, _, value = p.strip().partition("=")
            if key.lower() == "timeout":
                with contextlib.suppress(ValueError):
                    self.session_timeout_s = max(MIN_SESSION_TIMEOUT_S, float(value))

    async def play(self) -> None:
        """PLAY the tracks set up by :meth:`setup`; media flows to ``on_rtp`` from now on,
        and keepalives go out within the session timeout the camera announced."""
        await self._request("PLAY", self._base, {"Range": "npt=0.000-"})
        if self._keepalive_enabled and self._keepalive is None:
            self._keepalive = asyncio.create_task(self._keep_alive(), name="rtsp-keepalive")

    async def keepalive(self) -> None:
        """Send one keepalive now (GET_PARAMETER, or OPTIONS for cameras without it)."""
        resp = await self._request(self.keepalive_method, self._base, {}, expect_ok=False)
        if resp.status in (405, 451, 501) and self.keepalive_method != "OPTIONS":
            self.keepalive_method = "OPTIONS"
            await self._request("OPTIONS", self._base, {}, expect_ok=False)

    async def _keep_alive(self) -> None:
        # Cameras end sessions that show no sign of life within their timeout; half of it
        # leaves room for a slow answer.
        with contextlib.suppress(RtspError):
            for _ in range(10_000_000):  # bounded by the session's life, not a count
                await asyncio.sleep(self.session_timeout_s / 2)
                await self.keepalive()

    async def _request(
        self, method: str, uri: str, headers: dict[str, str], *, expect_ok: bool = True
    ) -> Response:
        resp = await self._send(method, uri, headers)
        if resp.status == 401 and self._auth is not None:
            if not self._auth.challenge(resp.headers.get("www-authenticate", [])):
                raise RtspAuthFailed("camera offers no supported authentication scheme (401)",
                                     reason="unsupported")
            if not self._usable(resp) and self._session is None:
                # Some cameras hang up after a 401: answer the challenge on a new connection.
                self._drop_connection()
            resp = await self._send(method, uri, headers)
            if resp.status in (401, 403) and expect_ok:
                raise RtspAuthFailed(
                    f"camera refused the credentials ({self._auth.scheme}, {resp.status})",
                    status=resp.status, reason="refused", scheme=self._auth.scheme)
        if expect_ok and not 200 <= resp.status < 300:
            if resp.status == 401:
                raise RtspAuthFailed("camera requires credentials (401)", reason="required")
            if resp.status == 403:
                raise RtspAuthFailed("camera forbids access (403)", status=403,
                                     reason="forbidden")
            if resp.status == 404:
                raise RtspUnsupported("camera has no such stream (404)", status=404)
            raise RtspError(f"camera answered {method} with {resp.status} {resp.reason}",
                            status=resp.status)
        return resp

    def _usable(self, resp: Response) -> bool:
        proto = self._proto
        return (proto is not None and proto.usable
                and resp.header("connection").lower() != "close")

    def _drop_connection(self) -> None:
        if self._proto is not None:
            self._proto.abort()
            self._proto = None

    async def _send(self, method: str, uri: str, headers: dict[str, str]) -> Response:
        if self._proto is None:
            await self.connect()
        proto = self._proto
        assert proto is not None
        self._cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self._cseq}",
                 f"User-Agent: {self.user_agent}"]
        if self._session:
            lines.append(f"Session: {self._session}")
        if self._auth is not None and (value := self._auth.header(method, uri)):
            lines.append(f"Authorization: {value}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if not proto.send("\r\n".join(lines) + "\r\n\r\n"):
            raise RtspUnreachable("connection to camera closed")
        get = asyncio.ensure_future(proto.responses.get())
        try:
            waiting: list[asyncio.Future[Any]] = [get, proto.closed]
            done, _ = await asyncio.wait(
                waiting, timeout=self.request_timeout_s,
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            if not get.done():
                get.cancel()
        if get in done:
            return get.result()
        if proto.closed.done():
            raise RtspUnreachable(f"camera closed the connection during {method}")
        raise RtspTimeout(f"camera did not answer {method} within {self.request_timeout_s:g} s")

    # -- the end ---------------------------------------------------------------------------
    def abort(self) -> None:
        """Close the connection at once, without TEARDOWN."""
        if self._keepalive is not None:
            self._keepalive.cancel()
        self._drop_connection()

    async def close(self) -> None:
        """TEARDOWN (best effort) and close the connection."""
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        proto = self._proto
        if proto is None or proto.transport is None:
            return
        if proto.usable and self._session:
            # Best effort and without waiting for the answer: the camera frees the session
            # at once instead of after its timeout.
            lines = [f"TEARDOWN {self._base} RTSP/1.0", f"CSeq: {self._cseq + 1}",
                     f"User-Agent: {self.user_agent}", f"Session: {self._session}"]
            if self._auth is not None and (v := self._auth.header("TEARDOWN", self._base)):
                lines.append(f"Authorization: {v}")
            proto.send("\r\n".join(lines) + "\r\n\r\n")
        proto.transport.close()
