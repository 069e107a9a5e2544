"""Media service (trt, ver10): two profiles (``main`` and ``sub``), stream and snapshot URIs."""

from __future__ import annotations

from xml.etree.ElementTree import Element

from argus_camsim.model import CameraInfo
from argus_camsim.onvif import ptz_xml
from argus_camsim.onvif.context import (
    PROFILE_TOKENS,
    SNAPSHOT_PATH,
    Handler,
    RequestContext,
)
from argus_camsim.onvif.soap import attr, child, child_text, invalid_arg, required_text, text

# ONVIF "tokens" are entity ids, not secrets.
VIDEO_SOURCE_TOKEN = "vs0"  # noqa: S105
VIDEO_SOURCE_CONFIG_TOKEN = "vsc0"  # noqa: S105
_PROFILE_NAMES = {"main": "MainStream", "sub": "SubStream"}
# Advertised only; the RTSP side decides the real bitrate.
_BITRATE_KBPS = {"main": 4096, "sub": 1024}


def profile_name(profile: str) -> str:
    return _PROFILE_NAMES[profile]


def resolution(camera: CameraInfo, profile: str) -> tuple[int, int]:
    if profile == "main":
        return camera.width, camera.height
    return camera.sub_width, camera.sub_height


def profile_token(op: Element) -> str:
    """The ProfileToken parameter, checked against the two profiles."""
    token = required_text(op, "ProfileToken")
    if token not in PROFILE_TOKENS:
        raise invalid_arg(f"No profile {token!r}", "ter:NoProfile")
    return token


def _video_source_configuration(camera: CameraInfo) -> str:
    return (
        f'<tt:VideoSourceConfiguration token="{VIDEO_SOURCE_CONFIG_TOKEN}">'
        "<tt:Name>VideoSourceConfig</tt:Name><tt:UseCount>2</tt:UseCount>"
        f"<tt:SourceToken>{VIDEO_SOURCE_TOKEN}</tt:SourceToken>"
        f'<tt:Bounds x="0" y="0" width="{camera.width}" height="{camera.height}"/>'
        "</tt:VideoSourceConfiguration>"
    )


def _video_encoder_configuration(camera: CameraInfo, profile: str, tag: str) -> str:
    width, height = resolution(camera, profile)
    # Element order follows tt:VideoEncoderConfiguration; zeep parses sequences in order.
    return (
        f'<{tag} token="venc_{profile}">'
        f"<tt:Name>{_PROFILE_NAMES[profile]}</tt:Name><tt:UseCount>1</tt:UseCount>"
        "<tt:Encoding>H264</tt:Encoding>"
        f"<tt:Resolution><tt:Width>{width}</tt:Width><tt:Height>{height}</tt:Height>"
        "</tt:Resolution>"
        "<tt:Quality>5</tt:Quality>"
        f"<tt:RateControl><tt:FrameRateLimit>{camera.fps}</tt:FrameRateLimit>"
        "<tt:EncodingInterval>1</tt:EncodingInterval>"
        f"<tt:BitrateLimit>{_BITRATE_KBPS[profile]}</tt:BitrateLimit></tt:RateControl>"
        f"<tt:H264><tt:GovLength>{camera.fps}</tt:GovLength>"
        "<tt:H264Profile>Main</tt:H264Profile></tt:H264>"
        "<tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type>"
        "<tt:IPv4Address>0.0.0.0</tt:IPv4Address></tt:Address>"
        "<tt:Port>0</tt:Port><tt:TTL>1</tt:TTL><tt:AutoStart>false</tt:AutoStart>"
        "</tt:Multicast>"
        "<tt:SessionTimeout>PT60S</tt:SessionTimeout>"
        f"</{tag}>"
    )


def _profile(camera: CameraInfo, token: str, tag: str) -> str:
    ptz_config = ptz_xml.configuration_xml("tt:PTZConfiguration") if camera.has_ptz else ""
    return (
        f'<{tag} token="{token}" fixed="true">'
        f"<tt:Name>{_PROFILE_NAMES[token]}</tt:Name>"
        f"{_video_source_configuration(camera)}"
        f"{_video_encoder_configuration(camera, token, 'tt:VideoEncoderConfiguration')}"
        f"{ptz_config}"
        f"</{tag}>"
    )


