"""WS-Discovery 2005/04 wire format (as ONVIF uses it): parse, match, build messages.

The UDP side lives in ``argus_camsim.discovery``; this module only deals with bytes.
"""

from __future__ import annotations

import io
import uuid
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError
from xml.sax.saxutils import escape

import defusedxml.ElementTree as SafeET
from defusedxml import DefusedXmlException

from argus_camsim.model import CameraInfo
from argus_camsim.onvif.identity import endpoint_reference, scopes

MULTICAST_GROUP = "239.255.255.250"
WSD_PORT = 3702
NS_SOAP12 = "http://www.w3.org/2003/05/soap-envelope"
NS_SOAP11 = "http://schemas.xmlsoap.org/soap/envelope/"
NS_WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NS_DN = "http://www.onvif.org/ver10/network/wsdl"
NS_TDS = "http://www.onvif.org/ver10/device/wsdl"
WSD_TO = "urn:schemas-xmlsoap-org:ws:2005:04:discovery"
WSA_ANONYMOUS = f"{NS_WSA}/role/anonymous"
MATCH_RFC3986 = f"{NS_WSD}/rfc3986"
MATCH_STRCMP0 = f"{NS_WSD}/strcmp0"
ACTION_PROBE = f"{NS_WSD}/Probe"
ACTION_PROBE_MATCHES = f"{NS_WSD}/ProbeMatches"
ACTION_RESOLVE = f"{NS_WSD}/Resolve"
ACTION_RESOLVE_MATCHES = f"{NS_WSD}/ResolveMatches"
ACTION_HELLO = f"{NS_WSD}/Hello"
ACTION_BYE = f"{NS_WSD}/Bye"
# What every virtual camera is: an ONVIF NetworkVideoTransmitter and Device.
DEVICE_TYPES = {(NS_DN, "NetworkVideoTransmitter"), (NS_TDS, "Device")}
_TYPES_TEXT = "dn:NetworkVideoTransmitter tds:Device"
_ANY_NS = "*"


@dataclass
class Message:
    """The parts of a WS-Discovery envelope that matter here."""

    action: str
    message_id: str
    relates_to: str
    body: Element  # first child of Body
    prefixes: dict[str, str]  # prefixes declared anywhere in the datagram


def parse(data: bytes) -> Message | None:
    """Parse a SOAP 1.2 (or 1.1) envelope; None for anything that is not one."""
    # ElementTree drops namespace declarations, but Types holds prefixed QNames, so
    # the prefixes are collected from the parser's start-ns events.
    prefixes: dict[str, str] = {}
    root: Element | None = None
    try:
        for event, item in SafeET.iterparse(io.BytesIO(data), events=("start-ns", "end")):
            if event == "start-ns":
                prefix, uri = item
                prefixes.setdefault(prefix, uri)
            else:
                root = item
    except (ParseError, DefusedXmlException, ValueError):
        return None
    envelopes = (f"{{{NS_SOAP12}}}Envelope", f"{{{NS_SOAP11}}}Envelope")
    if root is None or root.tag not in envelopes:
        return None
    soap_ns = root.tag[1 : root.tag.index("}")]
    header = root.find(f"{{{soap_ns}}}Header")
    body = root.find(f"{{{soap_ns}}}Body")
    if body is None or len(body) == 0:
        return None

    def header_text(name: str) -> str:
        element = header.find(f"{{{NS_WSA}}}{name}") if header is not None else None
        return (element.text or "").strip() if element is not None else ""

    return Message(
        action=header_text("Action"),
        message_id=header_text("MessageID"),
        relates_to=header_text("RelatesTo"),
        body=body[0],
        prefixes=prefixes,
    )


def element_text(parent: Element, name: str, ns: str = NS_WSD) -> str:
    """Stripped text of a direct child, ``""`` when absent."""
    element = parent.find(f"{{{ns}}}{name}")
    return (element.text or "").strip() if element is not None else ""


def _resolve_qnames(raw: str, prefixes: dict[str, str]) -> set[tuple[str, str]]:
    names = set()
    for qname in raw.split():
        prefix, _, local = qname.rpartition(":")
        names.add((prefixes.get(prefix, _ANY_NS), local))
    return names


