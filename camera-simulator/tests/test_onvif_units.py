"""Small pure pieces of the ONVIF device: durations, faults, identity, URL building."""

from __future__ import annotations

from datetime import UTC, datetime

import defusedxml.ElementTree as SafeET
import pytest

from argus_camsim.model import CameraInfo
from argus_camsim.onvif.context import RequestContext
from argus_camsim.onvif.identity import device_uuid, endpoint_reference, scopes, serial_number
from argus_camsim.onvif.soap import (
    NS_SOAP,
    SoapFault,
    fault_envelope,
    parse_duration,
    parse_request,
)


@pytest.mark.parametrize(
    ("raw", "seconds"),
    [
        ("PT5S", 5.0),
        ("PT0.5S", 0.5),
        ("PT1M30S", 90.0),
        ("PT1H", 3600.0),
        ("P1DT2S", 86402.0),
        ("PT0S", 0.0),
    ],
)
def test_parse_duration(raw: str, seconds: float) -> None:
    assert parse_duration(raw) == pytest.approx(seconds)


@pytest.mark.parametrize("raw", ["5S", "PT", "P", "P1DT", "PT-1S", "P1Y", "PTS", "PT1.S"])
def test_parse_duration_refuses(raw: str) -> None:
    with pytest.raises(SoapFault) as err:
        parse_duration(raw)
    assert err.value.subcodes == ("ter:InvalidArgVal",)
    assert err.value.http_status == 400


def test_fault_envelope_nests_subcodes() -> None:
    fault = SoapFault("Sender", ("ter:InvalidArgVal", "ter:NoProfile"), "No <profile>")
    root = SafeET.fromstring(fault_envelope(fault))
    code = root.find(f"{{{NS_SOAP}}}Body/{{{NS_SOAP}}}Fault/{{{NS_SOAP}}}Code")
    assert code is not None
    values = [el.text for el in code.iter(f"{{{NS_SOAP}}}Value")]
    assert values == ["s:Sender", "ter:InvalidArgVal", "ter:NoProfile"]
    assert root.findtext(f".//{{{NS_SOAP}}}Text") == "No <profile>"


def test_parse_request_refuses_soap_11() -> None:
    soap11 = b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body><x/></e:Body></e:Envelope>'
    with pytest.raises(SoapFault):
        parse_request(soap11)


def test_identity_is_stable_and_distinct() -> None:
    a1 = CameraInfo(index=1, name="Gate")
    a2 = CameraInfo(index=1, name="Gate")
    b = CameraInfo(index=2, name="Gate")
    assert device_uuid(a1) == device_uuid(a2) != device_uuid(b)
    assert endpoint_reference(a1) == f"urn:uuid:{device_uuid(a1)}"
    assert serial_number(a1) == serial_number(a2)
    assert serial_number(CameraInfo(index=1, name="Gate", serial="SN42")) == "SN42"


def test_scopes_encode_name_and_follow_ptz() -> None:
    ptz_uris = {s.uri for s in scopes(CameraInfo(index=1, name="Car park/north", model="X 1"))}
    assert "onvif://www.onvif.org/name/Car%20park%2Fnorth" in ptz_uris
    assert "onvif://www.onvif.org/hardware/X%201" in ptz_uris
    assert "onvif://www.onvif.org/type/ptz" in ptz_uris
    fixed = {s.uri for s in scopes(CameraInfo(index=1, name="F", has_ptz=False))}
    assert "onvif://www.onvif.org/type/ptz" not in fixed


@pytest.mark.parametrize(
    ("rtsp_base", "base_url", "expected"),
    [
        ("rtsp://127.0.0.1:8554", "http://10.0.0.5:8101", "rtsp://127.0.0.1:8554/cam7/main"),
        ("rtsp://0.0.0.0:8554/", "http://10.0.0.5:8101", "rtsp://10.0.0.5:8554/cam7/main"),
        ("rtsp://0.0.0.0:8554", "http://[::1]:8101", "rtsp://[::1]:8554/cam7/main"),
    ],
)
def test_stream_uri(rtsp_base: str, base_url: str, expected: str) -> None:
    ctx = RequestContext(
        camera=CameraInfo(index=7, name="x"),
        base_url=base_url,
        rtsp_base=rtsp_base,
        device_time=datetime.now(UTC),
    )
    assert ctx.stream_uri("main") == expected
