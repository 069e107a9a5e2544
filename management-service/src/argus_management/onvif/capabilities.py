"""What an ONVIF device offers, learnt from the device itself, and optional calls that
degrade to "not available" instead of failing.

``OnvifDevice.connect`` lists the device's services (``GetServices``, or
``GetCapabilities`` on devices without it); ``discover`` turns that list into
``Capabilities``. Everything but the device and media services is optional: a camera without
a PTZ or events service, or one whose presets, snapshot URI, PTZ status or clock cannot be
read, is still registered with what works, and each missing piece becomes a warning.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

import structlog

from argus_common.errors import ArgusError
from argus_management.onvif import media2
from argus_management.onvif.device import OnvifDevice

log = structlog.get_logger("argus.onvif")

T = TypeVar("T")

NS_MEDIA = "http://www.onvif.org/ver10/media/wsdl"
NS_MEDIA2 = media2.NS_MEDIA2
NS_PTZ = "http://www.onvif.org/ver20/ptz/wsdl"
NS_EVENTS = "http://www.onvif.org/ver10/events/wsdl"
NS_IMAGING = "http://www.onvif.org/ver20/imaging/wsdl"


@dataclass(frozen=True)
class Capabilities:
    """The services a device lists (and whether its clock could be read)."""

    media: bool
    media2: bool
    ptz: bool
    events: bool
    imaging: bool
    time: bool

    @classmethod
    def of(cls, namespaces: set[str], time: bool) -> Capabilities:
        return cls(
            media=NS_MEDIA in namespaces,
            media2=NS_MEDIA2 in namespaces,
            ptz=NS_PTZ in namespaces,
            events=NS_EVENTS in namespaces,
            imaging=NS_IMAGING in namespaces,
            time=time,
        )


class Warnings(list[str]):
    """What was not available, in words for the operator (kept short, no secrets)."""

    def missing(self, what: str, reason: str) -> None:
        self.append(f"{what} not available: {reason}")


async def read_capabilities(device: OnvifDevice) -> Capabilities:
    """The device's capabilities (connects first; a failed connect raises as usual)."""
    await device.connect()
    return Capabilities.of(device.service_namespaces(), device.clock_read)


async def optional(what: str, call: Callable[[], Awaitable[T]], warnings: Warnings) -> T | None:
    """``call()``, or None with a warning when the camera cannot do it (fault, timeout,
    unreadable answer, or refused to this account: some cameras give an operator account
    no presets)."""
    try:
        return await call()
    except ArgusError as exc:
        log.warning("onvif_optional_unavailable", operation=what, error=exc.detail)
        warnings.missing(what, exc.detail)
        return None
