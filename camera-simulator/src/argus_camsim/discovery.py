"""WS-Discovery (SOAP-over-UDP) for the virtual cameras: a responder and a probe client.

``start_discovery`` answers Probe and Resolve on UDP 3702, unicast and, when the group
can be joined, on 239.255.255.250, and announces Hello/Bye there. ``probe`` is the
matching client (unicast to one responder, or multicast on the LAN); management-service
has its own, this one serves tests and as a reference.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from collections import deque
from dataclasses import dataclass
from typing import cast
from urllib.parse import unquote
from xml.etree.ElementTree import Element
from xml.sax.saxutils import escape

from argus_camsim.model import CameraInfo
from argus_camsim.onvif import wsdiscovery as wsd
from argus_camsim.onvif.identity import endpoint_reference

log = logging.getLogger(__name__)

__all__ = ["DiscoveredDevice", "DiscoveryResponder", "probe", "start_discovery"]

_MAX_DATAGRAM = 65_507
_RECENT_MESSAGE_IDS = 512  # probes are often sent twice (SOAP-over-UDP repeat)
_WILDCARD = ("", "0.0.0.0")
Address = tuple[str | int, int]


@dataclass
class DiscoveredDevice:
    """One device found by ``probe``."""

    endpoint_reference: str  # urn:uuid:…, stable per device
    xaddrs: list[str]  # device service URLs
    scopes: list[str]
    types: list[str]
    metadata_version: int
    address: str  # IP the answer came from

    def scope_value(self, kind: str) -> str | None:
        """Decoded value of an ``onvif://www.onvif.org/<kind>/<value>`` scope (name, hardware)."""
        prefix = f"onvif://www.onvif.org/{kind}/"
        for scope in self.scopes:
            if scope.startswith(prefix):
                return unquote(scope[len(prefix) :])
        return None


