"""Media2 (ONVIF ver20 media): profiles, stream and snapshot URIs of devices that offer it.

onvif-zeep-async bundles no ver20 media WSDL, so ``wsdl/media2.wsdl`` (written for ARGUS
from the specification, only GetProfiles, GetStreamUri and GetSnapshotUri) is loaded into
the library's own ``ONVIFService``: the same zeep transport, connection pinning and
WS-Security digest signed in camera time as every other service. The service is kept in
the camera's service table, so reconnects and ``close()`` drop it with the others.

Media2 is how H.265 cameras describe their H.265 profiles (Media1's encoder configuration
knows only JPEG, MPEG4 and H264): ``OnvifDevice`` prefers it when the device lists it and
falls back to Media1 when a Media2 call fails for any reason but credentials or time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from onvif import ONVIFCamera
from onvif.client import ONVIFService

from argus_management.onvif.parse import finite
from argus_management.onvif.types import MediaProfile

NS_MEDIA2 = "http://www.onvif.org/ver20/media/wsdl"
WSDL = str((Path(__file__).parent / "wsdl" / "media2.wsdl").resolve())
_BINDING = f"{{{NS_MEDIA2}}}Media2Binding"
_KEY = ("media2", None)
# RTSP, RTP unicast (the URI is the same whatever transport SETUP then picks).
STREAM_PROTOCOL = "RtspUnicast"
_MAX_TEXT = 256


async def service(camera: ONVIFCamera, xaddr: str) -> ONVIFService:
    """The camera's Media2 service at ``xaddr`` (built once; rebuilt if the address moved)."""
    existing: ONVIFService | None = camera.services.get(_KEY)
    if existing is not None:
        if existing.xaddr == xaddr:
            return existing
        await existing.close()
        camera.services.pop(_KEY, None)
    built = ONVIFService(
        xaddr,
        camera.user,
        camera.passwd,
        WSDL,
        camera.encrypt,
        no_cache=True,
        dt_diff=camera.dt_diff,
        binding_name=_BINDING,
        binding_key=_KEY,
    )
    try:
        await built.setup()
    except BaseException:
        await built.close()
        raise
    camera.services[_KEY] = built
    return built


def profile(raw: Any) -> MediaProfile:
    """A tr2:MediaProfile (with its configurations) as our ``MediaProfile``."""
    configs = getattr(raw, "Configurations", None)
    encoder = getattr(configs, "VideoEncoder", None)
    resolution = getattr(encoder, "Resolution", None)
    rate = getattr(encoder, "RateControl", None)
    ptz = getattr(configs, "PTZ", None)
    width = finite(getattr(resolution, "Width", None))
    height = finite(getattr(resolution, "Height", None))
    encoding = getattr(encoder, "Encoding", None)
    name = getattr(raw, "Name", None)
    return MediaProfile(
        token=str(getattr(raw, "token", ""))[:_MAX_TEXT],
        name="" if name is None else str(name)[:_MAX_TEXT],
        # Media2 spells H.265 "H265" (some firmware "HEVC"): reported as the device says.
        encoding=None if encoding is None else str(encoding).strip()[:32].upper(),
        width=None if width is None else int(width),
        height=None if height is None else int(height),
        fps=finite(getattr(rate, "FrameRateLimit", None)),
        ptz_config_token=None if ptz is None else str(getattr(ptz, "token", "") or "ptz"),
    )


__all__ = ["NS_MEDIA2", "STREAM_PROTOCOL", "WSDL", "profile", "service"]
