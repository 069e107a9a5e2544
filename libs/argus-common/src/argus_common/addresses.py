"""Which addresses a service may connect to for a host a user named (camera URLs, ONVIF
hosts), and the address to connect to: the SSRF guard shared by management and the media
services (issue 16, finding 6).

A host is judged by the addresses a connection would reach: every spelling of an IPv4
address the C library accepts (``2852039166``, ``0xa9fea9fe``, ``0251.0376.0251.0376``,
``169.254.43518``) is normalised, IPv4 addresses inside IPv6 ones (``::ffff:169.254.169.254``,
NAT64, 6to4) are unwrapped, and names are resolved; any forbidden address refuses the host.

Pinning: a client that connects resolves the name once, through :func:`checked_address`,
and connects to exactly that address (the RTSP client, management's ONVIF connections), so
a name cannot pass the check and then resolve elsewhere for the connection (DNS rebinding).
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from urllib.parse import urlsplit, urlunsplit

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
# Other addresses a camera never has: cloud metadata services outside link-local, "this
# host" (0.0.0.0 reaches the local machine), multicast and broadcast.
_FORBIDDEN = (
    (ipaddress.ip_network("fd00:ec2::254/128"), "metadata"),  # AWS IMDS over IPv6
    (ipaddress.ip_network("100.100.100.200/32"), "metadata"),  # Alibaba Cloud metadata
    (ipaddress.ip_network("0.0.0.0/8"), "unspecified"),
    (ipaddress.ip_network("::/128"), "unspecified"),
    (ipaddress.ip_network("224.0.0.0/4"), "multicast"),
    (ipaddress.ip_network("ff00::/8"), "multicast"),
    (ipaddress.ip_network("255.255.255.255/32"), "broadcast"),
)
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPAT = ipaddress.ip_network("::/96")
_NUMERIC_V4 = re.compile(r"^[0-9a-fx.]+$", re.IGNORECASE)


class AddressRefused(ValueError):
    """A host that may not be connected to; the message is shown to the user."""


def parse_networks(spec: str) -> list[Network]:
    """``CAMERA_ALLOWED_NETWORKS``: comma-separated CIDRs (empty: no restriction)."""
    return [ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip()]


def literal_address(host: str) -> Address | None:
    """``host`` as an address when it is one in any spelling a connection would accept."""
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])  # a v6 zone id is not the address
    except ValueError:
        pass
    # inet_aton's forms: one number, a.b (8.24 bits), a.b.c (8.8.16), each part decimal,
    # octal (leading 0) or hex (0x). getaddrinfo reads names this way too.
    if text and _NUMERIC_V4.match(text):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def _unwrapped(addr: Address) -> list[Address]:
    """``addr`` and the IPv4 address it carries, if it carries one."""
    if not isinstance(addr, ipaddress.IPv6Address):
        return [addr]
    inner: ipaddress.IPv4Address | None = addr.ipv4_mapped or addr.sixtofour
    if inner is None and any(addr in net for net in _NAT64):
        inner = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    if inner is None and addr in _IPV4_COMPAT and int(addr) > 1:
        inner = ipaddress.IPv4Address(int(addr) & 0xFFFFFFFF)
    return [addr] if inner is None else [addr, inner]


def forbidden_reason(addr: Address) -> str | None:
    """Why a camera may not be at ``addr`` (None: it may)."""
    for candidate in _unwrapped(addr):
        if any(candidate in net for net in _LINK_LOCAL):
            return "link-local hosts are not allowed"
        for net, kind in _FORBIDDEN:
            if candidate.version == net.version and candidate in net:
                return f"{kind} addresses are not allowed"
    return None


async def _getaddrinfo(host: str) -> list[str]:
    """The addresses the resolver gives ``host`` (tests replace this function)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def _unique(found: list[str]) -> list[Address]:
    addrs: list[Address] = []
    for text in found:
        addr = literal_address(text)
        if addr is not None and addr not in addrs:
            addrs.append(addr)
    return addrs


# A resolver that does not answer (a site whose DNS server is unreachable) would hold each
# lookup for its own timeouts, 10 s and more with glibc's defaults: a name that has not
# resolved within this bound counts as not resolving now.
RESOLVE_TIMEOUT_S = 3.0


async def resolve(host: str) -> list[Address]:
    """Every address ``host`` stands for (itself when it is a literal); [] when it does
    not resolve (within :data:`RESOLVE_TIMEOUT_S`)."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    try:
        async with asyncio.timeout(RESOLVE_TIMEOUT_S):
            return _unique(await _getaddrinfo(host))
    except (OSError, UnicodeError, TimeoutError):
        return []


def _allowed(host: str, addrs: list[Address], allowed_networks: list[Network] | None) -> None:
    for addr in addrs:
        reason = forbidden_reason(addr)
        if reason is not None:
            raise AddressRefused(reason)
    if allowed_networks:
        if not addrs:
            raise AddressRefused(f"host {host} does not resolve")
        for addr in addrs:
            inner = _unwrapped(addr)[-1]
            if not any(a in net for a in (addr, inner) for net in allowed_networks):
                raise AddressRefused("host is outside CAMERA_ALLOWED_NETWORKS")


async def check_host(host: str, allowed_networks: list[Network] | None = None) -> list[Address]:
    """The addresses of ``host``, all allowed; raises ``AddressRefused`` otherwise.

    A name that does not resolve (yet) is accepted when no networks are configured: it is
    checked again, resolved and pinned, whenever management connects to it.
    """
    addrs = await resolve(host)
    _allowed(host, addrs, allowed_networks)
    return addrs


def pinned_url(url: str, allowed_networks: list[Network] | None = None) -> str:
    """``url`` with its host replaced by the host's checked address, resolved now (blocking:
    for threads that hand the URL to a library that resolves names itself, e.g. FFmpeg).
    Raises :class:`AddressRefused` when the host is forbidden or does not resolve."""
    parts = urlsplit(url)
    host = parts.hostname
    if not host:
        return url
    literal = literal_address(host)
    if literal is not None:
        addrs = [literal]
    else:
        try:
            addrs = _unique(
                [str(i[4][0]) for i in socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)]
            )
        except (OSError, UnicodeError):
            addrs = []
    _allowed(host, addrs, allowed_networks)
    if not addrs:
        raise AddressRefused(f"host {host} does not resolve")
    return with_host(url, str(addrs[0]))


def with_host(url: str, address: str) -> str:
    """``url`` with its host replaced by ``address`` (userinfo, port, path and query kept)."""
    parts = urlsplit(url)
    netloc = f"[{address}]" if ":" in address else address
    if parts.port is not None:
        netloc = f"{netloc}:{parts.port}"
    if "@" in parts.netloc:
        netloc = f"{parts.netloc.rpartition('@')[0]}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


async def checked_address(host: str, allowed_networks: list[Network] | None = None) -> str:
    """The one address to connect to for ``host``: resolved now, checked, as text (IPv6
    unbracketed). Raises :class:`AddressRefused` when the host is forbidden or does not
    resolve."""
    addrs = await check_host(host, allowed_networks)
    if not addrs:
        raise AddressRefused(f"host {host} does not resolve")
    return str(addrs[0])
