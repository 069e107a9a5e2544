"""WS-Discovery responder and probe client, unicast on 127.0.0.1."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from xml.etree import ElementTree as ET

import defusedxml.ElementTree as SafeET
import pytest

from argus_camsim.discovery import DiscoveryResponder, probe, start_discovery
from argus_camsim.model import CameraInfo
from argus_camsim.onvif.identity import endpoint_reference

NS_S = "http://www.w3.org/2003/05/soap-envelope"
NS_A = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_D = "http://schemas.xmlsoap.org/ws/2005/04/discovery"
GATE = CameraInfo(index=1, name="Gate", model="CamSim-PTZ")
YARD = CameraInfo(index=2, name="Back yard", has_ptz=False)
GATE_XADDR = "http://127.0.0.1:8101/onvif/device_service"
YARD_XADDR = "http://127.0.0.1:8102/onvif/device_service"


@pytest.fixture
async def responder() -> AsyncIterator[DiscoveryResponder]:
    cameras = [(GATE, GATE_XADDR), (YARD, YARD_XADDR)]
    server = await start_discovery(cameras, host="127.0.0.1", port=0, multicast=False)
    yield server
    await server.close()


def raw_probe(message_id: str, inner: str, action: str = "Probe") -> bytes:
    return (
        f'<s:Envelope xmlns:s="{NS_S}" xmlns:a="{NS_A}" xmlns:d="{NS_D}" '
        'xmlns:dn="http://www.onvif.org/ver10/network/wsdl" xmlns:x="urn:example">'
        f"<s:Header><a:MessageID>{message_id}</a:MessageID>"
        "<a:To>urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>"
        f"<a:Action>{NS_D}/{action}</a:Action></s:Header>"
        f"<s:Body>{inner}</s:Body></s:Envelope>"
    ).encode()


class Replies(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()

    def datagram_received(self, data: bytes, addr: tuple[str | int, int]) -> None:
        self.queue.put_nowait(data)


async def exchange(
    port: int, payload: bytes, expect: int, quiet_s: float = 0.3
) -> list[ET.Element]:
    """Send one datagram; collect ``expect`` replies, then check nothing more arrives."""
    loop = asyncio.get_running_loop()
    replies = Replies()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: replies, local_addr=("127.0.0.1", 0), family=socket.AF_INET
    )
    try:
        transport.sendto(payload, ("127.0.0.1", port))
        got = [
            SafeET.fromstring(await asyncio.wait_for(replies.queue.get(), 3)) for _ in range(expect)
        ]
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(replies.queue.get(), quiet_s)
    finally:
        transport.close()
    return got


async def test_unicast_probe_finds_devices(responder: DiscoveryResponder) -> None:
    found = await probe(3.0, ("127.0.0.1", responder.port), max_results=2)
    by_epr = {d.endpoint_reference: d for d in found}
    assert set(by_epr) == {endpoint_reference(GATE), endpoint_reference(YARD)}
    gate = by_epr[endpoint_reference(GATE)]
    assert gate.xaddrs == [GATE_XADDR]
    assert gate.address == "127.0.0.1"
    assert "dn:NetworkVideoTransmitter" in gate.types
    assert "onvif://www.onvif.org/name/Gate" in gate.scopes
    assert "onvif://www.onvif.org/hardware/CamSim-PTZ" in gate.scopes
    assert "onvif://www.onvif.org/type/ptz" in gate.scopes
    assert gate.scope_value("hardware") == "CamSim-PTZ"
    yard = by_epr[endpoint_reference(YARD)]
    assert yard.scope_value("name") == "Back yard"
    assert "onvif://www.onvif.org/type/ptz" not in yard.scopes
    # The EndpointReference is stable: a second probe sees the same devices.
    again = await probe(3.0, ("127.0.0.1", responder.port), max_results=2)
    assert {d.endpoint_reference for d in again} == set(by_epr)


async def test_probe_match_relates_to_the_probe(responder: DiscoveryResponder) -> None:
    message_id = f"urn:uuid:{uuid.uuid4()}"
    inner = "<d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe>"
    replies = await exchange(responder.port, raw_probe(message_id, inner), expect=2)
    for reply in replies:
        assert reply.findtext(f"{{{NS_S}}}Header/{{{NS_A}}}RelatesTo") == message_id
        assert reply.findtext(f"{{{NS_S}}}Header/{{{NS_A}}}Action") == f"{NS_D}/ProbeMatches"
        match = reply.find(f"{{{NS_S}}}Body/{{{NS_D}}}ProbeMatches/{{{NS_D}}}ProbeMatch")
        assert match is not None
        assert match.findtext(f"{{{NS_D}}}XAddrs") in (GATE_XADDR, YARD_XADDR)


async def test_probe_filters(responder: DiscoveryResponder) -> None:
    # Scope filter (RFC 3986 prefix match by path segment).
    by_scope = (
        "<d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types>"
        "<d:Scopes>onvif://www.onvif.org/name/Back%20yard</d:Scopes></d:Probe>"
    )
    [reply] = await exchange(responder.port, raw_probe(f"urn:uuid:{uuid.uuid4()}", by_scope), 1)
    assert reply.findtext(f".//{{{NS_D}}}XAddrs") == YARD_XADDR
    # No types at all: everything matches.
    await exchange(responder.port, raw_probe(f"urn:uuid:{uuid.uuid4()}", "<d:Probe/>"), 2)
    # A type we are not, or a partial path segment: silence.
    other = "<d:Probe><d:Types>x:Printer</d:Types></d:Probe>"
    await exchange(responder.port, raw_probe(f"urn:uuid:{uuid.uuid4()}", other), 0)
    partial = "<d:Probe><d:Scopes>onvif://www.onvif.org/name/Ga</d:Scopes></d:Probe>"
    await exchange(responder.port, raw_probe(f"urn:uuid:{uuid.uuid4()}", partial), 0)


async def test_resolve_and_garbage(responder: DiscoveryResponder) -> None:
    await exchange(responder.port, b"\x00not xml at all", 0, quiet_s=0.1)
    resolve = (
        f"<d:Resolve><a:EndpointReference><a:Address>{endpoint_reference(GATE)}"
        "</a:Address></a:EndpointReference></d:Resolve>"
    )
    message_id = f"urn:uuid:{uuid.uuid4()}"
    [reply] = await exchange(responder.port, raw_probe(message_id, resolve, "Resolve"), 1)
    assert reply.findtext(f".//{{{NS_D}}}XAddrs") == GATE_XADDR
    assert reply.findtext(f".//{{{NS_A}}}RelatesTo") == message_id
    # The same MessageID again (a SOAP-over-UDP repeat) is answered only once.
    await exchange(responder.port, raw_probe(message_id, resolve, "Resolve"), 0)


async def test_unreachable_target_gives_empty_result() -> None:
    # Nothing listens there: the probe ends at its timeout with no devices.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert await probe(0.3, ("127.0.0.1", port)) == []


async def test_multicast_is_best_effort() -> None:
    # Joining the group may be refused in a sandbox; unicast must work either way.
    server = await start_discovery([(GATE, GATE_XADDR)], host="127.0.0.1", port=0, multicast=True)
    try:
        found = await probe(3.0, ("127.0.0.1", server.port), max_results=1)
        assert [d.xaddrs for d in found] == [[GATE_XADDR]]
    finally:
        await server.close()
