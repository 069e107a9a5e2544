"""PTZ service (tptz, ver20): moves ``camera.ptz`` and keeps its presets and home.

Only ONVIF's generic spaces are offered: pan/tilt in [-1, 1], zoom in [0, 1], velocities
in [-1, 1]. Absolute, relative and preset moves are applied at once (the virtual head
has no travel time); continuous moves run until Stop or their Timeout.
"""

from __future__ import annotations

import logging
import time
from xml.etree.ElementTree import Element

from argus_camsim.model import CameraInfo, Preset
from argus_camsim.onvif import ptz_xml
from argus_camsim.onvif.context import PROFILE_TOKENS, Handler, RequestContext
from argus_camsim.onvif.soap import (
    SPACE_PT_POSITION,
    SPACE_PT_TRANSLATION,
    SPACE_PT_VELOCITY,
    SPACE_ZOOM_POSITION,
    SPACE_ZOOM_TRANSLATION,
    SPACE_ZOOM_VELOCITY,
    SoapFault,
    attr,
    child,
    child_text,
    float_attr,
    invalid_arg,
    parse_bool,
    parse_duration,
    required_text,
    text,
    xml_datetime,
)

log = logging.getLogger(__name__)

_MAX_PRESET_NAME = 64


def _check_profile(op: Element) -> None:
    token = required_text(op, "ProfileToken")
    if token not in PROFILE_TOKENS:
        raise invalid_arg(f"No profile {token!r}", "ter:NoProfile")


def _check_space(element: Element | None, expected: str) -> None:
    space = element.get("space") if element is not None else None
    if space is not None and space != expected:
        raise invalid_arg(f"Space {space!r} is not supported", "ter:SpaceNotSupported")


def _vector(
    op: Element, name: str, pt_space: str, zoom_space: str
) -> tuple[float | None, float | None, float | None]:
    """(x, y, zoom) of a tt:PTZVector/PTZSpeed parameter; None for an omitted axis."""
    vector = child(op, name)
    if vector is None:
        raise invalid_arg(f"Missing parameter {name}")
    pan_tilt = child(vector, "PanTilt")
    zoom = child(vector, "Zoom")
    _check_space(pan_tilt, pt_space)
    _check_space(zoom, zoom_space)
    return float_attr(pan_tilt, "x"), float_attr(pan_tilt, "y"), float_attr(zoom, "x")


def get_nodes(ctx: RequestContext, op: Element) -> str:
    """The single PTZ node with its spaces."""
    return f"<tptz:GetNodesResponse>{ptz_xml.node_xml('tptz:PTZNode')}</tptz:GetNodesResponse>"


def get_node(ctx: RequestContext, op: Element) -> str:
    """The PTZ node by token."""
    if required_text(op, "NodeToken") != ptz_xml.NODE_TOKEN:
        raise invalid_arg("No such PTZ node", "ter:NoEntity")
    return f"<tptz:GetNodeResponse>{ptz_xml.node_xml('tptz:PTZNode')}</tptz:GetNodeResponse>"


def get_configurations(ctx: RequestContext, op: Element) -> str:
    """The single PTZ configuration."""
    return (
        f"<tptz:GetConfigurationsResponse>{ptz_xml.configuration_xml('tptz:PTZConfiguration')}"
        "</tptz:GetConfigurationsResponse>"
    )


def get_configuration(ctx: RequestContext, op: Element) -> str:
    """The PTZ configuration by token."""
    if required_text(op, "PTZConfigurationToken") != ptz_xml.CONFIG_TOKEN:
        raise invalid_arg("No such PTZ configuration", "ter:NoConfig")
    return (
        f"<tptz:GetConfigurationResponse>{ptz_xml.configuration_xml('tptz:PTZConfiguration')}"
        "</tptz:GetConfigurationResponse>"
    )


def get_configuration_options(ctx: RequestContext, op: Element) -> str:
    """Spaces and timeout range the configuration accepts."""
    if required_text(op, "ConfigurationToken") != ptz_xml.CONFIG_TOKEN:
        raise invalid_arg("No such PTZ configuration", "ter:NoConfig")
    return (
        "<tptz:GetConfigurationOptionsResponse><tptz:PTZConfigurationOptions>"
        f"<tt:Spaces>{ptz_xml.spaces_xml()}</tt:Spaces>"
        "<tt:PTZTimeout><tt:Min>PT0.1S</tt:Min><tt:Max>PT600S</tt:Max></tt:PTZTimeout>"
        "</tptz:PTZConfigurationOptions></tptz:GetConfigurationOptionsResponse>"
    )


def get_service_capabilities(ctx: RequestContext, op: Element) -> str:
    """PTZ service capabilities."""
    return (
        f"<tptz:GetServiceCapabilitiesResponse>{ptz_xml.service_capabilities_xml()}"
        "</tptz:GetServiceCapabilitiesResponse>"
    )


