"""The RTSP client's byte stream: RTSP responses and ``$``-framed interleaved RTP/RTCP.

The hot path of every camera pull: each interleaved frame is handed to ``on_rtp`` as one
``bytes`` object cut straight out of the chunk the socket delivered, so a byte is copied
once on its way in. Only a frame that straddles two reads goes through the carry-over
buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

RtpHandler = Callable[[int, bytes], None]
MAX_BUFFER = 8 * 1024 * 1024  # more unparsed bytes than this: the peer is not RTSP
MAX_HEAD = 65536


@dataclass
class Response:
    """One RTSP response; header names are lower-case, repeated headers kept in order."""

    status: int
    reason: str
    headers: dict[str, list[str]]
    body: bytes

    def header(self, name: str, default: str = "") -> str:
        """The first value of header ``name`` (any case), or ``default``."""
        values = self.headers.get(name.lower())
        return values[0] if values else default


def _drop(channel: int, packet: bytes) -> None:
    """The RTP handler of a client nobody reads media from yet."""


class RtspProtocol(asyncio.Protocol):
    """Splits the TCP byte stream into RTSP responses and interleaved frames."""

    def __init__(self, on_rtp: RtpHandler | None = None) -> None:
        self.on_rtp: RtpHandler = on_rtp or _drop
        self.buffer = bytearray()
        self.transport: asyncio.Transport | None = None
        self.responses: asyncio.Queue[Response] = asyncio.Queue()
        loop = asyncio.get_running_loop()
        self.closed: asyncio.Future[None] = loop.create_future()
        self._time = loop.time
        self.last_data = 0.0
        self.eof = False

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

    def eof_received(self) -> bool | None:
        self.eof = True
        return None

    def data_received(self, data: bytes) -> None:
        self.last_data = self._time()
        buf = self.buffer
        start = 0
        if buf:
            start = self._complete_carry(buf, data)
        if 0 <= start < len(data):
            pos = self._parse(data, start)
            if pos < len(data):
                buf += memoryview(data)[pos:]
        if len(buf) > MAX_BUFFER:
            self.abort()

    def _complete_carry(self, buf: bytearray, data: bytes) -> int:
        """Finish the frame left in ``buf`` with the head of ``data``; the offset in
        ``data`` where parsing goes on, or -1 when ``data`` was all taken."""
        if buf[0] == 0x24 and len(buf) >= 4:
            need = 4 + ((buf[2] << 8) | buf[3]) - len(buf)
            if need > len(data):
                buf += data
                return -1
            buf += memoryview(data)[:need]
            channel, packet = buf[1], bytes(memoryview(buf)[4:])
            buf.clear()
            self.on_rtp(channel, packet)
            return need
        # A partial frame header or RTSP text (rare): parse the joined bytes.
        buf += data
        pos = self._parse(bytes(buf), 0)
        del buf[:pos]
        return -1

    def _parse(self, src: bytes, pos: int) -> int:
        """Handle every whole item of ``src`` from ``pos``; the offset of the first
        incomplete one."""
        n = len(src)
        on_rtp = self.on_rtp
        while pos < n:
            if src[pos] == 0x24:  # '$' channel length(16) payload
                if n - pos < 4:
                    return pos
                end = pos + 4 + ((src[pos + 2] << 8) | src[pos + 3])
                if end > n:
                    return pos
                on_rtp(src[pos + 1], src[pos + 4 : end])
                pos = end
                continue
            head_end = src.find(b"\r\n\r\n", pos)
            if head_end < 0:
                if n - pos > MAX_HEAD:
                    self.abort()
                    return n
                return pos
            head = src[pos:head_end].decode("latin-1")
            lines = head.split("\r\n")
            if not lines[0].startswith("RTSP/"):
                # Not a response (a server request or garbage): skip the line.
                nl = src.find(b"\r\n", pos)
                pos = nl + 2 if 0 <= nl < head_end else head_end + 4
                continue
            headers: dict[str, list[str]] = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                headers.setdefault(key.strip().lower(), []).append(value.strip())
            try:
                # A negative length would move the parser back into bytes it already
                # handled, and round again forever: read it as no body.
                length = max(0, int(headers.get("content-length", ["0"])[0]))
            except ValueError:
                length = 0
            if n - (head_end + 4) < length:
                return pos
            body = src[head_end + 4 : head_end + 4 + length]
            pos = head_end + 4 + length
            parts = lines[0].split(" ", 2)
            try:
                status = int(parts[1])
            except (IndexError, ValueError):
                status = 0
            self.responses.put_nowait(
                Response(status, parts[2] if len(parts) > 2 else "", headers, body)
            )
            on_rtp = self.on_rtp  # a response may have switched the handler
        return pos

    def send(self, text: str) -> bool:
        """Write one request; False when the connection is gone."""
        transport = self.transport
        if transport is None or transport.is_closing():
            return False
        transport.write(text.encode("latin-1"))
        return True

    @property
    def usable(self) -> bool:
        """Whether requests can still be sent on this connection."""
        return (self.transport is not None and not self.transport.is_closing()
                and not self.closed.done() and not self.eof)

    def abort(self) -> None:
        """Drop the connection at once."""
        if self.transport is not None:
            self.transport.abort()
