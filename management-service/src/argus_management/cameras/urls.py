"""Camera URL checks: allowed schemes, no link-local or metadata hosts, optional allowed
networks.

Management connects to hosts users name (liveness probes, ONVIF), so these checks are its
SSRF guard: ``argus_common.addresses`` (every spelling of a forbidden address, names
resolved, the media services use it too). Callers that connect use :func:`pinned_host` to
connect to the address that was checked, so a name cannot resolve elsewhere in between.

Credentials never stay inside a stored URL: ``split_userinfo`` takes them out so they can be
stored encrypted, and every URL in a response is the stored one, without userinfo.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from argus_common.addresses import (
    Address,
    AddressRefused,
    Network,
    check_host,
    checked_address,
    forbidden_reason,
    literal_address,
    parse_networks,
    resolve,
    with_host,
)
from argus_common.rtsp.client import split_credentials

__all__ = [
    "ALLOWED_SCHEMES", "Address", "CameraUrlError", "Network", "check_host", "check_url",
    "forbidden_reason", "literal_address", "parse_networks", "pinned_host", "resolve",
    "split_userinfo", "strip_userinfo", "url_host", "with_host",
]

ALLOWED_SCHEMES = frozenset({"rtsp", "rtsps", "rtmp", "http", "https"})
MAX_URL = 2048


# The address checks are argus_common.addresses (the media services pin with them too);
# their error is the camera URL error.
CameraUrlError = AddressRefused
pinned_host = checked_address


def split_userinfo(url: str) -> tuple[str, str | None, str | None]:
    """``(url without userinfo, username, password)``, percent-decoded (the RTSP client's
    split; an empty user name counts as none)."""
    clean, user, password = split_credentials(url)
    return clean, user or None, password


def strip_userinfo(url: str | None) -> str | None:
    return None if url is None else split_userinfo(url)[0]


def url_host(url: str) -> str | None:
    """The host of ``url`` (lower case, unbracketed), None when it has none or is malformed."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


async def check_url(url: str, allowed_networks: list[Network] | None = None) -> str:
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
    await check_host(host, allowed_networks)
    return url
