"""Where an RTSP client connects: the camera URL without its credentials, and the pinned
TCP connection to the camera.

Every connection is pinned (issue 16, finding 6): the camera's host is resolved once and
checked (``argus_common.addresses``: no link-local, metadata, multicast or unspecified
address; ``allowed_networks`` when given), and the TCP connection goes to that checked
address while the requests keep the URL as given. A name cannot pass the check and then
resolve elsewhere for the connection (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import unquote, urlsplit, urlunsplit

from argus_common.addresses import AddressRefused, Network, check_host
from argus_common.rtsp.errors import RtspRefused, RtspTimeout, RtspUnreachable, RtspUnsupported
from argus_common.rtsp.protocol import RtpHandler, RtspProtocol

__all__ = ["DEFAULT_PORT", "open_connection", "split_credentials", "strip_userinfo"]

DEFAULT_PORT = 554


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``(url without userinfo, username, password)``; userinfo is percent-decoded."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, unquote(user), unquote(password) if sep else None


def strip_userinfo(url: str) -> str:
    """``url`` without ``user:pass@`` (what a request line or a log may carry)."""
    return split_credentials(url)[0]


async def open_connection(
    url: str,
    on_rtp: RtpHandler,
    *,
    timeout_s: float,
    allowed_networks: list[Network] | None = None,
    rcvbuf: int | None = None,
) -> RtspProtocol:
    """Connect to the camera of ``url`` (no userinfo) at a checked address; the protocol
    hands interleaved frames to ``on_rtp``. ``rcvbuf`` bounds the socket's receive buffer
    (and so the TCP window). Raises the :mod:`~argus_common.rtsp.errors` of each failure."""
    parts = urlsplit(url)
    try:
        host, port = parts.hostname, parts.port or DEFAULT_PORT
    except ValueError:
        raise RtspUnsupported("malformed camera URL") from None
    if parts.scheme.lower() != "rtsp" or not host:
        raise RtspUnsupported("only rtsp:// URLs are supported")
    try:
        async with asyncio.timeout(timeout_s):
            addresses = await _checked_addresses(host, allowed_networks)
            for index, address in enumerate(addresses):
                try:
                    return await _open(address, port, on_rtp, rcvbuf)
                except OSError:
                    if index == len(addresses) - 1:
                        raise
    except TimeoutError:
        raise RtspTimeout(f"camera did not accept a connection within "
                          f"{timeout_s:g} s") from None
    except ConnectionRefusedError:
        raise RtspRefused("camera refused the connection") from None
    except socket.gaierror:
        raise RtspUnreachable("camera host name does not resolve") from None
    except OSError as exc:
        raise RtspUnreachable(f"cannot connect to camera: "
                              f"{exc.strerror or type(exc).__name__}") from None
    raise RtspUnreachable("camera host name does not resolve")  # no address: not reached


async def _checked_addresses(host: str, allowed_networks: list[Network] | None) -> list[str]:
    """Where this connection may go: ``host`` resolved now, every address checked; the
    connection is made to one of exactly these (tried in order)."""
    try:
        addrs = await check_host(host, allowed_networks)
    except AddressRefused as exc:
        raise RtspUnreachable(f"camera host refused: {exc}") from None
    if not addrs:
        raise RtspUnreachable("camera host name does not resolve")
    return [str(addr) for addr in addrs]


async def _open(address: str, port: int, on_rtp: RtpHandler, rcvbuf: int | None
                ) -> RtspProtocol:
    loop = asyncio.get_running_loop()
    if rcvbuf is None:
        _, proto = await loop.create_connection(lambda: RtspProtocol(on_rtp), address, port)
        return proto
    sock = await _small_buffer_socket(address, port, rcvbuf)
    try:
        _, proto = await loop.create_connection(lambda: RtspProtocol(on_rtp), sock=sock)
    except BaseException:
        sock.close()
        raise
    return proto


async def _small_buffer_socket(host: str, port: int, rcvbuf: int) -> socket.socket:
    # The receive buffer must be set before connecting to bound the TCP window.
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await asyncio.get_running_loop().sock_connect(sock, addr)
    except BaseException:
        sock.close()
        raise
    return sock
