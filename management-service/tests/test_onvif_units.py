"""Pieces of the ONVIF domain without a camera: error translation, WS-Discovery parsing, URI
stripping, the device pool."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from lxml import etree
from zeep.exceptions import Fault, TransportError

from argus_common.errors import BadGateway, Conflict, GatewayTimeout, Unprocessable
from argus_management.onvif import discovery
from argus_management.onvif.device import OnvifDevice
from argus_management.onvif.errors import translate
from argus_management.onvif.pool import CameraEndpoint, DevicePool

TER = "http://www.onvif.org/ver10/error"


def fault(code: str, *subcodes: str, message: str = "refused") -> Fault:
    return Fault(message, code=code, subcodes=[etree.QName(TER, s) for s in subcodes])


@pytest.mark.parametrize(
    ("exc", "kind", "detail"),
    [
        (fault("s:Sender", "NotAuthorized", message="Sender not authorized"), BadGateway,
         "camera authentication failed"),
        (fault("s:Receiver", "ActionNotSupported"), Conflict, "does not support"),
        (fault("s:Sender", "InvalidArgVal", "NoToken"), Unprocessable, "camera refused"),
        (fault("s:Receiver", "Action", "TooManyPresets"), Conflict, "camera refused"),
        (fault("s:Receiver", "Action"), BadGateway, "camera error"),
        (TransportError(status_code=401), BadGateway, "camera authentication failed"),
        (TransportError(status_code=503), GatewayTimeout, "camera unreachable"),
        (TimeoutError(), GatewayTimeout, "no answer within 1.5 s"),
        (aiohttp.ClientConnectionError("refused"), GatewayTimeout, "camera unreachable"),
        (etree.XMLSyntaxError("bad", 1, 1, 1), BadGateway, "unusable answer"),
        (RuntimeError("library bug"), BadGateway, "camera error"),
    ],
)
def test_camera_failures_become_argus_errors(exc: Exception, kind: type, detail: str) -> None:
    error = translate(exc, "GotoPreset", 1.5)
    assert isinstance(error, kind) and detail in error.detail


def test_probe_matches_are_matched_on_relates_to_and_parsed_safely() -> None:
    mid = "urn:uuid:1"
    match = (
        '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope" '
        'xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing" '
        'xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><s:Header>'
        f"<a:RelatesTo>{mid}</a:RelatesTo>"
        "<a:Action>http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</a:Action>"
        "</s:Header><s:Body><d:ProbeMatches><d:ProbeMatch><a:EndpointReference>"
        "<a:Address>urn:uuid:cam</a:Address></a:EndpointReference>"
        "<d:Scopes>onvif://www.onvif.org/name/Gate%20A onvif://www.onvif.org/hardware/X1</d:Scopes>"
        "<d:XAddrs>http://10.0.0.5/onvif/device_service</d:XAddrs>"
        "</d:ProbeMatch></d:ProbeMatches></s:Body></s:Envelope>"
    ).encode()
    (device,) = discovery.parse_matches(match, mid, "10.0.0.5")
    assert device.xaddrs == ["http://10.0.0.5/onvif/device_service"]
    assert device.scope_value("name") == "Gate A" and device.scope_value("hardware") == "X1"
    assert discovery.parse_matches(match, "urn:uuid:other", "x") == []
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]><x>&b;</x>')
    for junk in (b"", b"not xml", b"<x/>", bomb, match.replace(b"ProbeMatches<", b"Hello<")):
        assert discovery.parse_matches(junk, mid, "x") == []


class _FakeMedia:
    async def GetStreamUri(self, params: dict[str, Any]) -> Any:  # the ONVIF name
        class Answer:
            Uri = "rtsp://user:secret@10.0.0.5:554/live?channel=1"

        return Answer()


async def test_stream_uri_loses_its_userinfo(monkeypatch: pytest.MonkeyPatch) -> None:
    device = OnvifDevice("127.0.0.1", 1, "u", "p")

    async def service(name: str) -> Any:
        return _FakeMedia()

    async def no_media2() -> None:
        return None  # a device without Media2: Media1's GetStreamUri

    monkeypatch.setattr(device, "_service", service)
    monkeypatch.setattr(device, "_media2", no_media2)
    try:
        assert await device.stream_uri("main") == "rtsp://10.0.0.5:554/live?channel=1"
    finally:
        await device.close()


async def test_pool_reuses_devices_until_the_camera_changes() -> None:
    pool = DevicePool()
    endpoint = CameraEndpoint(1, "127.0.0.1", 8100, "u", "p")
    try:
        first = pool.get(endpoint)
        assert pool.get(CameraEndpoint(1, "127.0.0.1", 8100, "u", "p")) is first
        changed = pool.get(CameraEndpoint(1, "127.0.0.1", 8100, "u", "other"))
        assert changed is not first
        pool.invalidate(1)
        assert len(pool) == 0 and pool.get(endpoint) is not changed
        assert "password" not in repr(endpoint)
    finally:
        await pool.close()
