"""The client's address behind trusted reverse proxies (``ARGUS_TRUSTED_PROXIES``).

Shared by every service that answers browsers through the console's nginx (management,
streaming). ``X-Forwarded-For`` and ``X-Real-IP`` are believed only when the TCP peer is a
trusted proxy; anyone else could write any address there and forge the audit trail or
dodge a per-address limit. ``X-Forwarded-For`` is read from the right (nginx appends the
address it saw to what the client sent): trusted hops are skipped and the first untrusted
one is the client. :class:`ClientAddressMiddleware` puts that address into the ASGI
scope's ``client``, so ``request.client`` is the real client everywhere after it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from functools import lru_cache

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_MAX_HEADER = 2048  # a real chain is a few addresses; longer headers are not parsed
_MAX_HOPS = 32


@lru_cache(maxsize=16)
def parse_trusted(spec: str) -> tuple[Network, ...]:
    """Comma-separated addresses or CIDRs (empty: trust nobody); ``ValueError`` on an entry
    that is neither, so that a typo fails at start."""
    return tuple(ipaddress.ip_network(item.strip(), strict=False)
                 for item in spec.split(",") if item.strip())


def parse_address(text: str) -> Address | None:
    """An address from a header entry (``a.b.c.d``, ``a.b.c.d:port``, ``[v6]:port``,
    ``v6%zone``); IPv4-mapped IPv6 comes back as IPv4. None for anything else."""
    text = text.strip()
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            return None
        text = text[1:end]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        addr = ipaddress.ip_address(text.partition("%")[0])
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def is_trusted(addr: Address, networks: tuple[Network, ...]) -> bool:
    """Whether ``addr`` is in one of ``networks``."""
    return any(addr.version == net.version and addr in net for net in networks)


def client_address(
    peer: str | None, forwarded_for: str | None, real_ip: str | None,
    networks: tuple[Network, ...],
) -> str | None:
    """The client of a request whose TCP peer is ``peer``: the peer itself unless it is a
    trusted proxy; then the right-most untrusted ``X-Forwarded-For`` entry (all trusted:
    the left-most), else ``X-Real-IP``, else the peer."""
    if peer is None or not networks:
        return peer
    peer_addr = parse_address(peer)
    if peer_addr is None or not is_trusted(peer_addr, networks):
        return peer
    if forwarded_for and len(forwarded_for) <= _MAX_HEADER:
        hops = forwarded_for.split(",")[-_MAX_HOPS:]
        found: Address | None = None
        for hop in reversed(hops):
            addr = parse_address(hop)
            if addr is None:
                break  # unparseable: nothing to the left of it can be believed
            found = addr
            if not is_trusted(addr, networks):
                return str(addr)
        if found is not None:
            return str(found)
    if real_ip and len(real_ip) <= 64:
        addr = parse_address(real_ip)
        if addr is not None:
            return str(addr)
    return peer


class ClientAddressMiddleware:
    """Rewrite the scope's ``client`` to the real client (HTTP and WebSocket).

    ``trusted`` is the ``ARGUS_TRUSTED_PROXIES`` value or a callable returning it, read on
    each connection (tests and a reload may change it); parsing is cached per value.
    """

    def __init__(self, app: ASGIApp, trusted: str | Callable[[], str]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client:
            spec = self.trusted() if callable(self.trusted) else self.trusted
            networks = parse_trusted(spec or "")
            if networks:
                forwarded: list[str] = []
                real: str | None = None
                for name, value in scope.get("headers") or ():
                    if name == b"x-forwarded-for":
                        # Several header lines make one list (RFC 9110 5.3).
                        forwarded.append(value.decode("latin-1"))
                    elif name == b"x-real-ip":
                        real = value.decode("latin-1")
                host = client_address(client[0], ",".join(forwarded) or None, real, networks)
                if host != client[0]:
                    scope = {**scope, "client": (host, 0)}
        await self.app(scope, receive, send)