class DiscoveryResponder(asyncio.DatagramProtocol):
    """Answers WS-Discovery for a set of cameras; ``close()`` says Bye and stops."""

    def __init__(self, cameras: list[tuple[CameraInfo, str]], multicast: bool) -> None:
        self.cameras = list(cameras)
        self.multicast = multicast  # True only once the group was joined
        self.host = ""
        self.port = 0
        self._transport: asyncio.DatagramTransport | None = None
        self._message_number = 0
        self._recent: deque[str] = deque(maxlen=_RECENT_MESSAGE_IDS)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Keep the transport the loop created for our socket."""
        # The selector loop's datagram transport does not subclass DatagramTransport.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: Address) -> None:
        """Handle one datagram; anything unparsable is dropped, as UDP peers expect."""
        if len(data) > _MAX_DATAGRAM:
            return
        message = wsd.parse(data)
        if message is None or not message.message_id or message.message_id in self._recent:
            return
        self._recent.append(message.message_id)
        if message.action == wsd.ACTION_PROBE:
            self._answer_probe(message, addr)
        elif message.action == wsd.ACTION_RESOLVE:
            self._answer_resolve(message, addr)

    def _answer_probe(self, message: wsd.Message, addr: Address) -> None:
        if not wsd.types_match(message):
            return
        # One ProbeMatches per camera: each is its own target service, and one message
        # for a hundred cameras would not fit in a datagram.
        for camera, xaddr in self.cameras:
            if wsd.scopes_match(message, camera):
                match = wsd.target_description(camera, xaddr)
                body = f"<d:ProbeMatches><d:ProbeMatch>{match}</d:ProbeMatch></d:ProbeMatches>"
                self._reply(message, wsd.ACTION_PROBE_MATCHES, body, addr)

    def _answer_resolve(self, message: wsd.Message, addr: Address) -> None:
        epr = message.body.find(f"{{{wsd.NS_WSA}}}EndpointReference")
        wanted = wsd.element_text(epr, "Address", wsd.NS_WSA) if epr is not None else ""
        for camera, xaddr in self.cameras:
            if endpoint_reference(camera) == wanted:
                match = wsd.target_description(camera, xaddr)
                body = (
                    f"<d:ResolveMatches><d:ResolveMatch>{match}</d:ResolveMatch></d:ResolveMatches>"
                )
                self._reply(message, wsd.ACTION_RESOLVE_MATCHES, body, addr)

    def _app_sequence(self) -> str:
        self._message_number += 1
        return f'<d:AppSequence InstanceId="1" MessageNumber="{self._message_number}"/>'

    def _reply(self, message: wsd.Message, action: str, body: str, addr: Address) -> None:
        relates = f"<a:RelatesTo>{escape(message.message_id)}</a:RelatesTo>"
        header = relates + self._app_sequence()
        self._send(wsd.envelope(action, wsd.WSA_ANONYMOUS, body, header), addr)

    def _announce(self, action: str, body: str) -> None:
        payload = wsd.envelope(action, wsd.WSD_TO, body, self._app_sequence())
        self._send(payload, (wsd.MULTICAST_GROUP, wsd.WSD_PORT))

    def say_hello(self) -> None:
        """Announce every camera on the multicast group."""
        for camera, xaddr in self.cameras:
            body = f"<d:Hello>{wsd.target_description(camera, xaddr)}</d:Hello>"
            self._announce(wsd.ACTION_HELLO, body)

    def say_bye(self) -> None:
        """Tell the multicast group the cameras are leaving."""
        for camera, _ in self.cameras:
            self._announce(wsd.ACTION_BYE, wsd.bye_body(camera))

    def _send(self, payload: bytes, addr: Address) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        try:
            self._transport.sendto(payload, addr)
        except OSError as exc:  # e.g. no multicast route inside a sandbox
            log.debug("ws-discovery send to %s failed: %s", addr, exc)

    async def close(self) -> None:
        """Say Bye (when on multicast) and close the socket."""
        if self._transport is None:
            return
        if self.multicast:
            self.say_bye()
        transport, self._transport = self._transport, None
        transport.close()
        log.info("ws-discovery responder on %s:%d stopped", self.host, self.port)


def _responder_socket(host: str, port: int, multicast: bool) -> tuple[socket.socket, bool]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    joined = False
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if multicast and hasattr(socket, "SO_REUSEPORT"):
            # Lets another WS-Discovery agent on this host share port 3702.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        if multicast:
            interface = "0.0.0.0" if host in _WILDCARD else host
            group = socket.inet_aton(wsd.MULTICAST_GROUP)
            mreq = struct.pack("4s4s", group, socket.inet_aton(interface))
            try:
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
                sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
                joined = True
            except OSError as exc:
                log.warning("ws-discovery: cannot join %s (%s); unicast only", group, exc)
        sock.setblocking(False)
    except BaseException:
        sock.close()
        raise
    return sock, joined


async def start_discovery(
    cameras: list[tuple[CameraInfo, str]],
    host: str = "0.0.0.0",
    port: int = wsd.WSD_PORT,
    multicast: bool = True,
) -> DiscoveryResponder:
    """Answer WS-Discovery probes for ``cameras`` (each: camera, device-service XAddr).

    ``port=0`` binds a free port (read it from ``.port``). Multicast is best effort: if
    the group cannot be joined the responder still answers unicast probes.
    """
    sock, joined = _responder_socket(host, port, multicast)
    responder = DiscoveryResponder(cameras, multicast=joined)
    loop = asyncio.get_running_loop()
    try:
        await loop.create_datagram_endpoint(lambda: responder, sock=sock)
    except BaseException:
        sock.close()
        raise
    responder.host, responder.port = sock.getsockname()[:2]
    if joined:
        responder.say_hello()
    log.info(
        "ws-discovery responder on %s:%d for %d camera(s), multicast=%s",
        responder.host,
        responder.port,
        len(responder.cameras),
        joined,
    )
    return responder


class _ProbeCollector(asyncio.DatagramProtocol):
    def __init__(self, message_id: str) -> None:
        self.message_id = message_id
        self.found: dict[str, DiscoveredDevice] = {}
        self.changed = asyncio.Event()

    def datagram_received(self, data: bytes, addr: Address) -> None:
        message = wsd.parse(data[:_MAX_DATAGRAM])
        if message is None or message.relates_to != self.message_id:
            return
        if message.action != wsd.ACTION_PROBE_MATCHES:
            return
        for match in message.body.findall(f"{{{wsd.NS_WSD}}}ProbeMatch"):
            device = _device_from_match(match, str(addr[0]))
            if device is not None and device.endpoint_reference not in self.found:
                self.found[device.endpoint_reference] = device
                self.changed.set()


def _device_from_match(match: Element, source: str) -> DiscoveredDevice | None:
    epr = match.find(f"{{{wsd.NS_WSA}}}EndpointReference")
    address = wsd.element_text(epr, "Address", wsd.NS_WSA) if epr is not None else ""
    if not address:
        return None
    try:
        version = int(wsd.element_text(match, "MetadataVersion") or 0)
    except ValueError:
        version = 0
    return DiscoveredDevice(
        endpoint_reference=address,
        xaddrs=wsd.element_text(match, "XAddrs").split(),
        scopes=wsd.element_text(match, "Scopes").split(),
        types=wsd.element_text(match, "Types").split(),
        metadata_version=version,
        address=source,
    )


async def probe(
    timeout_s: float,
    target: tuple[str, int] | None = None,
    *,
    max_results: int | None = None,
) -> list[DiscoveredDevice]:
    """Probe for ONVIF NetworkVideoTransmitters and collect answers for ``timeout_s``.

    Unicast to ``target`` when given, else multicast to 239.255.255.250:3702. Returns
    early once ``max_results`` distinct devices have answered.
    """
    message_id = wsd.new_message_id()
    collector = _ProbeCollector(message_id)
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(
        lambda: collector, local_addr=("0.0.0.0", 0), family=socket.AF_INET
    )
    try:
        if target is None:
            sock = transport.get_extra_info("socket")
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        destination = target or (wsd.MULTICAST_GROUP, wsd.WSD_PORT)
        payload = wsd.probe_message(message_id)
        deadline = loop.time() + timeout_s
        transport.sendto(payload, destination)
        await _wait_for_results(collector, min(0.1, timeout_s / 4), max_results)
        if not _enough(collector, max_results):
            # SOAP-over-UDP repeats a datagram, since UDP may lose it.
            transport.sendto(payload, destination)
        # Each wait ends at the deadline at the latest, so this loop is bounded in time.
        while loop.time() < deadline and not _enough(collector, max_results):
            await _wait_for_results(collector, deadline - loop.time(), max_results)
    finally:
        transport.close()
    return list(collector.found.values())


def _enough(collector: _ProbeCollector, max_results: int | None) -> bool:
    return max_results is not None and len(collector.found) >= max_results


async def _wait_for_results(
    collector: _ProbeCollector, timeout_s: float, max_results: int | None
) -> None:
    if _enough(collector, max_results):
        return
    collector.changed.clear()
    try:
        async with asyncio.timeout(max(0.0, timeout_s)):
            await collector.changed.wait()
    except TimeoutError:
        pass
