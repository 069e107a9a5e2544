"""SOAP 1.2 plumbing: parse requests, build response and fault envelopes, read values.

Requests are parsed with defusedxml (the ONVIF port is reachable from the network, so
entity expansion must be refused); responses are plain string templates with the
namespace prefixes declared once on the envelope.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape, quoteattr

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"
NS_TRT = "http://www.onvif.org/ver10/media/wsdl"
NS_TPTZ = "http://www.onvif.org/ver20/ptz/wsdl"
NS_TT = "http://www.onvif.org/ver10/schema"
NS_TER = "http://www.onvif.org/ver10/error"
NS_WSSE = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd"
NS_WSU = "http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd"

# Every prefix a response template may use is declared on the envelope, so templates
# never need their own xmlns attributes.
_ENVELOPE_OPEN = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:tds="{NS_TDS}" xmlns:trt="{NS_TRT}" '
    f'xmlns:tptz="{NS_TPTZ}" xmlns:tt="{NS_TT}" xmlns:ter="{NS_TER}">'
)

# Generic speed/space URIs of ONVIF's PTZ model; the simulator only knows these.
SPACE_PT_POSITION = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/PositionGenericSpace"
SPACE_ZOOM_POSITION = "http://www.onvif.org/ver10/tptz/ZoomSpaces/PositionGenericSpace"
SPACE_PT_TRANSLATION = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/TranslationGenericSpace"
SPACE_ZOOM_TRANSLATION = "http://www.onvif.org/ver10/tptz/ZoomSpaces/TranslationGenericSpace"
SPACE_PT_VELOCITY = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/VelocityGenericSpace"
SPACE_ZOOM_VELOCITY = "http://www.onvif.org/ver10/tptz/ZoomSpaces/VelocityGenericSpace"
SPACE_PT_SPEED = "http://www.onvif.org/ver10/tptz/PanTiltSpaces/GenericSpeedSpace"
SPACE_ZOOM_SPEED = "http://www.onvif.org/ver10/tptz/ZoomSpaces/ZoomGenericSpeedSpace"


@dataclass(eq=False)  # eq=False keeps exceptions hashable
class SoapFault(Exception):
    """A SOAP 1.2 fault to send back.

    ``subcodes`` are ONVIF error QNames with the ``ter:`` prefix, outermost first
    (e.g. ``("ter:InvalidArgVal", "ter:NoProfile")``).
    """

    code: str  # "Sender" or "Receiver"
    subcodes: tuple[str, ...]
    reason: str

    def __str__(self) -> str:
        return f"{self.code}/{'/'.join(self.subcodes)}: {self.reason}"

    @property
    def http_status(self) -> int:
        """HTTP status per the SOAP 1.2 HTTP binding: 400 for Sender, 500 for Receiver."""
        return 400 if self.code == "Sender" else 500


def not_authorized() -> SoapFault:
    """The fault ONVIF devices answer to missing or wrong credentials."""
    return SoapFault("Sender", ("ter:NotAuthorized",), "Sender not authorized")


def invalid_arg(detail: str, *subcodes: str) -> SoapFault:
    """An ``env:Sender/ter:InvalidArgVal`` fault with optional nested subcodes."""
    return SoapFault("Sender", ("ter:InvalidArgVal", *subcodes), detail)


def action_not_supported(detail: str) -> SoapFault:
    """The fault for an optional operation this device does not implement."""
    return SoapFault("Receiver", ("ter:ActionNotSupported",), detail)


def envelope(body: str) -> str:
    """Wrap an already serialised body fragment in a SOAP 1.2 envelope."""
    return f"{_ENVELOPE_OPEN}<s:Body>{body}</s:Body></s:Envelope>"


def fault_envelope(fault: SoapFault) -> str:
    """Serialise a fault, nesting the subcodes as SOAP 1.2 requires."""
    subcode_xml = ""
    for subcode in reversed(fault.subcodes):
        subcode_xml = f"<s:Subcode><s:Value>{subcode}</s:Value>{subcode_xml}</s:Subcode>"
    body = (
        f"<s:Fault><s:Code><s:Value>s:{fault.code}</s:Value>{subcode_xml}</s:Code>"
        f'<s:Reason><s:Text xml:lang="en">{escape(fault.reason)}</s:Text></s:Reason>'
        "</s:Fault>"
    )
    return envelope(body)


@dataclass
class SoapRequest:
    """The parts of a request envelope the handlers need."""

    header: Element | None
    operation: Element  # first child of Body

    @property
    def namespace(self) -> str:
        return qname_ns(self.operation.tag)

    @property
    def name(self) -> str:
        return local_name(self.operation.tag)


def parse_request(data: bytes) -> SoapRequest:
    """Parse a SOAP 1.2 request; malformed input becomes a Sender fault, never a crash."""
    try:
        root = SafeET.fromstring(data)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise SoapFault("Sender", ("ter:WellFormed",), f"Malformed XML: {exc}") from exc
    if root.tag != f"{{{NS_SOAP}}}Envelope":
        # SOAP 1.1 envelopes land here too; ONVIF mandates SOAP 1.2.
        raise SoapFault("Sender", ("ter:WellFormed",), "Not a SOAP 1.2 envelope")
    header = root.find(f"{{{NS_SOAP}}}Header")
    body = root.find(f"{{{NS_SOAP}}}Body")
    if body is None or len(body) == 0:
        raise SoapFault("Sender", ("ter:WellFormed",), "Empty SOAP body")
    return SoapRequest(header=header, operation=body[0])


def qname_ns(tag: str) -> str:
    """Namespace part of a Clark-notation tag (``{ns}name``), or ``""``."""
    return tag[1 : tag.index("}")] if tag.startswith("{") else ""


def local_name(tag: str) -> str:
    """Local part of a Clark-notation tag."""
    return tag.rsplit("}", 1)[-1]


def child(parent: Element | None, name: str) -> Element | None:
    """First child with this local name.

    Matching ignores namespaces on purpose: clients disagree on whether parameters are
    qualified with the service or the schema namespace, and the names do not collide.
    """
    if parent is None:
        return None
    for element in parent:
        if local_name(element.tag) == name:
            return element
    return None


def child_text(parent: Element | None, name: str) -> str | None:
    """Stripped text of the first child with this local name, or None."""
    element = child(parent, name)
    if element is None or element.text is None:
        return None
    return element.text.strip()


def required_text(parent: Element, name: str) -> str:
    """Text of a mandatory parameter; its absence is the client's fault."""
    value = child_text(parent, name)
    if not value:
        raise invalid_arg(f"Missing parameter {name}")
    return value


