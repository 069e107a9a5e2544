"""A small asyncio RTSP client (RFC 2326): DESCRIBE, SETUP over TCP interleaved, PLAY.

RTP packets are handed to ``on_rtp`` synchronously from ``data_received``, so an access unit
can be completed and fanned out within the same event-loop callback that read its last
packet. Credentials are used only to build ``Authorization`` headers; the URLs kept here
and in any message have no userinfo.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import unquote, urlsplit, urlunsplit

from argus_common.rtsp.auth import Authenticator
from argus_common.rtsp.errors import (
    RtspAuthFailed,
    RtspError,
    RtspTimeout,
    RtspUnreachable,
    RtspUnsupported,
)
from argus_common.rtsp.sdp import SdpTrack, control_url, parse_sdp

RtpHandler = Callable[[int, bytes], None]
_MAX_BUFFER = 8 * 1024 * 1024
USER_AGENT = "argus"


@dataclass
class Response:
    """One RTSP response."""

    status: int
    reason: str
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        values = self.headers.get(name.lower())
        return values[0] if values else default


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without userinfo, username, password)``; userinfo is percent-decoded."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, unquote(user), unquote(password) if sep else None


def _drop(channel: int, packet: bytes) -> None:
    """The RTP handler of a client nobody reads media from yet."""


class _Protocol(asyncio.Protocol):
    """Splits the TCP byte stream into RTSP responses and interleaved RTP/RTCP frames."""

    def __init__(self, on_rtp: RtpHandler) -> None:
        self.on_rtp = on_rtp
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.responses: asyncio.Queue[Response] = asyncio.Queue()
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.last_data = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)
        sock = transport.get_extra_info("socket")
        if sock is not None:
            with contextlib.suppress(OSError, AttributeError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)

    def data_received(self, data: bytes) -> None:
        buf = self.buffer
        buf += data
        self.last_data = asyncio.get_running_loop().time()
        pos = 0
        n = len(buf)
        while pos < n:
            if buf[pos] == 0x24:  # '$' channel length payload
                if n - pos < 4:
                    break
                size = (buf[pos + 2] << 8) | buf[pos + 3]
                if n - pos < 4 + size:
                    break
                channel = buf[pos + 1]
                self.on_rtp(channel, bytes(buf[pos + 4 : pos + 4 + size]))
                pos += 4 + size
                continue
            end = buf.find(b"\r\n\r\n", pos)
            if end < 0:
                if n - pos > 65536:
                    self._fail()
                    return
                break
            head = bytes(buf[pos:end]).decode("latin-1")
            lines = head.split("\r\n")
            if not lines[0].startswith("RTSP/"):
                # Not a response (a server request or garbage): skip the line.
                nl = buf.find(b"\r\n", pos)
                pos = nl + 2 if 0 <= nl < end else end + 4
                continue
            headers: dict[str, list[str]] = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                headers.setdefault(key.strip().lower(), []).append(value.strip())
            try:
                length = int(headers.get("content-length", ["0"])[0])
            except ValueError:
                length = 0
            if n - (end + 4) < length:
                break
            body = bytes(buf[end + 4 : end + 4 + length])
            pos = end + 4 + length
            parts = lines[0].split(" ", 2)
            try:
                status = int(parts[1])
            except (IndexError, ValueError):
                status = 0
            self.responses.put_nowait(
                Response(status, parts[2] if len(parts) > 2 else "", headers, body)
            )
        if pos:
            del buf[:pos]
        if len(buf) > _MAX_BUFFER:
            self._fail()

    def _fail(self) -> None:
        if self.transport is not None:
            self.transport.abort()


@dataclass
class PlayingTrack:
    """A track set up for PLAY: its SDP description and its interleaved RTP channel."""

    sdp: SdpTrack
    channel: int


class RtspClient:
    """One RTSP session to one camera stream."""

    def __init__(
        self,
        url: str,
        on_rtp: RtpHandler | None = None,
        *,
        connect_timeout_s: float = 5.0,
        request_timeout_s: float = 5.0,
        want_audio: Callable[[SdpTrack], bool] = lambda _: False,
        user_agent: str = USER_AGENT,
    ) -> None:
        self.url, user, password = split_credentials(url)
        self._auth = Authenticator(user or "", password or "") if user is not None else None
        self._on_rtp: RtpHandler = on_rtp or _drop
        self.user_agent = user_agent
        self.connect_timeout_s = connect_timeout_s
        self.request_timeout_s = request_timeout_s
        self._want_audio = want_audio
        self._proto: _Protocol | None = None
        self._cseq = 0
        self._session: str | None = None
        self.session_timeout_s = 60.0
        self.tracks: list[PlayingTrack] = []
        self._keepalive: asyncio.Task[None] | None = None
        self._base = self.url

    @property
    def closed(self) -> asyncio.Future[None]:
        """Resolves when the TCP connection ends."""
        assert self._proto is not None
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

    async def start(self) -> list[PlayingTrack]:
        """Connect, DESCRIBE, SETUP the H.264 track (and audio if wanted), PLAY."""
        tracks = await self.setup()
        await self.play()
        return tracks

    async def setup(self) -> list[PlayingTrack]:
        """Connect, DESCRIBE and SETUP the H.264 track (and audio if wanted), not PLAY."""
        parts = urlsplit(self.url)
        if parts.scheme.lower() != "rtsp" or not parts.hostname:
            raise RtspUnsupported("only rtsp:// URLs are supported")
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout_s):
                _, proto = await loop.create_connection(
                    lambda: _Protocol(self._on_rtp), parts.hostname, parts.port or 554
                )
        except TimeoutError:
            raise RtspTimeout(f"camera did not accept a connection within "
                              f"{self.connect_timeout_s:g} s") from None
        except OSError as exc:
            raise RtspUnreachable(f"cannot connect to camera: {exc.strerror or exc}") from None
        self._proto = proto
        resp = await self._request("DESCRIBE", self.url, {"Accept": "application/sdp"})
        base = resp.header("content-base") or resp.header("content-location") or self.url
        base, _, _ = split_credentials(base)
        sdp_tracks = parse_sdp(resp.body.decode("utf-8", "replace"))
        video = next((t for t in sdp_tracks if t.kind == "video"), None)
        if video is None or video.codec != "h264":
            raise RtspUnsupported("the stream has no H.264 video track")
        chosen = [video]
        audio = next((t for t in sdp_tracks if t.kind == "audio"), None)
        if audio is not None and self._want_audio(audio):
            chosen.append(audio)
        for i, track in enumerate(chosen):
            channel = 2 * i
            headers = {"Transport": f"RTP/AVP/TCP;unicast;interleaved={channel}-{channel + 1}"}
            resp = await self._request("SETUP", control_url(base, track.control), headers)
            session = resp.header("session")
            if session:
                sid, _, params = session.partition(";")
                self._session = sid.strip()
                for p in params.split(";"):
                    key, _, value = p.strip().partition("=")
                    if key.lower() == "timeout":
                        with contextlib.suppress(ValueError):
                            self.session_timeout_s = max(5.0, float(value))
            self.tracks.append(PlayingTrack(track, channel))
        self._base = base
        return self.tracks

    async def play(self) -> None:
        """PLAY the tracks set up by :meth:`setup`; media flows to ``on_rtp`` from now on."""
        base = self._base
        await self._request("PLAY", base, {"Range": "npt=0.000-"})
        self._keepalive = asyncio.create_task(self._keep_alive(base), name="rtsp-keepalive")

    async def _keep_alive(self, base: str) -> None:
        # Cameras end sessions that show no sign of life within their timeout.
        with contextlib.suppress(RtspError, asyncio.CancelledError):
            while True:
                await asyncio.sleep(self.session_timeout_s / 2)
                await self._request("GET_PARAMETER", base, {}, expect_ok=False)

    async def _request(
        self, method: str, uri: str, headers: dict[str, str], *, expect_ok: bool = True
    ) -> Response:
        for attempt in range(2):
            resp = await self._send(method, uri, headers)
            if resp.status == 401 and attempt == 0 and self._auth is not None:
                if self._auth.challenge(resp.headers.get("www-authenticate", [])):
                    continue
            if resp.status == 401:
                raise RtspAuthFailed("camera refused the credentials (401)")
            if expect_ok and not 200 <= resp.status < 300:
                if resp.status == 404:
                    raise RtspUnsupported("camera has no such stream (404)")
                raise RtspError(f"camera answered {method} with {resp.status} {resp.reason}")
            return resp
        raise RtspAuthFailed("camera refused the credentials")

    async def _send(self, method: str, uri: str, headers: dict[str, str]) -> Response:
        proto = self._proto
        if proto is None or proto.transport is None or proto.transport.is_closing():
            raise RtspUnreachable("connection to camera closed")
        self._cseq += 1
        lines = [f"{method} {uri} RTSP/1.0", f"CSeq: {self._cseq}",
                 f"User-Agent: {self.user_agent}"]
        if self._session:
            lines.append(f"Session: {self._session}")
        if self._auth is not None and (value := self._auth.header(method, uri)):
            lines.append(f"Authorization: {value}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        proto.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
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

    async def close(self) -> None:
        """TEARDOWN (best effort) and close the connection."""
        if self._keepalive is not None:
            self._keepalive.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._keepalive
        proto = self._proto
        if proto is None or proto.transport is None:
            return
        if not proto.transport.is_closing() and self._session:
            # Best effort and without waiting for the answer: the camera frees the session
            # at once instead of after its timeout.
            lines = [f"TEARDOWN {self.url} RTSP/1.0", f"CSeq: {self._cseq + 1}",
                     f"Session: {self._session}"]
            if self._auth is not None and (v := self._auth.header("TEARDOWN", self.url)):
                lines.append(f"Authorization: {v}")
            proto.transport.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        proto.transport.close()