def types_match(probe: Message) -> bool:
    """Whether our device types satisfy every type the probe asks for."""
    requested = _resolve_qnames(element_text(probe.body, "Types"), probe.prefixes)
    ours_local = {local for _, local in DEVICE_TYPES}
    # A prefix the prober forgot to declare matches on the local name alone.
    return all(
        (ns, local) in DEVICE_TYPES or (ns == _ANY_NS and local in ours_local)
        for ns, local in requested
    )


def _split_uri(uri: str) -> tuple[str, list[str]]:
    scheme, sep, rest = uri.partition("://")
    authority, _, path = rest.partition("/")
    return f"{scheme}{sep}{authority}".lower(), [s for s in path.split("/") if s]


def _scope_matches(wanted: str, have: str, rule: str) -> bool:
    if rule == MATCH_STRCMP0:
        return wanted == have
    # RFC 3986 rule: scheme and authority compare case-insensitively, the path by whole
    # segments, so ".../name/cam" does not match ".../name/camera".
    w_root, w_path = _split_uri(wanted)
    h_root, h_path = _split_uri(have)
    return w_root == h_root and h_path[: len(w_path)] == w_path


def scopes_match(probe: Message, camera: CameraInfo) -> bool:
    """Whether every scope of the probe matches one of the camera's scopes."""
    scopes_el = probe.body.find(f"{{{NS_WSD}}}Scopes")
    if scopes_el is None:
        return True
    rule = scopes_el.get("MatchBy", MATCH_RFC3986)
    if rule not in (MATCH_RFC3986, MATCH_STRCMP0):
        return False  # unsupported rule: WS-Discovery says do not match
    have = [scope.uri for scope in scopes(camera)]
    wanted = (scopes_el.text or "").split()
    return all(any(_scope_matches(w, h, rule) for h in have) for w in wanted)


def new_message_id() -> str:
    """A fresh ``urn:uuid:`` MessageID."""
    return f"urn:uuid:{uuid.uuid4()}"


def envelope(action: str, to: str, body: str, extra_header: str = "") -> bytes:
    """A complete SOAP 1.2 datagram with a fresh MessageID."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{NS_SOAP12}" xmlns:a="{NS_WSA}" xmlns:d="{NS_WSD}" '
        f'xmlns:dn="{NS_DN}" xmlns:tds="{NS_TDS}"><s:Header>'
        f"<a:MessageID>{new_message_id()}</a:MessageID>{extra_header}"
        f"<a:To>{escape(to)}</a:To><a:Action>{action}</a:Action>"
        f"</s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def target_description(camera: CameraInfo, xaddr: str) -> str:
    """EndpointReference, Types, Scopes, XAddrs and MetadataVersion of one camera."""
    scope_text = " ".join(scope.uri for scope in scopes(camera))
    return (
        f"<a:EndpointReference><a:Address>{escape(endpoint_reference(camera))}"
        "</a:Address></a:EndpointReference>"
        f"<d:Types>{_TYPES_TEXT}</d:Types><d:Scopes>{escape(scope_text)}</d:Scopes>"
        f"<d:XAddrs>{escape(xaddr)}</d:XAddrs><d:MetadataVersion>1</d:MetadataVersion>"
    )


def bye_body(camera: CameraInfo) -> str:
    """Body of a Bye for one camera."""
    epr = escape(endpoint_reference(camera))
    return f"<d:Bye><a:EndpointReference><a:Address>{epr}</a:Address></a:EndpointReference></d:Bye>"


def probe_message(message_id: str, types: str = "dn:NetworkVideoTransmitter") -> bytes:
    """A Probe for ONVIF video transmitters with a caller-chosen MessageID."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{NS_SOAP12}" xmlns:a="{NS_WSA}" xmlns:d="{NS_WSD}" '
        f'xmlns:dn="{NS_DN}" xmlns:tds="{NS_TDS}"><s:Header>'
        f"<a:MessageID>{escape(message_id)}</a:MessageID>"
        f"<a:To>{WSD_TO}</a:To><a:Action>{ACTION_PROBE}</a:Action>"
        f"</s:Header><s:Body><d:Probe><d:Types>{escape(types)}</d:Types>"
        "</d:Probe></s:Body></s:Envelope>"
    ).encode()
