"""Quirks mode: a camera that does not behave like a polite simulator.

Each camera has a set of quirk names (``--quirk cam2:slow``, ``POST /quirks/cam2``); the
ONVIF server asks this module, for every request, whether to refuse it, how long to wait
before answering and how to mangle the answer. Clients must register such a camera with
what works and report the rest as "not available".

- ``namespaces``: unusual namespace prefixes everywhere (``env:``, ``sch:`` …), valid XML;
- ``no_optional``: no PTZ, events or imaging service and no snapshot URI (the profiles still
  carry a PTZ configuration, as some firmware does);
- ``legacy``: no ``GetServices`` (clients fall back to ``GetCapabilities``);
- ``slow``: every answer late; optional operations later than a client's read timeout;
- ``clock``: the device clock hours off (WS-Security must be signed in camera time);
- ``no_time``: ``GetSystemDateAndTime`` not answered (clients sign in their own time);
- ``bad_presets``: ``GetPresets`` answered with XML no parser accepts;
- ``no_media2``: no Media2 (ver20) service, as on older devices (clients use Media1).
"""

from __future__ import annotations

import asyncio
import re

from argus_camsim.model import CameraInfo
from argus_camsim.onvif.events import NS_TEV, NS_WSNT
from argus_camsim.onvif.soap import NS_TPTZ, SoapRequest, action_not_supported

QUIRKS = (
    "namespaces",
    "no_optional",
    "legacy",
    "slow",
    "clock",
    "no_time",
    "bad_presets",
    "no_media2",
)
NS_TR2 = "http://www.onvif.org/ver20/media/wsdl"
NS_TIMG = "http://www.onvif.org/ver20/imaging/wsdl"
WRONG_CLOCK_S = 3 * 3600 + 17.0
SLOW_S = 0.3
SLOW_OPTIONAL_S = 6.0
# Operations a camera may lack without being useless (the client must do without them).
OPTIONAL_OPERATIONS = {
    "GetPresets",
    "GetStatus",
    "GetSnapshotUri",
    "GetImagingSettings",
    "CreatePullPointSubscription",
}
_OPTIONAL_SERVICES = {NS_TPTZ, NS_TEV, NS_WSNT, NS_TIMG}
_PREFIXES = {
    "s": "env",
    "tds": "dev",
    "trt": "med",
    "tr2": "mtwo",
    "tptz": "ptzns",
    "tt": "sch",
    "ter": "err",
    "tev": "evt",
    "wsnt": "bn",
    "wsa": "adr",
}
# A prefix opening or closing a tag, or starting a QName in text or an attribute value.
_QNAME = re.compile(r"(</?|>|\s|\")(" + "|".join(_PREFIXES) + r"):(?=[A-Za-z_])")
_XMLNS = re.compile(r"xmlns:(" + "|".join(_PREFIXES) + r")=")


def check(names: list[str]) -> set[str]:
    """The quirk names given, checked (ValueError names the unknown ones)."""
    unknown = set(names) - set(QUIRKS)
    if unknown:
        raise ValueError(
            f"unknown quirk(s) {', '.join(sorted(unknown))}; known: {', '.join(QUIRKS)}"
        )
    return set(names)


def offers(camera: CameraInfo, namespace: str) -> bool:
    """Whether the camera lists the service ``namespace`` (GetServices, GetCapabilities)."""
    if "no_media2" in camera.quirks and namespace == NS_TR2:
        return False
    return not ("no_optional" in camera.quirks and namespace in _OPTIONAL_SERVICES)


def refuse(camera: CameraInfo, soap: SoapRequest) -> None:
    """Raise the fault a quirky camera answers instead of handling ``soap``."""
    quirks = camera.quirks
    if not quirks:
        return
    if not offers(camera, soap.namespace) or (
        "no_optional" in quirks and soap.name == "GetSnapshotUri"
    ):
        raise action_not_supported(f"{soap.name} is not available on this device")
    if "legacy" in quirks and soap.name in ("GetServices", "GetServiceCapabilities"):
        raise action_not_supported(f"{soap.name} is not supported")
    if "no_time" in quirks and soap.name == "GetSystemDateAndTime":
        raise action_not_supported("GetSystemDateAndTime is not supported")


async def delay(camera: CameraInfo, name: str) -> None:
    """Answer late (``slow``)."""
    if "slow" in camera.quirks:
        await asyncio.sleep(SLOW_OPTIONAL_S if name in OPTIONAL_OPERATIONS else SLOW_S)


def clock_offset_s(camera: CameraInfo) -> float:
    return WRONG_CLOCK_S if "clock" in camera.quirks else 0.0


def mangle(camera: CameraInfo, name: str, xml: str) -> str:
    """The answer as the quirky camera sends it."""
    quirks = camera.quirks
    if "bad_presets" in quirks and name == "GetPresets":
        # Cut mid-element: not well-formed, whatever the parser.
        return xml[: len(xml) * 2 // 3] + "<tt:Preset token="
    if "namespaces" in quirks:
        xml = _XMLNS.sub(lambda m: f"xmlns:{_PREFIXES[m.group(1)]}=", xml)
        xml = _QNAME.sub(lambda m: f"{m.group(1)}{_PREFIXES[m.group(2)]}:", xml)
    return xml
