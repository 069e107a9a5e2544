"""Media2 service (tr2, ver20): the same two profiles as Media1, with their configurations,
stream and snapshot URIs, as H.265 cameras describe themselves.

The simulator encodes H.264 only, so its Media2 encoder configurations say ``H264``; clients
that read H.265 profiles parse the same ``Encoding`` element. The ``no_media2`` quirk hides
the service (devices with Media1 only).
"""

from __future__ import annotations

from xml.etree.ElementTree import Element

from argus_camsim.model import CameraInfo
from argus_camsim.onvif import ptz_xml
from argus_camsim.onvif.context import PROFILE_TOKENS, SNAPSHOT_PATH, Handler, RequestContext
from argus_camsim.onvif.media import (
    VIDEO_SOURCE_CONFIG_TOKEN,
    VIDEO_SOURCE_TOKEN,
    profile_name,
    profile_token,
    resolution,
)
from argus_camsim.onvif.soap import child_text, invalid_arg, local_name, text

NS_TR2 = "http://www.onvif.org/ver20/media/wsdl"
MEDIA2_PATH = "/onvif/media2_service"
_DECL = f'xmlns:tr2="{NS_TR2}"'
# What the encoder configurations say: the stream is H.264 (a test of a client's H.265
# parsing may set "H265"; the RTSP side does not change).
ENCODING = "H264"
_BITRATE_KBPS = {"main": 4096, "sub": 1024}  # advertised only
# Configuration types of tr2:ConfigurationEnumeration this camera has.
_TYPES = {"All", "VideoSource", "VideoEncoder", "PTZ"}
_PROTOCOLS = {"RtspUnicast", "RTSP", "RtspOverHttp"}


def _video_source(camera: CameraInfo) -> str:
    return (
        f'<tr2:VideoSource token="{VIDEO_SOURCE_CONFIG_TOKEN}">'
        "<tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount>"
        f"<tt:SourceToken>{VIDEO_SOURCE_TOKEN}</tt:SourceToken>"
        f'<tt:Bounds x="0" y="0" width="{camera.width}" height="{camera.height}"/>'
        "</tr2:VideoSource>"
    )


def _video_encoder(camera: CameraInfo, profile: str) -> str:
    width, height = resolution(camera, profile)
    # tt:VideoEncoder2Configuration: Name, UseCount, Encoding, Resolution, RateControl,
    # Multicast, Quality; the GOP length is an attribute here.
    return (
        f'<tr2:VideoEncoder token="venc_{profile}" GovLength="{camera.fps}" Profile="Main">'
        f"<tt:Name>{profile_name(profile)}</tt:Name><tt:UseCount>1</tt:UseCount>"
        f"<tt:Encoding>{ENCODING}</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{width}</tt:Width><tt:Height>{height}</tt:Height>"
        "</tt:Resolution>"
        f'<tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>{camera.fps}'
        f"</tt:FrameRateLimit><tt:BitrateLimit>{_BITRATE_KBPS[profile]}</tt:BitrateLimit>"
        "</tt:RateControl><tt:Quality>5</tt:Quality></tr2:VideoEncoder>"
    )


def _profile(camera: CameraInfo, token: str, types: set[str]) -> str:
    every = "All" in types
    parts = []
    if every or "VideoSource" in types:
        parts.append(_video_source(camera))
    if every or "VideoEncoder" in types:
        parts.append(_video_encoder(camera, token))
    if camera.has_ptz and (every or "PTZ" in types):
        parts.append(ptz_xml.configuration_xml("tr2:PTZ"))
    configurations = f"<tr2:Configurations>{''.join(parts)}</tr2:Configurations>" if parts else ""
    return (
        f'<tr2:Profiles token="{token}" fixed="true">'
        f"<tr2:Name>{profile_name(token)}</tr2:Name>{configurations}</tr2:Profiles>"
    )


def get_profiles(ctx: RequestContext, op: Element) -> str:
    """The profiles (one with ``Token``), with the configurations ``Type`` asks for (none
    without a Type, as the specification says)."""
    types = {(el.text or "").strip() for el in op if local_name(el.tag) == "Type"}
    unknown = (
        types
        - _TYPES
        - {
            "AudioSource",
            "AudioEncoder",
            "Analytics",
            "Metadata",
            "AudioOutput",
            "AudioDecoder",
            "Receiver",
        }
    )
    if unknown:
        raise invalid_arg(f"Unknown configuration type {sorted(unknown)}", "ter:InvalidArgVal")
    wanted = child_text(op, "Token")
    tokens: tuple[str, ...] = PROFILE_TOKENS
    if wanted:
        if wanted not in PROFILE_TOKENS:
            raise invalid_arg(f"No profile {wanted!r}", "ter:NoProfile")
        tokens = (wanted,)
    profiles = "".join(_profile(ctx.camera, t, types) for t in tokens)
    return f"<tr2:GetProfilesResponse {_DECL}>{profiles}</tr2:GetProfilesResponse>"


def get_stream_uri(ctx: RequestContext, op: Element) -> str:
    """``{rtsp_base}/{camera.path}/{main|sub}``; RTSP unicast only."""
    token = profile_token(op)
    protocol = (child_text(op, "Protocol") or "").strip()
    if protocol not in _PROTOCOLS:
        raise invalid_arg(f"Protocol {protocol!r} is not supported", "ter:InvalidStreamSetup")
    uri = text(ctx.stream_uri(token))
    return f"<tr2:GetStreamUriResponse {_DECL}><tr2:Uri>{uri}</tr2:Uri></tr2:GetStreamUriResponse>"


def get_snapshot_uri(ctx: RequestContext, op: Element) -> str:
    """The JPEG snapshot served by this same HTTP server."""
    profile_token(op)
    uri = text(ctx.url(SNAPSHOT_PATH))
    return (
        f"<tr2:GetSnapshotUriResponse {_DECL}><tr2:Uri>{uri}</tr2:Uri></tr2:GetSnapshotUriResponse>"
    )


def service_capabilities_xml() -> str:
    """tr2:Capabilities (also embedded in GetServices)."""
    return (
        f'<tr2:Capabilities {_DECL} SnapshotUri="true" Rotation="false" VideoSourceMode="false"'
        ' OSD="false" Mask="false" SourceMask="false"><tr2:ProfileCapabilities '
        'MaximumNumberOfProfiles="2" ConfigurationsSupported="VideoSource VideoEncoder PTZ"/>'
        '<tr2:StreamingCapabilities RTSPStreaming="true" RTPMulticast="false" '
        'RTP_RTSP_TCP="true" NonAggregateControl="false"/></tr2:Capabilities>'
    )


def get_service_capabilities(ctx: RequestContext, op: Element) -> str:
    return (
        f"<tr2:GetServiceCapabilitiesResponse {_DECL}>{service_capabilities_xml()}"
        "</tr2:GetServiceCapabilitiesResponse>"
    )


OPERATIONS: dict[str, Handler] = {
    "GetProfiles": get_profiles,
    "GetStreamUri": get_stream_uri,
    "GetSnapshotUri": get_snapshot_uri,
    "GetServiceCapabilities": get_service_capabilities,
}