def float_attr(element: Element | None, name: str) -> float | None:
    """A finite float attribute (x, y of tt:Vector2D/1D), None when absent."""
    if element is None:
        return None
    raw = element.get(name)
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError as exc:
        raise invalid_arg(f"Attribute {name}={raw!r} is not a number") from exc
    if not math.isfinite(value):
        raise invalid_arg(f"Attribute {name}={raw!r} is not finite")
    return value


def parse_bool(raw: str | None, default: bool) -> bool:
    """xs:boolean ("true"/"false"/"1"/"0"); absent means default."""
    if raw is None:
        return default
    if raw in ("true", "1"):
        return True
    if raw in ("false", "0"):
        return False
    raise invalid_arg(f"{raw!r} is not an xs:boolean")


_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(raw: str) -> float:
    """Seconds of a non-negative xs:duration without years/months (PT5S, PT0.5S, PT1M30S).

    Years and months have no fixed length and no PTZ timeout needs them, so they are
    refused rather than guessed.
    """
    match = _DURATION.match(raw.strip())
    if match is None or raw.strip() in ("P", "PT") or raw.strip().endswith("T"):
        raise invalid_arg(f"{raw!r} is not a supported xs:duration")
    parts = {k: float(v) for k, v in match.groupdict().items() if v is not None}
    return (
        parts.get("days", 0.0) * 86400
        + parts.get("hours", 0.0) * 3600
        + parts.get("minutes", 0.0) * 60
        + parts.get("seconds", 0.0)
    )


def format_duration(seconds: float) -> str:
    """An xs:duration in seconds, e.g. ``PT10S`` or ``PT0.5S``."""
    return f"PT{seconds:g}S"


def xml_datetime(moment: datetime) -> str:
    """xs:dateTime in UTC with a ``Z`` suffix."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def text(value: object) -> str:
    """Escape a value for element content."""
    return escape(str(value))


def attr(value: object) -> str:
    """Quote and escape a value for an attribute (includes the quotes)."""
    return quoteattr(str(value))


def xml_bool(value: bool) -> str:
    """Python bool as xs:boolean."""
    return "true" if value else "false"


def fmt_float(value: float) -> str:
    """Compact float for xs:float attributes."""
    return f"{value:.6g}"
