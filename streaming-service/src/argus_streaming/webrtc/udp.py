"""Sending the datagrams of one frame to one viewer with as few system calls as possible.

Per packet, the ``sendto`` system call was the largest single cost of relaying video (about
40 % of streaming-service CPU with ten 4 Mbit/s viewers). The packets of a frame are equal
in size but the last (``argus_common.rtsp.packetize``), so Linux UDP GSO (``UDP_SEGMENT``,
4.18+) can take a whole run in one ``sendmsg``: the kernel cuts it into datagrams. Where GSO
is missing or refused, and while asyncio still holds unsent datagrams for the socket, packets
go one by one through the transport as before.
"""

from __future__ import annotations

import socket
import struct
from typing import Any

import structlog

log = structlog.get_logger("argus.streaming.udp")

_SOL_UDP = 17
_UDP_SEGMENT = 103
_MAX_SEGMENTS = 48  # the kernel takes up to 64 (128 on newer ones) within 64 KiB in all
_gso_enabled = hasattr(socket, "CMSG_LEN")


class DatagramOut:
    """Sends lists of datagrams through one asyncio datagram transport to one address."""

    def __init__(self, transport: Any, addr: tuple[str, int]) -> None:
        self.transport = transport
        self.addr = addr
        self._sock: socket.socket | None = None
        raw = transport.get_extra_info("socket")
        if _gso_enabled and raw is not None:
            # The transport's own socket object may not expose sendmsg: use a duplicate
            # descriptor of the same socket (non-blocking, like the original).
            self._sock = socket.fromfd(raw.fileno(), raw.family, raw.type, raw.proto)
            self._sock.setblocking(False)
        self.syscalls = 0

    def close(self) -> None:
        """Release the duplicate descriptor."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def send(self, datagrams: list[bytes]) -> None:
        """Send ``datagrams`` in order."""
        i, n = 0, len(datagrams)
        while i < n:
            size = len(datagrams[i])
            j = i + 1
            # A run: datagrams of one size, optionally closed by one shorter datagram.
            while j < n and j - i < _MAX_SEGMENTS and len(datagrams[j]) == size:
                j += 1
            if j < n and j - i < _MAX_SEGMENTS and len(datagrams[j]) < size:
                j += 1
            if j - i > 1 and self._gso(datagrams[i:j], size):
                i = j
                continue
            for k in range(i, j):
                self.transport.sendto(datagrams[k], self.addr)
                self.syscalls += 1
            i = j

    def _gso(self, run: list[bytes], size: int) -> bool:
        global _gso_enabled
        sock = self._sock
        if sock is None or not _gso_enabled or self.transport.get_write_buffer_size():
            return False
        try:
            sock.sendmsg([b"".join(run)],
                         [(_SOL_UDP, _UDP_SEGMENT, struct.pack("=H", size))], 0, self.addr)
        except BlockingIOError:
            return False  # the transport queues them, in order
        except OSError as exc:  # no GSO here (old kernel, device without it)
            _gso_enabled = False
            log.warning("udp_gso_unavailable", error=str(exc))
            return False
        self.syscalls += 1
        return True
