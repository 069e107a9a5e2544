"""XML of the PTZ node, configuration and positions (shared by the PTZ and media services)."""

from __future__ import annotations

from argus_camsim.onvif.soap import (
    SPACE_PT_POSITION,
    SPACE_PT_SPEED,
    SPACE_PT_TRANSLATION,
    SPACE_PT_VELOCITY,
    SPACE_ZOOM_POSITION,
    SPACE_ZOOM_SPEED,
    SPACE_ZOOM_TRANSLATION,
    SPACE_ZOOM_VELOCITY,
    fmt_float,
    format_duration,
)

# ONVIF "tokens" are entity ids, not secrets.
NODE_TOKEN = "node0"  # noqa: S105
CONFIG_TOKEN = "ptzcfg0"  # noqa: S105
MAX_PRESETS = 32
DEFAULT_TIMEOUT_S = 10.0


def _space_2d(tag: str, uri: str, low: float, high: float) -> str:
    rng = f"<tt:Min>{fmt_float(low)}</tt:Min><tt:Max>{fmt_float(high)}</tt:Max>"
    return (
        f"<{tag}><tt:URI>{uri}</tt:URI><tt:XRange>{rng}</tt:XRange>"
        f"<tt:YRange>{rng}</tt:YRange></{tag}>"
    )


def _space_1d(tag: str, uri: str, low: float, high: float) -> str:
    return (
        f"<{tag}><tt:URI>{uri}</tt:URI><tt:XRange><tt:Min>{fmt_float(low)}</tt:Min>"
        f"<tt:Max>{fmt_float(high)}</tt:Max></tt:XRange></{tag}>"
    )


def spaces_xml() -> str:
    """tt:PTZSpaces content: the generic spaces only."""
    # Order follows tt:PTZSpaces.
    return (
        _space_2d("tt:AbsolutePanTiltPositionSpace", SPACE_PT_POSITION, -1, 1)
        + _space_1d("tt:AbsoluteZoomPositionSpace", SPACE_ZOOM_POSITION, 0, 1)
        + _space_2d("tt:RelativePanTiltTranslationSpace", SPACE_PT_TRANSLATION, -1, 1)
        + _space_1d("tt:RelativeZoomTranslationSpace", SPACE_ZOOM_TRANSLATION, -1, 1)
        + _space_2d("tt:ContinuousPanTiltVelocitySpace", SPACE_PT_VELOCITY, -1, 1)
        + _space_1d("tt:ContinuousZoomVelocitySpace", SPACE_ZOOM_VELOCITY, -1, 1)
        + _space_1d("tt:PanTiltSpeedSpace", SPACE_PT_SPEED, 0, 1)
        + _space_1d("tt:ZoomSpeedSpace", SPACE_ZOOM_SPEED, 0, 1)
    )


def configuration_xml(tag: str) -> str:
    """The single PTZ configuration (also embedded in the media profiles)."""
    return (
        f'<{tag} token="{CONFIG_TOKEN}"><tt:Name>PTZConfig</tt:Name>'
        f"<tt:UseCount>2</tt:UseCount><tt:NodeToken>{NODE_TOKEN}</tt:NodeToken>"
        f"<tt:DefaultAbsolutePantTiltPositionSpace>{SPACE_PT_POSITION}"
        "</tt:DefaultAbsolutePantTiltPositionSpace>"
        f"<tt:DefaultAbsoluteZoomPositionSpace>{SPACE_ZOOM_POSITION}"
        "</tt:DefaultAbsoluteZoomPositionSpace>"
        f"<tt:DefaultRelativePanTiltTranslationSpace>{SPACE_PT_TRANSLATION}"
        "</tt:DefaultRelativePanTiltTranslationSpace>"
        f"<tt:DefaultRelativeZoomTranslationSpace>{SPACE_ZOOM_TRANSLATION}"
        "</tt:DefaultRelativeZoomTranslationSpace>"
        f"<tt:DefaultContinuousPanTiltVelocitySpace>{SPACE_PT_VELOCITY}"
        "</tt:DefaultContinuousPanTiltVelocitySpace>"
        f"<tt:DefaultContinuousZoomVelocitySpace>{SPACE_ZOOM_VELOCITY}"
        "</tt:DefaultContinuousZoomVelocitySpace>"
        f'<tt:DefaultPTZSpeed><tt:PanTilt x="1" y="1" space="{SPACE_PT_SPEED}"/>'
        f'<tt:Zoom x="1" space="{SPACE_ZOOM_SPEED}"/></tt:DefaultPTZSpeed>'
        f"<tt:DefaultPTZTimeout>{format_duration(DEFAULT_TIMEOUT_S)}</tt:DefaultPTZTimeout>"
        f"<tt:PanTiltLimits>{_space_2d('tt:Range', SPACE_PT_POSITION, -1, 1)}"
        "</tt:PanTiltLimits>"
        f"<tt:ZoomLimits>{_space_1d('tt:Range', SPACE_ZOOM_POSITION, 0, 1)}</tt:ZoomLimits>"
        f"</{tag}>"
    )


def service_capabilities_xml() -> str:
    """tptz:Capabilities (also embedded in GetServices)."""
    return '<tptz:Capabilities EFlip="false" Reverse="false" GetCompatibleConfigurations="false"/>'


def position_xml(tag: str, pan: float, tilt: float, zoom: float) -> str:
    """A tt:PTZVector in the generic position spaces."""
    return (
        f'<{tag}><tt:PanTilt x="{fmt_float(pan)}" y="{fmt_float(tilt)}" '
        f'space="{SPACE_PT_POSITION}"/>'
        f'<tt:Zoom x="{fmt_float(zoom)}" space="{SPACE_ZOOM_POSITION}"/></{tag}>'
    )


def node_xml(tag: str) -> str:
    """The single PTZ node with every space it supports."""
    return (
        f'<{tag} token="{NODE_TOKEN}" FixedHomePosition="false">'
        f"<tt:Name>PTZNode</tt:Name><tt:SupportedPTZSpaces>{spaces_xml()}"
        "</tt:SupportedPTZSpaces>"
        f"<tt:MaximumNumberOfPresets>{MAX_PRESETS}</tt:MaximumNumberOfPresets>"
        f"<tt:HomeSupported>true</tt:HomeSupported></{tag}>"
    )
