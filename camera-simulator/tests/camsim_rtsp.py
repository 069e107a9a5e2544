"""The simulator tests' RTSP player: the shared client (``argus_common.rtsp``) with the pull
style these tests read best (``read_packet``, ``count_frames`` over a window).

Connection failures surface as ``ConnectionError`` (what the tests catch for a camera that
is offline or dropped us); RTSP statuses come back from :meth:`request`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
from collections.abc import Awaitable, Iterator
from typing import TypeVar

from argus_common.rtsp import Response, RtspError, RtspUnreachable
from argus_common.rtsp import RtspClient as SharedClient
from argus_common.rtsp.counter import FrameCount, FrameCounter

T = TypeVar("T")
_QUEUE_MAX = 20_000  # packets kept for read_packet; older ones are dropped


@contextlib.contextmanager
def _as_connection_error() -> Iterator[None]:
    try:
        yield
    except RtspUnreachable as exc:
        raise ConnectionError(str(exc)) from None


class RtspClient:
    """Plays one RTSP URL over TCP; ``async with RtspClient(url) as c``. It sends no
    keepalive by itself (a test decides with :meth:`keepalive`)."""

    def __init__(self, url: str, username: str | None = None, password: str | None = None,
                 timeout: float = 10.0, digest_qop: bool = True,
                 rcvbuf: int | None = None) -> None:
        self._client = SharedClient(url, self._on_packet, username=username, password=password,
                                    connect_timeout_s=timeout, request_timeout_s=timeout,
                                    user_agent="argus-camsim-test", keepalive=False,
                                    rcvbuf=rcvbuf)
        if not digest_qop and self._client.authenticator is not None:
            self._client.authenticator.use_qop = False
        self._counter = FrameCounter(0)
        self._packets: collections.deque[tuple[int, bytes]] = collections.deque(
            maxlen=_QUEUE_MAX)
        self._arrived = asyncio.Event()

    def _on_packet(self, channel: int, packet: bytes) -> None:
        self._counter(channel, packet)
        self._packets.append((channel, packet))
        self._arrived.set()

    async def __aenter__(self) -> RtspClient:
        await self.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def open(self) -> None:
        """Connect the TCP socket."""
        with _as_connection_error():
            await self._client.connect()

    def close(self) -> None:
        """Close the connection (no TEARDOWN)."""
        self._client.abort()

    def pause_reading(self, paused: bool = True) -> None:
        """Stop (or resume) reading from the socket: a client that falls behind."""
        self._client.pause_reading(paused)

    async def request(self, method: str, url: str | None = None,
                      headers: dict[str, str] | None = None) -> Response:
        """One request (on the stream URL by default, answering one challenge); any
        status comes back."""
        with _as_connection_error():
            return await self._client.request(method, url, headers)

    async def describe(self) -> str:
        """DESCRIBE; returns the SDP."""
        with _as_connection_error():
            resp = await self._client.describe()
        return resp.body.decode()

    async def play(self) -> None:
        """DESCRIBE, SETUP the video track (interleaved 0-1) and PLAY."""
        with _as_connection_error():
            await self._client.start()

    async def keepalive(self) -> None:
        """One GET_PARAMETER (its answer arrives among the packets)."""
        with _as_connection_error(), contextlib.suppress(RtspError):
            await self._client.keepalive()

    async def read_packet(self) -> tuple[int, bytes]:
        """The next interleaved packet as (channel, RTP bytes); ConnectionError at the end."""
        for _ in range(1_000_000):
            if self._packets:
                return self._packets.popleft()
            if self._client.closed.done():
                raise ConnectionResetError("camera closed the connection")
            self._arrived.clear()
            await _first(self._arrived.wait(), self._client.closed)
        raise AssertionError("unreachable")

    async def count_frames(self, seconds: float, channel: int = 0,
                           keep_timestamps: bool = False) -> FrameCount:
        """Packets and frames (marker bits) on ``channel`` for ``seconds``, or until the
        connection ends."""
        self._counter = FrameCounter(channel, keep_timestamps=keep_timestamps)
        self._packets.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await asyncio.shield(self._client.closed)
        return self._counter.take()


async def _first(aw: Awaitable[T], closed: asyncio.Future[None]) -> None:
    task = asyncio.ensure_future(aw)
    try:
        await asyncio.wait([task, closed], return_when=asyncio.FIRST_COMPLETED)
    finally:
        task.cancel()
