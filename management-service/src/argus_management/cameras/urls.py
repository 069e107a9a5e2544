"""Camera URL checks: allowed schemes, no link-local hosts, optional allowed networks.

Credentials never stay inside a stored URL: ``split_userinfo`` takes them out so they can be
stored encrypted, and every URL in a response is the stored one, without userinfo.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import unquote, urlsplit, urlunsplit

ALLOWED_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https"})
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
MAX_URL = 2048


class CameraUrlError(ValueError):
    """A camera URL that may not be used; the message is shown to the user."""


def parse_networks(spec: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """``CAMERA_ALLOWED_NETWORKS``: comma-separated CIDRs (empty: no restriction)."""
    return [ipaddress.ip_network(p.strip(), strict=False) for p in spec.split(",") if p.strip()]


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``(url without userinfo, username, password)``."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None, None
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user, sep, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, unquote(user) or None, unquote(password) if sep else None


def strip_userinfo(url: str | None) -> str | None:
    return None if url is None else split_userinfo(url)[0]


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos]


def check_url(
    url: str,
    allowed_networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None,
) -> str:
    """Validate a camera URL and return it unchanged; raises ``CameraUrlError``."""
    if len(url) > MAX_URL:
        raise CameraUrlError(f"URL longer than {MAX_URL} characters")
    if any(c.isspace() or ord(c) < 32 for c in url):
        raise CameraUrlError("URL contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises on a bad port
    except ValueError:
        raise CameraUrlError("malformed URL") from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise CameraUrlError(f"scheme must be one of {', '.join(sorted(ALLOWED_SCHEMES))}")
    if not host:
        raise CameraUrlError("URL has no host")
    literal = True
    try:
        addrs: list[ipaddress.IPv4Address | ipaddress.IPv6Address] = [ipaddress.ip_address(host)]
    except ValueError:
        literal = False
        addrs = []
    if literal and any(a in net for a in addrs for net in _LINK_LOCAL):
        raise CameraUrlError("link-local hosts are not allowed")
    if allowed_networks:
        addrs = addrs or _addresses(host)
        if not addrs:
            raise CameraUrlError(f"host {host} does not resolve")
        for addr in addrs:
            if any(addr in net for net in _LINK_LOCAL):
                raise CameraUrlError("link-local hosts are not allowed")
            if not any(addr in net for net in allowed_networks):
                raise CameraUrlError("host is outside CAMERA_ALLOWED_NETWORKS")
    return url
