"""A minimal asyncio RTSP client (TCP interleaved), for tests, benchmarks and probes.

It speaks just enough RTSP to play a stream: DESCRIBE, SETUP, PLAY, GET_PARAMETER and
TEARDOWN, with Basic or Digest (with or without qop) authentication. It does not decode:
it returns raw RTP packets, or counts frames by the RTP marker bit, which costs a
fraction of what a decoder would (the benchmark uses it to be a light client).
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from argus_camsim.rtsp.auth import digest_response, parse_params


class RtspError(Exception):
    """The server answered with an error status."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(f"RTSP {status} {reason}")
        self.status = status


@dataclass
class RtspResponse:
    """A parsed RTSP response; ``headers`` keys are lower-case, repeated ones joined by \\n."""

    status: int
    reason: str
    headers: dict[str, str]
    body: bytes = b""


@dataclass
class FrameCount:
    """What :meth:`RtspClient.count_frames` saw on one channel."""

    frames: int = 0
    packets: int = 0
    bytes: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    timestamps: list[int] = field(default_factory=list)


class RtspClient:
    """Plays one RTSP URL over TCP; use as ``async with RtspClient(url) as c``."""

    def __init__(
        self,
        url: str,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        prefer: str = "digest",
        digest_qop: bool = True,
        rcvbuf: int | None = None,
    ) -> None:
        parts = urlsplit(url)
        self.username = username if username is not None else parts.username
        self.password = password if password is not None else parts.password
        netloc = parts.hostname or "127.0.0.1"
        if parts.port:
            netloc = f"{netloc}:{parts.port}"
        self.url = urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 554
        self.timeout = timeout
        self.prefer = prefer
        self.digest_qop = digest_qop
        self.rcvbuf = rcvbuf
        self.session: str | None = None
        self.content_base = self.url.rstrip("/") + "/"
        self.sdp = ""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._cseq = 0
        self._auth: dict[str, str] | None = None
        self._nc = 0
        self._rest = b""  # partial packet left over by count_frames

    async def __aenter__(self) -> RtspClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def open(self) -> None:
        """Connect the TCP socket."""
        async with asyncio.timeout(self.timeout):
            if self.rcvbuf is None:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
                return
            # A small receive buffer (set before connecting) simulates a slow client.
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, self.rcvbuf)
            sock.setblocking(False)
            try:
                await asyncio.get_running_loop().sock_connect(sock, (self.host, self.port))
            except BaseException:
                sock.close()
                raise
            self._reader, self._writer = await asyncio.open_connection(sock=sock)

    def close(self) -> None:
        """Close the connection (no TEARDOWN)."""
        if self._writer is not None:
            self._writer.close()

    def pause_reading(self, paused: bool = True) -> None:
        """Stop (or resume) reading from the socket: a client that falls behind."""
        assert self._writer is not None, "not connected"
        transport = self._writer.transport
        assert isinstance(transport, asyncio.ReadTransport)
        if paused:
            transport.pause_reading()
        else:
            transport.resume_reading()

    @property
    def reader(self) -> asyncio.StreamReader:
        """The socket's reader (for callers that parse packets themselves)."""
        assert self._reader is not None, "not connected"
        return self._reader

    def _authorization(self, method: str, url: str) -> str | None:
        if self._auth is None or self.username is None:
            return None
        if self._auth["scheme"] == "basic":
            token = base64.b64encode(f"{self.username}:{self.password or ''}".encode())
            return "Basic " + token.decode()
        realm, nonce = self._auth["realm"], self._auth["nonce"]
        fields = [
            f'username="{self.username}"',
            f'realm="{realm}"',
            f'nonce="{nonce}"',
            f'uri="{url}"',
        ]
        if "qop" in self._auth and self.digest_qop:
            self._nc += 1
            nc, cnonce = f"{self._nc:08x}", os.urandom(8).hex()
            resp = digest_response(
                self.username,
                self.password or "",
                method,
                url,
                nonce,
                qop="auth",
                nc=nc,
                cnonce=cnonce,
                realm=realm,
            )
            fields += [f'response="{resp}"', "qop=auth", f"nc={nc}", f'cnonce="{cnonce}"']
        else:
            resp = digest_response(
                self.username, self.password or "", method, url, nonce, realm=realm
            )
            fields.append(f'response="{resp}"')
        return "Digest " + ", ".join(fields)

    def _learn_challenge(self, header: str) -> bool:
        offers = [h.strip() for h in header.split("\n") if h.strip()]
        order = ["digest", "basic"] if self.prefer == "digest" else ["basic", "digest"]
        for scheme in order:
            for offer in offers:
                name, _, rest = offer.partition(" ")
                if name.lower() == scheme:
                    params = parse_params(rest)
                    self._auth = {"scheme": scheme, **params}
                    return True
        return False

    async def request(
        self, method: str, url: str | None = None, headers: dict[str, str] | None = None
    ) -> RtspResponse:
        """Send a request and return its response (answers one 401 challenge)."""
        target = url or self.url
        resp = await self._send(method, target, headers or {})
        if resp.status == 401 and self.username is not None and self._auth is None:
            if self._learn_challenge(resp.headers.get("www-authenticate", "")):
                resp = await self._send(method, target, headers or {})
        return resp

    async def _send(self, method: str, url: str, headers: dict[str, str]) -> RtspResponse:
        assert self._writer is not None, "not connected"
        self._cseq += 1
        lines = [f"{method} {url} RTSP/1.0", f"CSeq: {self._cseq}", "User-Agent: argus-camsim"]
        auth = self._authorization(method, url)
        if auth:
            lines.append(f"Authorization: {auth}")
        if self.session and "Session" not in headers:
            lines.append(f"Session: {self.session}")
        lines += [f"{k}: {v}" for k, v in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        async with asyncio.timeout(self.timeout):
            return await self._read_response()

    async def _read_response(self) -> RtspResponse:
        reader = self.reader
        while True:
            first = await reader.readexactly(1)
            if first == b"$":  # media still flowing: skip it
                header = await reader.readexactly(3)
                await reader.readexactly(int.from_bytes(header[1:3], "big"))
                continue
            head = (first + await reader.readuntil(b"\r\n\r\n")).decode()
            lines = head.split("\r\n")
            _, status, reason = [*lines[0].split(" ", 2), ""][:3]
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    key = name.strip().lower()
                    value = value.strip()
                    headers[key] = f"{headers[key]}\n{value}" if key in headers else value
            length = int(headers.get("content-length", "0"))
            body = await reader.readexactly(length) if length else b""
            return RtspResponse(int(status), reason, headers, body)

    async def describe(self) -> str:
        """DESCRIBE; returns the SDP (raises :class:`RtspError` on failure)."""
        resp = await self.request("DESCRIBE", headers={"Accept": "application/sdp"})
        if resp.status != 200:
            raise RtspError(resp.status, resp.reason)
        self.content_base = resp.headers.get("content-base", self.content_base)
        self.sdp = resp.body.decode()
        return self.sdp

    async def play(self, tracks: tuple[int, ...] = (0,)) -> None:
        """DESCRIBE, SETUP (interleaved channels 2k, 2k+1 per track) and PLAY."""
        await self.describe()
        for track in tracks:
            transport = f"RTP/AVP/TCP;unicast;interleaved={2 * track}-{2 * track + 1}"
            resp = await self.request(
                "SETUP", f"{self.content_base}trackID={track}", {"Transport": transport}
            )
            if resp.status != 200:
                raise RtspError(resp.status, resp.reason)
            self.session = resp.headers.get("session", "").split(";", 1)[0]
        resp = await self.request("PLAY", self.content_base, {"Range": "npt=0.000-"})
        if resp.status != 200:
            raise RtspError(resp.status, resp.reason)

    async def read_packet(self) -> tuple[int, bytes]:
        """The next interleaved packet as (channel, RTP bytes); raises on EOF."""
        reader = self.reader
        while True:
            first = await reader.readexactly(1)
            if first == b"$":
                header = await reader.readexactly(3)
                data = await reader.readexactly(int.from_bytes(header[1:3], "big"))
                return header[0], data
            # An RTSP response to a keepalive: consume it.
            await reader.readuntil(b"\r\n\r\n")

    async def keepalive(self) -> None:
        """Send GET_PARAMETER without waiting for the answer (it arrives among packets)."""
        assert self._writer is not None
        self._cseq += 1
        lines = [f"GET_PARAMETER {self.content_base} RTSP/1.0", f"CSeq: {self._cseq}"]
        auth = self._authorization("GET_PARAMETER", self.content_base)
        if auth:
            lines.append(f"Authorization: {auth}")
        if self.session:
            lines.append(f"Session: {self.session}")
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())

    async def count_frames(
        self, seconds: float, channel: int = 0, keep_timestamps: bool = False
    ) -> FrameCount:
        """Count RTP packets and frames (marker bits) on ``channel`` for ``seconds``.

        Parses whole read buffers at once rather than awaiting every packet, so one
        process can follow a hundred streams. Stops early on EOF.
        """
        reader = self.reader
        stats = FrameCount()
        buf = self._rest
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                async with asyncio.timeout(left):
                    chunk = await reader.read(262_144)
            except TimeoutError:
                break
            if not chunk:
                break
            buf = buf + chunk if buf else chunk
            pos, n = 0, len(buf)
            while pos < n:
                if buf[pos] != 0x24:  # an RTSP response among the packets
                    end = buf.find(b"\r\n\r\n", pos)
                    if end < 0:
                        break
                    pos = end + 4
                    continue
                if pos + 4 > n:
                    break
                size = (buf[pos + 2] << 8) | buf[pos + 3]
                if pos + 4 + size > n:
                    break
                if buf[pos + 1] == channel and size >= 12:
                    stats.packets += 1
                    stats.bytes += size
                    if buf[pos + 5] & 0x80:
                        stats.frames += 1
                        ts = int.from_bytes(buf[pos + 8 : pos + 12], "big")
                        if stats.first_ts is None:
                            stats.first_ts = ts
                        stats.last_ts = ts
                        if keep_timestamps:
                            stats.timestamps.append(ts)
                pos += 4 + size
            buf = buf[pos:]
        self._rest = buf  # the next call resumes mid-stream where this one stopped
        return stats