def get_status(ctx: RequestContext, op: Element) -> str:
    """Current position and whether a continuous move is running."""
    _check_profile(op)
    state = ctx.camera.ptz
    moving = state.is_moving()
    pan, tilt, zoom = state.position()
    vx, vy, vz = state.velocity if moving else (0.0, 0.0, 0.0)
    pt_status = "MOVING" if (vx or vy) else "IDLE"
    zoom_status = "MOVING" if vz else "IDLE"
    return (
        "<tptz:GetStatusResponse><tptz:PTZStatus>"
        f"{ptz_xml.position_xml('tt:Position', pan, tilt, zoom)}"
        f"<tt:MoveStatus><tt:PanTilt>{pt_status}</tt:PanTilt>"
        f"<tt:Zoom>{zoom_status}</tt:Zoom></tt:MoveStatus>"
        f"<tt:UtcTime>{xml_datetime(ctx.device_time)}</tt:UtcTime>"
        "</tptz:PTZStatus></tptz:GetStatusResponse>"
    )


def continuous_move(ctx: RequestContext, op: Element) -> str:
    """Start moving at a velocity until Stop or Timeout (default 10 s, as advertised)."""
    _check_profile(op)
    vx, vy, vz = _vector(op, "Velocity", SPACE_PT_VELOCITY, SPACE_ZOOM_VELOCITY)
    velocity = (vx or 0.0, vy or 0.0, vz or 0.0)
    if any(abs(v) > 1.0 for v in velocity):
        raise invalid_arg("Velocity outside [-1, 1]", "ter:InvalidVelocity")
    raw_timeout = child_text(op, "Timeout")
    timeout_s = parse_duration(raw_timeout) if raw_timeout else ptz_xml.DEFAULT_TIMEOUT_S
    ctx.camera.ptz.continuous_move(*velocity, timeout_s=timeout_s)
    log.info("%s ptz continuous move %s for %.2f s", ctx.camera.path, velocity, timeout_s)
    return "<tptz:ContinuousMoveResponse/>"


def relative_move(ctx: RequestContext, op: Element) -> str:
    """Move by a translation; the head stops at its limits."""
    _check_profile(op)
    dx, dy, dz = _vector(op, "Translation", SPACE_PT_TRANSLATION, SPACE_ZOOM_TRANSLATION)
    ctx.camera.ptz.relative_move(dx or 0.0, dy or 0.0, dz or 0.0)
    log.info("%s ptz relative move %s", ctx.camera.path, (dx, dy, dz))
    return "<tptz:RelativeMoveResponse/>"


def absolute_move(ctx: RequestContext, op: Element) -> str:
    """Go to a position; an omitted axis keeps its current value."""
    _check_profile(op)
    x, y, z = _vector(op, "Position", SPACE_PT_POSITION, SPACE_ZOOM_POSITION)
    pan, tilt, zoom = ctx.camera.ptz.position()
    target = (pan if x is None else x, tilt if y is None else y, zoom if z is None else z)
    if not (-1 <= target[0] <= 1 and -1 <= target[1] <= 1 and 0 <= target[2] <= 1):
        raise invalid_arg("Position outside the PTZ limits", "ter:InvalidPosition")
    ctx.camera.ptz.absolute_move(*target)
    log.info("%s ptz absolute move %s", ctx.camera.path, target)
    return "<tptz:AbsoluteMoveResponse/>"


def stop(ctx: RequestContext, op: Element) -> str:
    """Stop pan/tilt and/or zoom (both when the flags are omitted)."""
    _check_profile(op)
    stop_pt = parse_bool(child_text(op, "PanTilt"), default=True)
    stop_zoom = parse_bool(child_text(op, "Zoom"), default=True)
    state = ctx.camera.ptz
    if stop_pt and stop_zoom:
        state.stop()
    elif stop_pt or stop_zoom:
        _stop_axes(ctx.camera, stop_pt)
    log.info("%s ptz stop pan_tilt=%s zoom=%s", ctx.camera.path, stop_pt, stop_zoom)
    return "<tptz:StopResponse/>"


def _stop_axes(camera: CameraInfo, pan_tilt: bool) -> None:
    # PtzState stops all axes at once; restart the move on the axes that keep going,
    # with what is left of its timeout.
    state = camera.ptz
    if not state.is_moving():
        return
    vx, vy, vz = state.velocity
    deadline = state.move_deadline
    remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
    keep = (0.0, 0.0, vz) if pan_tilt else (vx, vy, 0.0)
    if keep == (0.0, 0.0, 0.0):
        state.stop()
    else:
        state.continuous_move(*keep, timeout_s=remaining)


