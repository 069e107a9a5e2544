"""What an ONVIF operation handler gets to see about the request and the camera."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit
from xml.etree.ElementTree import Element

from argus_camsim.model import CameraInfo

DEVICE_PATH = "/onvif/device_service"
MEDIA_PATH = "/onvif/media_service"
PTZ_PATH = "/onvif/ptz_service"
SNAPSHOT_PATH = "/onvif/snapshot.jpg"

PROFILE_TOKENS = ("main", "sub")

# Hosts that mean "every interface" when bound, and so cannot be handed to a client.
_WILDCARD_HOSTS = {"0.0.0.0", "::", "[::]", ""}


@dataclass
class RequestContext:
    """Per-request view: the camera, the URL the client used, and the device clock."""

    camera: CameraInfo
    base_url: str  # scheme://host:port exactly as the client reached this server
    rtsp_base: str
    device_time: datetime
    path: str = ""  # the request path (subscriptions are told apart by theirs)

    def url(self, path: str) -> str:
        """Absolute URL of one of this server's paths, reachable by the client."""
        return f"{self.base_url}{path}"

    def stream_uri(self, profile: str) -> str:
        """RTSP URI of one profile's stream.

        When the RTSP server is bound to a wildcard address, the host the client used to
        reach the ONVIF port is substituted, which is what a client can reach.
        """
        parts = urlsplit(self.rtsp_base.rstrip("/"))
        host = parts.hostname or ""
        if host in _WILDCARD_HOSTS:
            client_host = urlsplit(self.base_url).hostname or "127.0.0.1"
            if ":" in client_host:
                client_host = f"[{client_host}]"
            netloc = client_host if parts.port is None else f"{client_host}:{parts.port}"
            parts = parts._replace(netloc=netloc)
        base = urlunsplit(parts)
        return f"{base}/{self.camera.path}/{profile}"


# An operation handler takes the operation element (the first child of Body) and
# returns the serialised response element. Handlers are synchronous (none of them waits on
# I/O, and PtzState is thread-safe), except long polls such as PullMessages, which return an
# awaitable the server awaits.
Handler = Callable[[RequestContext, Element], str | Awaitable[str]]
