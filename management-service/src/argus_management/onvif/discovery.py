"""A small WS-Discovery (2005/04, SOAP-over-UDP) client: Probe for ONVIF cameras.

Multicast to 239.255.255.250:3702 by default, which only reaches cameras on the same L2
segment and, under Docker, only with host networking; or unicast to one ``target`` (tests,
networks without multicast). Answers are collected until the timeout, matched on
``RelatesTo`` and deduplicated by endpoint reference. Cameras can always be added by address
instead (``POST /api/v1/cameras/onvif/probe``).
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from typing import Any, cast
from xml.sax.saxutils import escape

from lxml import etree

from argus_management.onvif.types import DiscoveredDevice

MULTICAST = ("239.255.255.250", 3702)
MAX_DEVICES = 512
_MAX_DATAGRAM = 65_507
_REPEAT_AFTER_S = 0.1  # SOAP-over-UDP repeats a datagram, since UDP may drop it

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_WSA = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSD = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
NS_DN = "http://www.onvif.org/ver10/network/wsdl"
_PROBE_MATCHES = f"{NS_WSD}/ProbeMatches"

# Answers come from anyone on the network: no DTDs, no entities, no network access.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
    remove_comments=True, remove_pis=True,
)


def probe_message(message_id: str) -> bytes:
    """A Probe for ONVIF NetworkVideoTransmitters."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<s:Envelope xmlns:s="{NS_SOAP}" xmlns:a="{NS_WSA}" xmlns:d="{NS_WSD}" '
        f'xmlns:dn="{NS_DN}"><s:Header>'
        f"<a:MessageID>{escape(message_id)}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
        f"<a:Action>{NS_WSD}/Probe</a:Action></s:Header>"
        "<s:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe>"
        "</s:Body></s:Envelope>"
    ).encode()


def _text(parent: Any, path: str) -> str:
    found = parent.find(path)
    return "" if found is None or found.text is None else str(found.text).strip()


def parse_matches(data: bytes, message_id: str, source: str) -> list[DiscoveredDevice]:
    """The devices of one ProbeMatches datagram answering ``message_id``; [] for anything
    else (wrong message, not XML, not a ProbeMatches)."""
    try:
        root = etree.fromstring(data[:_MAX_DATAGRAM], _PARSER)
    except (etree.XMLSyntaxError, ValueError):
        return []
    header = root.find(f"{{{NS_SOAP}}}Header")
    body = root.find(f"{{{NS_SOAP}}}Body")
    if header is None or body is None:
        return []
    if _text(header, f"{{{NS_WSA}}}RelatesTo") != message_id:
        return []
    if _text(header, f"{{{NS_WSA}}}Action") != _PROBE_MATCHES:
        return []
    devices = []
    for match in body.iter(f"{{{NS_WSD}}}ProbeMatch"):
        address = _text(match, f"{{{NS_WSA}}}EndpointReference/{{{NS_WSA}}}Address")
        if not address:
            continue
        devices.append(DiscoveredDevice(
            endpoint_reference=address[:256],
            xaddrs=_text(match, f"{{{NS_WSD}}}XAddrs").split()[:8],
            scopes=_text(match, f"{{{NS_WSD}}}Scopes").split()[:32],
            types=_text(match, f"{{{NS_WSD}}}Types").split()[:8],
            address=source,
        ))
    return devices


class _Collector(asyncio.DatagramProtocol):
    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.found: dict[str, DiscoveredDevice] = {}

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        for device in parse_matches(data, self.message_id, str(addr[0])):
            if len(self.found) < MAX_DEVICES:
                self.found.setdefault(device.endpoint_reference, device)

    def error_received(self, exc: Exception) -> None:
        """ICMP errors (port unreachable on a unicast probe) just mean no answer."""


async def probe(timeout_s: float, target: tuple[str, int] | None = None) -> list[DiscoveredDevice]:
    """Probe for ONVIF cameras and collect answers for ``timeout_s`` seconds.

    ``target`` (host, port) sends one unicast probe; without it the probe is multicast.
    Raises ``OSError`` when the probe cannot be sent at all (no route, no multicast).
    """
    message_id = f"urn:uuid:{uuid.uuid4()}"
    loop = asyncio.get_running_loop()
    if target is not None:
        infos = await loop.getaddrinfo(target[0], target[1], type=socket.SOCK_DGRAM)
        family, destination = infos[0][0], cast(tuple[str, int], infos[0][4][:2])
    else:
        family, destination = socket.AF_INET, MULTICAST
    collector = _Collector(message_id)
    transport, _ = await loop.create_datagram_endpoint(
        lambda: collector, family=family,
        local_addr=("::" if family == socket.AF_INET6 else "0.0.0.0", 0),
    )
    try:
        if target is None:
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        payload = probe_message(message_id)
        transport.sendto(payload, destination)
        await asyncio.sleep(min(_REPEAT_AFTER_S, timeout_s / 4))
        transport.sendto(payload, destination)
        await asyncio.sleep(max(0.0, timeout_s - _REPEAT_AFTER_S))
    finally:
        transport.close()
    return list(collector.found.values())
