"""Which probe checks which camera, and the targets they work on."""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from argus_management.cameras.urls import CameraUrlError, Network, check_host, url_host, with_host
from argus_management.liveness.metrics import PROBE_DURATION
from argus_management.liveness.onvif_probe import probe_onvif
from argus_management.liveness.results import ProbeResult
from argus_management.liveness.rtsp_probe import probe_rtsp


@dataclass(frozen=True)
class ProbeTarget:
    """What a probe needs to know about a camera (password decrypted, never logged)."""

    camera_id: int
    kind: str
    stream_url: str
    username: str | None = None
    password: str | None = None
    onvif_host: str | None = None
    onvif_port: int | None = None
    connect_timeout_s: float = 5.0
    read_timeout_s: float = 3.0
    recording_mode: str = "continuous"

    def __repr__(self) -> str:  # keep the password out of any accidental repr in a log
        return f"ProbeTarget(camera_id={self.camera_id}, kind={self.kind!r})"


async def pin(host: str, networks: list[Network] | None) -> str | ProbeResult:
    """The checked address to connect to for ``host``, or the result when there is none.

    Checked at every probe, not only when the camera was saved: a name may resolve to a
    forbidden address later (DNS rebinding), and the probe must connect to exactly the
    address that passed.
    """
    try:
        addrs = await check_host(host, networks)
    except CameraUrlError as exc:
        return ProbeResult("error", f"host refused: {exc}")
    if not addrs:
        return ProbeResult("unreachable", "camera host name does not resolve")
    return str(addrs[0])


async def probe_camera(
    target: ProbeTarget, client: httpx.AsyncClient, networks: list[Network] | None = None
) -> ProbeResult:
    """Actively check ``target``, connecting only to checked addresses (``networks``:
    ``CAMERA_ALLOWED_NETWORKS``).

    ONVIF cameras answer ``GetSystemDateAndTime`` first: if the device itself is down there
    is no point trying its stream, and the alert can say so. Then the RTSP stream is asked
    for a ``DESCRIBE`` with the camera's credentials, which is what the media services
    depend on. RTMP cameras are pushed to us, so there is nothing to probe: they are seen
    only through the media services' evidence.
    """
    if target.kind == "rtmp":
        return ProbeResult("unreachable", "not publishing")
    if target.kind == "onvif" and target.onvif_host:
        address = await pin(target.onvif_host, networks)
        if isinstance(address, ProbeResult):
            return address
        onvif = await probe_onvif(
            client, address, target.onvif_port,
            connect_timeout=target.connect_timeout_s, read_timeout=target.read_timeout_s,
        )
        PROBE_DURATION.labels("onvif").observe(onvif.duration_s)
        if not onvif.success:
            return onvif
    url = target.stream_url
    host = url_host(url)
    if host and url.lower().startswith("rtsp://"):
        address = await pin(host, networks)
        if isinstance(address, ProbeResult):
            return address
        url = with_host(url, address)
    result = await probe_rtsp(
        url, target.username, target.password,
        connect_timeout=target.connect_timeout_s, read_timeout=target.read_timeout_s,
    )
    if result.outcome != "unsupported":
        PROBE_DURATION.labels("rtsp").observe(result.duration_s)
    return result
