"""Camera failures turned into ARGUS errors, so nothing a camera does becomes a 500.

- bad credentials (a ``NotAuthorized`` fault, HTTP 401/403) -> 502 "camera authentication failed"
- no answer in time, connection refused or reset, HTTP 502/503/504 -> 504 "camera unreachable"
- an operation or service the camera does not offer -> 409
- arguments the camera refuses (unknown preset, position outside its limits) -> 422
- anything else from the camera (other faults, unreadable XML) -> 502 with a short reason
"""

from __future__ import annotations

import aiohttp
import structlog
from lxml.etree import XMLSyntaxError
from onvif.exceptions import ONVIFAuthError, ONVIFError, ONVIFTimeoutError
from zeep.exceptions import Error as ZeepError
from zeep.exceptions import Fault, TransportError

from argus_common.errors import (
    ArgusError,
    BadGateway,
    Conflict,
    GatewayTimeout,
    Unprocessable,
)

log = structlog.get_logger("argus.onvif")

AUTH_FAILED = "camera authentication failed"
UNREACHABLE = "camera unreachable"

# ONVIF fault subcodes (local names), grouped by what they mean for the API user.
_UNSUPPORTED = {
    "ActionNotSupported", "NoSuchService", "NotSupported", "NoPTZProfile", "NoImagingForSource",
    "PresetsNotSupported", "HomeNotSupported",
}
_CONFLICT = {"TooManyPresets", "MovingPTZ", "CannotOverwriteHome"}
_INVALID = {
    "InvalidArgVal", "InvalidArgs", "InvalidArgument", "NoToken", "NoProfile", "NoEntity",
    "NoConfig", "InvalidPosition", "InvalidVelocity", "InvalidTranslation", "InvalidSpeed",
    "SpaceNotSupported", "PresetExist", "InvalidPresetName", "NoHomePosition",
    "InvalidStreamSetup",
}
_MAX_REASON = 200


def fault_subcodes(fault: Fault) -> set[str]:
    """Local names of a fault's subcodes (``ter:NotAuthorized`` -> ``NotAuthorized``)."""
    raw = fault.subcodes
    items = raw if isinstance(raw, list) else ([] if raw is None else [raw])
    names = set()
    for item in items:
        text = getattr(item, "localname", None) or getattr(item, "text", None) or str(item)
        names.add(str(text).rsplit("}", 1)[-1].rsplit(":", 1)[-1])
    return names


def _reason(fault: Fault) -> str:
    message = " ".join(str(fault.message or "").split())
    return message[:_MAX_REASON] or "no reason given"


def _from_fault(fault: Fault, what: str) -> ArgusError:
    codes = fault_subcodes(fault)
    reason = _reason(fault)
    lowered = reason.lower()
    if "NotAuthorized" in codes or "not authorized" in lowered or "authenticat" in lowered:
        return BadGateway(AUTH_FAILED)
    if codes & _UNSUPPORTED:
        return Conflict(f"camera does not support {what}: {reason}")
    if codes & _CONFLICT:
        return Conflict(f"camera refused {what}: {reason}")
    code = str(fault.code or "")
    if codes & _INVALID or code.endswith("Sender") or code.endswith("Client"):
        return Unprocessable(f"camera refused {what}: {reason}")
    return BadGateway(f"camera error during {what}: {reason}")


def _from_transport(exc: TransportError, what: str) -> ArgusError:
    status = int(exc.status_code or 0)
    if status in (401, 403):
        return BadGateway(AUTH_FAILED)
    if status in (502, 503, 504):
        return GatewayTimeout(f"{UNREACHABLE} (HTTP {status})")
    if status in (404, 405, 501):
        return Conflict(f"camera does not support {what} (HTTP {status})")
    return BadGateway(f"camera answered HTTP {status} to {what}")


class HostRefused(OSError):
    """The camera's host resolved to an address it may not have (pinning.py): raised from
    the connection's resolver, so aiohttp reports it as a connection error."""


def _host_refused(exc: BaseException) -> HostRefused | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, HostRefused):
            return current
        inner = getattr(current, "os_error", None)  # aiohttp's ClientConnectorError
        if isinstance(inner, HostRefused):
            return inner
        current = current.__cause__ or current.__context__
    return None


def translate(exc: BaseException, what: str, budget_s: float) -> ArgusError:
    """The ARGUS error for ``exc`` raised while doing ``what`` (e.g. "ContinuousMove")."""
    if isinstance(exc, ArgusError):
        return exc
    refused = _host_refused(exc)
    if refused is not None:
        return BadGateway(f"camera host refused: {refused}")
    if isinstance(exc, TimeoutError | ONVIFTimeoutError):
        return GatewayTimeout(f"{UNREACHABLE}: no answer within {budget_s:g} s")
    if isinstance(exc, Fault):
        return _from_fault(exc, what)
    if isinstance(exc, ONVIFAuthError):
        return BadGateway(AUTH_FAILED)
    if isinstance(exc, TransportError):
        return _from_transport(exc, what)
    if isinstance(exc, aiohttp.ClientConnectionError | ConnectionError):
        return GatewayTimeout(f"{UNREACHABLE}: connection refused or reset")
    if isinstance(exc, ONVIFError):
        # safe_func wraps the real failure; translate that one when there is one.
        if exc.__cause__ is not None and exc.__cause__ is not exc:
            return translate(exc.__cause__, what, budget_s)
        if "support service" in str(exc):
            return Conflict(f"camera does not support {what}")
        return BadGateway(f"camera error during {what}")
    if isinstance(exc, XMLSyntaxError | ZeepError | aiohttp.ClientError | OSError):
        return BadGateway(f"camera sent an unusable answer to {what}")
    # A library bug or an answer shaped unlike anything the WSDL allows: still the camera's
    # side of the call, so a 502 rather than a 500, logged with its traceback.
    log.warning("onvif_unexpected_error", operation=what, exc_info=exc)
    return BadGateway(f"camera error during {what}")