def get_profiles(ctx: RequestContext, op: Element) -> str:
    """Both profiles, with a PTZConfiguration when the camera has PTZ."""
    profiles = "".join(_profile(ctx.camera, t, "trt:Profiles") for t in PROFILE_TOKENS)
    return f"<trt:GetProfilesResponse>{profiles}</trt:GetProfilesResponse>"


def get_profile(ctx: RequestContext, op: Element) -> str:
    """One profile by token."""
    token = profile_token(op)
    return (
        f"<trt:GetProfileResponse>{_profile(ctx.camera, token, 'trt:Profile')}"
        "</trt:GetProfileResponse>"
    )


def _media_uri(uri: str) -> str:
    return (
        f"<trt:MediaUri><tt:Uri>{text(uri)}</tt:Uri>"
        "<tt:InvalidAfterConnect>false</tt:InvalidAfterConnect>"
        "<tt:InvalidAfterReboot>false</tt:InvalidAfterReboot>"
        "<tt:Timeout>PT0S</tt:Timeout></trt:MediaUri>"
    )


def get_stream_uri(ctx: RequestContext, op: Element) -> str:
    """``{rtsp_base}/{camera.path}/{main|sub}``; only RTSP unicast is offered."""
    token = profile_token(op)
    stream = child_text(child(op, "StreamSetup"), "Stream")
    if stream == "RTP-Multicast":
        raise invalid_arg("Multicast streaming is not supported", "ter:InvalidStreamSetup")
    return (
        f"<trt:GetStreamUriResponse>{_media_uri(ctx.stream_uri(token))}</trt:GetStreamUriResponse>"
    )


def get_snapshot_uri(ctx: RequestContext, op: Element) -> str:
    """The JPEG snapshot served by this same HTTP server."""
    profile_token(op)
    return (
        f"<trt:GetSnapshotUriResponse>{_media_uri(ctx.url(SNAPSHOT_PATH))}"
        "</trt:GetSnapshotUriResponse>"
    )


def get_video_sources(ctx: RequestContext, op: Element) -> str:
    """The single video source of the camera."""
    cam = ctx.camera
    return (
        f"<trt:GetVideoSourcesResponse><trt:VideoSources token={attr(VIDEO_SOURCE_TOKEN)}>"
        f"<tt:Framerate>{cam.fps}</tt:Framerate>"
        f"<tt:Resolution><tt:Width>{cam.width}</tt:Width><tt:Height>{cam.height}</tt:Height>"
        "</tt:Resolution></trt:VideoSources></trt:GetVideoSourcesResponse>"
    )


def get_video_encoder_configurations(ctx: RequestContext, op: Element) -> str:
    """The encoder configurations of both profiles."""
    configs = "".join(
        _video_encoder_configuration(ctx.camera, t, "trt:Configurations") for t in PROFILE_TOKENS
    )
    return (
        "<trt:GetVideoEncoderConfigurationsResponse>"
        f"{configs}</trt:GetVideoEncoderConfigurationsResponse>"
    )


def service_capabilities_xml() -> str:
    """trt:Capabilities (also embedded in GetServices)."""
    return (
        '<trt:Capabilities SnapshotUri="true" Rotation="false" VideoSourceMode="false" '
        'OSD="false"><trt:ProfileCapabilities MaximumNumberOfProfiles="2"/>'
        '<trt:StreamingCapabilities RTPMulticast="false" RTP_TCP="true" RTP_RTSP_TCP="true" '
        'NonAggregateControl="false" NoRTSPStreaming="false"/></trt:Capabilities>'
    )


def get_service_capabilities(ctx: RequestContext, op: Element) -> str:
    """Media service capabilities (clients check SnapshotUri here)."""
    return (
        f"<trt:GetServiceCapabilitiesResponse>{service_capabilities_xml()}"
        "</trt:GetServiceCapabilitiesResponse>"
    )


OPERATIONS: dict[str, Handler] = {
    "GetProfiles": get_profiles,
    "GetProfile": get_profile,
    "GetStreamUri": get_stream_uri,
    "GetSnapshotUri": get_snapshot_uri,
    "GetVideoSources": get_video_sources,
    "GetVideoEncoderConfigurations": get_video_encoder_configurations,
    "GetServiceCapabilities": get_service_capabilities,
}
