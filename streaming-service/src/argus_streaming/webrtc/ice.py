"""A UDP port range for ICE host candidates (``STREAMING_ICE_PORT_MIN..MAX``).

aioice binds every host candidate to an ephemeral port and has no option for a range, so a
container cannot publish its WebRTC ports. ``ice_port_range`` hands ``compat.host_sockets``
a binder that takes the next free port of the range (a port in use is skipped); compat's
ICE connection binds the host sockets with it and leaves STUN and TURN to aioice. Outside
``ice_port_range``, set around the answer's gathering (``webrtc/peer.py``), ICE is aioice's
unchanged, so other aiortc peers of the process (a test's client) keep ephemeral ports.

A session needs one port per bundled transport (one with aiortc's BUNDLE answer). When
every port of the range is taken, the offer is answered 503.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import ipaddress
import socket
from collections.abc import Iterator

from argus_common.errors import Unavailable
from argus_streaming.webrtc.compat import host_sockets

_cursor = 0  # where the next search starts: ports are handed out round-robin
_IN_USE = (errno.EADDRINUSE, errno.EACCES)


@contextlib.contextmanager
def ice_port_range(ports: tuple[int, int] | None) -> Iterator[None]:
    """Inside this context, ICE gathering binds host candidates within ``ports``
    (None: ephemeral ports, aioice's default). Needs ``compat.install()``."""
    binder = None if ports is None else functools.partial(bind_in_range, ports=ports)
    with host_sockets(binder):
        yield


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
