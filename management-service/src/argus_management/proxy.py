"""The real client address behind trusted reverse proxies (``ARGUS_TRUSTED_PROXIES``).

The console's nginx connects to management for every browser, so the TCP peer is nginx and
says nothing about who is asking. nginx passes the browser's address in ``X-Forwarded-For``
(appended to whatever the client sent) and ``X-Real-IP``. Those headers are believed only
when the TCP peer is a configured trusted proxy; otherwise anyone could name any address
and walk around the per-address login limit or forge the audit trail.

``X-Forwarded-For`` is read from the right: entries added by trusted proxies are skipped,
and the first untrusted one is the client (everything left of it was written by the
client itself and may be forged). :class:`ClientAddressMiddleware` rewrites the ASGI
scope's ``client``, so ``request.client``, the audit log, rate limits and WebSockets all
see the real address without knowing about proxies.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Headers longer than this are not parsed (a forwarded chain is a handful of addresses).
_MAX_HEADER = 2048
_MAX_HOPS = 32


@lru_cache(maxsize=8)
def parse_trusted(spec: str) -> tuple[Network, ...]:
    """``ARGUS_TRUSTED_PROXIES``: comma-separated addresses or CIDRs (empty: trust none).

    Raises ``ValueError`` on an entry that is neither (settings validation calls this, so a
    typo fails at start instead of silently trusting nobody).
    """
    return tuple(
        ipaddress.ip_network(part.strip(), strict=False) for part in spec.split(",")
        if part.strip()
    )


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[v6]:port" (RFC 7239 style)
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "v4:port"
        text = text.split(":", 1)[0]
    try:
        addr = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    # An IPv4 client reached over a dual-stack socket appears as ::ffff:a.b.c.d.
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        return addr.ipv4_mapped
    return addr


def _trusted(addr: Address, networks: tuple[Network, ...]) -> bool:
    return any(addr.version == net.version and addr in net for net in networks)


def client_address(
    peer: str | None, forwarded_for: str | None, real_ip: str | None,
    networks: tuple[Network, ...],
) -> str | None:
    """The client's address: ``peer`` unless it is a trusted proxy, then what the proxy
    chain says (``X-Forwarded-For`` read from the right, else ``X-Real-IP``)."""
    if peer is None or not networks:
        return peer
    peer_addr = _address(peer)
    if peer_addr is None or not _trusted(peer_addr, networks):
        return peer
    if forwarded_for and len(forwarded_for) <= _MAX_HEADER:
        hops = forwarded_for.split(",")[-_MAX_HOPS:]
        for hop in reversed(hops):
            addr = _address(hop)
            if addr is None:
                break  # garbage in the chain: nothing left of it can be believed
            if not _trusted(addr, networks):
                return str(addr)
        else:
            # Every hop is a trusted proxy: the leftmost one is the closest we know.
            first = _address(hops[0]) if hops else None
            if first is not None:
                return str(first)
    if real_ip and len(real_ip) <= 64:
        addr = _address(real_ip)
        if addr is not None:
            return str(addr)
    return peer


class ClientAddressMiddleware:
    """Replace the scope's ``client`` with the real client address (HTTP and WebSocket).

    ``trusted`` is read on every connection (a callable, so tests and a settings reload
    can change it on a running app); parsing is cached per value.
    """

    def __init__(self, app: ASGIApp, trusted: object) -> None:
        self.app = app
        self._trusted = trusted

    def _networks(self) -> tuple[Network, ...]:
        spec = self._trusted() if callable(self._trusted) else self._trusted
        return parse_trusted(str(spec or ""))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            networks = self._networks()
            client = scope.get("client")
            if networks and client:
                forwarded = real = None
                for name, value in scope.get("headers") or ():
                    if name == b"x-forwarded-for":
                        # Several header lines form one list (RFC 7230 §3.2.2).
                        text = value.decode("latin-1")
                        forwarded = text if forwarded is None else f"{forwarded},{text}"
                    elif name == b"x-real-ip":
                        real = value.decode("latin-1")
                host = client_address(client[0], forwarded, real, networks)
                if host != client[0]:
                    scope = dict(scope)
                    scope["client"] = (host, 0)
        await self.app(scope, receive, send)
