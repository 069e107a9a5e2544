"""The RTSP server: one TCP port serving ``/camN/main`` and ``/camN/sub`` of every camera."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Callable

from argus_camsim.camera import CameraRuntime
from argus_camsim.hub import StreamHub
from argus_camsim.rtsp.auth import RtspAuth
from argus_camsim.rtsp.connection import RtspConnection

log = logging.getLogger(__name__)


class RtspServer:
    """Accepts RTSP connections and hands each to an :class:`RtspConnection`."""

    def __init__(
        self,
        cameras: dict[str, CameraRuntime],
        auth: RtspAuth,
        session_timeout: float,
        fps_of: Callable[[StreamHub], int],
        max_buffer_of: Callable[[StreamHub], int],
        slow_drop_s: float = 10.0,
        sndbuf: int | None = None,
    ) -> None:
        self.cameras = cameras
        self.auth = auth
        self.session_timeout = session_timeout
        self.fps_of = fps_of
        self.max_buffer_of = max_buffer_of
        self.slow_drop_s = slow_drop_s
        self.sndbuf = sndbuf
        self.connections: set[RtspConnection] = set()
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; returns the bound port (useful with port 0)."""
        self._server = await asyncio.start_server(
            self._serve, host, port, reuse_address=True, limit=64 * 1024
        )
        bound = int(self._server.sockets[0].getsockname()[1])
        log.info("RTSP listening on %s:%d", host, bound)
        return bound

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None:
            # Small RTSP replies and RTP packets must not wait for Nagle.
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self.sndbuf:
                # Bounds what the kernel queues too, so a backlog shows up quickly.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, self.sndbuf)
        conn = RtspConnection(self, reader, writer)
        self.connections.add(conn)
        try:
            await conn.run()
        finally:
            self.connections.discard(conn)

    async def close(self) -> None:
        """Stop listening and cut every connection."""
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            conn.abort()
        if self._server is not None:
            try:
                async with asyncio.timeout(2):
                    await self._server.wait_closed()
            except TimeoutError:
                log.warning("RTSP server did not close in time")