def get_presets(ctx: RequestContext, op: Element) -> str:
    """All presets with their positions."""
    _check_profile(op)
    items = "".join(
        f"<tptz:Preset token={attr(p.token)}><tt:Name>{text(p.name)}</tt:Name>"
        f"{ptz_xml.position_xml('tt:PTZPosition', p.pan, p.tilt, p.zoom)}</tptz:Preset>"
        for p in ctx.camera.ptz.presets.values()
    )
    return f"<tptz:GetPresetsResponse>{items}</tptz:GetPresetsResponse>"


def _new_preset_token(presets: dict[str, Preset]) -> str:
    # Small integers, as most cameras use; bounded because len(presets) < ptz_xml.MAX_PRESETS.
    for n in range(1, ptz_xml.MAX_PRESETS + 2):
        if str(n) not in presets:
            return str(n)
    raise SoapFault("Receiver", ("ter:Action", "ter:TooManyPresets"), "No preset slot left")


def set_preset(ctx: RequestContext, op: Element) -> str:
    """Store the current position as a new preset, or overwrite one given by token."""
    _check_profile(op)
    presets = ctx.camera.ptz.presets
    name = child_text(op, "PresetName")
    token = child_text(op, "PresetToken")
    if name is not None and (not name or len(name) > _MAX_PRESET_NAME):
        raise invalid_arg("Preset name empty or too long", "ter:InvalidPresetName")
    if token:
        if token not in presets:
            raise invalid_arg(f"No preset {token!r}", "ter:NoToken")
    elif len(presets) >= ptz_xml.MAX_PRESETS:
        raise SoapFault("Receiver", ("ter:Action", "ter:TooManyPresets"), "Too many presets")
    else:
        token = _new_preset_token(presets)
    if name and any(p.name == name and p.token != token for p in presets.values()):
        raise invalid_arg(f"Preset name {name!r} exists", "ter:PresetExist")
    if not name:
        name = presets[token].name if token in presets else f"Preset {token}"
    pan, tilt, zoom = ctx.camera.ptz.position()
    presets[token] = Preset(token=token, name=name, pan=pan, tilt=tilt, zoom=zoom)
    log.info("%s ptz preset %s (%r) set", ctx.camera.path, token, name)
    return (
        f"<tptz:SetPresetResponse><tptz:PresetToken>{text(token)}</tptz:PresetToken>"
        "</tptz:SetPresetResponse>"
    )


def _preset(ctx: RequestContext, op: Element) -> Preset:
    token = required_text(op, "PresetToken")
    preset = ctx.camera.ptz.presets.get(token)
    if preset is None:
        raise invalid_arg(f"No preset {token!r}", "ter:NoToken")
    return preset


def remove_preset(ctx: RequestContext, op: Element) -> str:
    """Delete a preset."""
    _check_profile(op)
    preset = _preset(ctx, op)
    del ctx.camera.ptz.presets[preset.token]
    log.info("%s ptz preset %s removed", ctx.camera.path, preset.token)
    return "<tptz:RemovePresetResponse/>"


def goto_preset(ctx: RequestContext, op: Element) -> str:
    """Jump to a preset's position."""
    _check_profile(op)
    preset = _preset(ctx, op)
    ctx.camera.ptz.absolute_move(preset.pan, preset.tilt, preset.zoom)
    log.info("%s ptz goto preset %s", ctx.camera.path, preset.token)
    return "<tptz:GotoPresetResponse/>"


def goto_home_position(ctx: RequestContext, op: Element) -> str:
    """Jump to the home position."""
    _check_profile(op)
    ctx.camera.ptz.absolute_move(*ctx.camera.ptz.home)
    log.info("%s ptz goto home", ctx.camera.path)
    return "<tptz:GotoHomePositionResponse/>"


def set_home_position(ctx: RequestContext, op: Element) -> str:
    """Make the current position the home position."""
    _check_profile(op)
    ctx.camera.ptz.home = ctx.camera.ptz.position()
    log.info("%s ptz home set to %s", ctx.camera.path, ctx.camera.ptz.home)
    return "<tptz:SetHomePositionResponse/>"


OPERATIONS: dict[str, Handler] = {
    "GetNodes": get_nodes,
    "GetNode": get_node,
    "GetConfigurations": get_configurations,
    "GetConfiguration": get_configuration,
    "GetConfigurationOptions": get_configuration_options,
    "GetServiceCapabilities": get_service_capabilities,
    "GetStatus": get_status,
    "ContinuousMove": continuous_move,
    "RelativeMove": relative_move,
    "AbsoluteMove": absolute_move,
    "Stop": stop,
    "GetPresets": get_presets,
    "SetPreset": set_preset,
    "RemovePreset": remove_preset,
    "GotoPreset": goto_preset,
    "GotoHomePosition": goto_home_position,
    "SetHomePosition": set_home_position,
}
