"""A UDP port range for ICE host candidates (``STREAMING_ICE_PORT_MIN..MAX``).

aioice binds every host candidate to an ephemeral port (``local_addr=(address, 0)`` in
``Connection.get_component_candidates``) and has no option for a range, so a container
cannot publish its WebRTC ports. ``PortRangeConnection`` binds the host sockets itself, to
the next free port of the range (a port in use is skipped), and leaves STUN and TURN to
aioice. aiortc creates its ICE connections through the name ``Connection`` in
``aiortc.rtcicetransport``; importing this module points that name at the subclass. It
behaves exactly like aioice's class outside ``ice_port_range``, a context variable set
around the answer's gathering (``webrtc/peer.py``), so other aiortc peers of the process
(a test's client) keep ephemeral ports.

A session needs one port per bundled transport (one with aiortc's BUNDLE answer). When
every port of the range is taken, the offer is answered 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import ipaddress
import socket
from collections.abc import Iterator
from contextvars import ContextVar

import aiortc.rtcicetransport
import structlog
from aioice import Candidate, Connection
from aioice.candidate import candidate_foundation, candidate_priority
from aioice.ice import StunProtocol, server_reflexive_candidate
from aioice.turn import UDP_SOCKET_BUFFER_SIZE

from argus_common.errors import Unavailable

log = structlog.get_logger("argus.streaming.ice")

_PORTS: ContextVar[tuple[int, int] | None] = ContextVar("argus_ice_ports", default=None)
_cursor = 0  # where the next search starts: ports are handed out round-robin
_IN_USE = (errno.EADDRINUSE, errno.EACCES)


@contextlib.contextmanager
def ice_port_range(ports: tuple[int, int] | None) -> Iterator[None]:
    """Inside this context, ICE gathering binds host candidates within ``ports``
    (None: ephemeral ports, aioice's default)."""
    token = _PORTS.set(ports)
    try:
        yield
    finally:
        _PORTS.reset(token)


def bind_in_range(address: str, ports: tuple[int, int]) -> socket.socket:
    """A non-blocking UDP socket on ``address`` at the next free port of ``ports``.

    Raises ``Unavailable`` when every port is taken, ``OSError`` for any other failure
    (such as an address that is not on this host).
    """
    global _cursor
    low, high = ports
    size = high - low + 1
    family = socket.AF_INET6 if ipaddress.ip_address(address.split("%")[0]).version == 6 \
        else socket.AF_INET
    for i in range(size):
        port = low + (_cursor + i) % size
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((address, port))
        except OSError as exc:
            sock.close()
            if exc.errno in _IN_USE:
                continue
            raise
        _cursor = (port - low + 1) % size
        sock.setblocking(False)
        return sock
    raise Unavailable(
        f"no free UDP port for WebRTC in STREAMING_ICE_PORT_MIN..MAX ({low}-{high}): "
        "too many sessions, try again later")


class PortRangeConnection(Connection):
    """aioice's ICE connection, with host candidates inside the configured port range."""

    async def get_component_candidates(
        self, component: int, addresses: list[str], timeout: int = 5  # noqa: ASYNC109 - aioice's signature
    ) -> list[Candidate]:
        ports = _PORTS.get()
        if ports is None or not addresses:
            return await super().get_component_candidates(component, addresses, timeout)
        loop = asyncio.get_running_loop()
        protocols: list[StunProtocol] = []
        try:
            for address in addresses:
                try:
                    sock = bind_in_range(address, ports)
                except OSError as exc:  # as aioice does: skip an address it cannot bind
                    log.info("ice_bind_failed", address=address, error=str(exc))
                    continue
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, UDP_SOCKET_BUFFER_SIZE)
                _, protocol = await loop.create_datagram_endpoint(
                    lambda: StunProtocol(self), sock=sock)
                host, port = sock.getsockname()[:2]
                protocol.local_candidate = Candidate(
                    foundation=candidate_foundation("host", "udp", host),
                    component=component, transport="udp",
                    priority=candidate_priority(component, "host"),
                    host=host, port=port, type="host",
                )
                protocols.append(protocol)
        except BaseException:
            for protocol in protocols:
                protocol.transport.close()
            raise
        self._protocols += protocols
        candidates = [p.local_candidate for p in protocols]
        # Server-reflexive candidates of these sockets (IPv4, as aioice); aioice itself
        # still does TURN, which needs no host socket.
        stun = self.stun_server
        tasks = [
            asyncio.create_task(server_reflexive_candidate(p, stun)) for p in protocols
            if stun and ipaddress.ip_address(p.local_candidate.host).version == 4
        ]
        candidates += await super().get_component_candidates(component, [], timeout)
        if tasks:
            done, pending = await asyncio.wait(tasks, timeout=timeout)
            candidates += [t.result()[0] for t in done if t.exception() is None]
            for task in pending:
                task.cancel()
        return candidates


# aiortc's RTCIceGatherer builds its connection from this name: every peer connection made
# after this import uses the subclass (and only the answers of webrtc/peer.py set a range).
aiortc.rtcicetransport.Connection = PortRangeConnection  # type: ignore[attr-defined]
