"""Property-based tests of what ONVIF cameras (and anyone on the network) send management:
WS-Discovery datagrams, the XAddrs in them, SOAP faults, and the objects zeep makes of
GetProfiles / GetStatus / GetPresets answers. Any input: a result or an ARGUS error,
never another exception.
"""

from __future__ import annotations

import math
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from xml.sax.saxutils import escape

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from lxml import etree
from zeep.exceptions import Fault

from argus_common.errors import ArgusError
from argus_management.onvif import discovery
from argus_management.onvif.errors import fault_subcodes, translate
from argus_management.onvif.parse import finite as _float
from argus_management.onvif.parse import media1_profile as _profile
from argus_management.onvif.parse import vector as _vector
from argus_management.onvif.service import _host_port
from argus_management.onvif.types import DiscoveredDevice

FUZZ = settings(max_examples=200, deadline=timedelta(seconds=10), database=None,
                suppress_health_check=[HealthCheck.too_slow])
MSG = "urn:uuid:0b3c1f2e-1111-2222-3333-444455556666"
_xml_text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=60)


def matches(message_id: str, items: list[tuple[str, list[str], list[str], list[str]]],
            action: str = discovery._PROBE_MATCHES) -> bytes:
    """A ProbeMatches datagram as a camera sends it."""
    body = "".join(
        f"<d:ProbeMatch><a:EndpointReference><a:Address>{escape(addr)}</a:Address>"
        f"</a:EndpointReference><d:Types>{escape(' '.join(types))}</d:Types>"
        f"<d:Scopes>{escape(' '.join(scopes))}</d:Scopes>"
        f"<d:XAddrs>{escape(' '.join(xaddrs))}</d:XAddrs></d:ProbeMatch>"
        for addr, xaddrs, scopes, types in items)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><s:Envelope xmlns:s="{discovery.NS_SOAP}" '
        f'xmlns:a="{discovery.NS_WSA}" xmlns:d="{discovery.NS_WSD}"><s:Header>'
        f"<a:RelatesTo>{escape(message_id)}</a:RelatesTo><a:Action>{action}</a:Action>"
        f"</s:Header><s:Body><d:ProbeMatches>{body}</d:ProbeMatches></s:Body></s:Envelope>"
    ).encode()


_word = st.text(st.characters(codec="ascii", min_codepoint=0x21, max_codepoint=0x7E),
                min_size=1, max_size=30)
_items = st.lists(st.tuples(_word, st.lists(_word, max_size=10), st.lists(_word, max_size=40),
                            st.lists(_word, max_size=10)), max_size=5)


@FUZZ
@given(_items)
def test_probe_matches_read_back(items: list[tuple[str, list[str], list[str], list[str]]]) -> None:
    """Each ProbeMatch comes back with its address, XAddrs, scopes and types (capped)."""
    got = discovery.parse_matches(matches(MSG, items), MSG, "192.0.2.1")
    assert [(d.endpoint_reference, d.xaddrs, d.scopes, d.types) for d in got] == [
        (a[:256], x[:8], s[:32], t[:8]) for a, x, s, t in items]
    assert all(d.address == "192.0.2.1" for d in got)
    assert discovery.parse_matches(matches("urn:other", items), MSG, "x") == []
    assert discovery.parse_matches(matches(MSG, items, "urn:Probe"), MSG, "x") == []


_DTD = (b'<?xml version="1.0"?><!DOCTYPE s [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;'
        b'&a;&a;&a;&a;"><!ENTITY e SYSTEM "file:///etc/passwd">]><s>&b;&e;</s>')


@st.composite
def datagrams(draw: st.DrawFn) -> bytes:
    """Valid answers with bytes overwritten or cut, XML of other shapes, and garbage."""
    data = bytearray(matches(MSG, draw(_items)))
    for _ in range(draw(st.integers(0, 4))):
        at = draw(st.integers(0, len(data) - 1))
        data[at:at + 3] = draw(st.binary(min_size=1, max_size=3))
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data)


@FUZZ
@given(st.one_of(datagrams(), st.binary(max_size=200), _xml_text.map(str.encode),
                 st.sampled_from([_DTD, b"<a/>", b"\xef\xbb\xbf<a/>", b"", b"<?xml?>",
                                  b'<?xml version="1.0" encoding="bogus"?><a/>',
                                  b'<?xml version="1.0" encoding="UTF-16"?><a/>'])))
@example(_DTD)
def test_any_datagram_is_devices_or_nothing(data: bytes) -> None:
    """Anything on UDP 3702 (entities are never expanded or fetched): a list of devices
    with text fields, never an exception."""
    got = discovery.parse_matches(data, MSG, "192.0.2.1")
    for device in got:
        assert isinstance(device, DiscoveredDevice) and device.endpoint_reference
        assert "root:" not in device.endpoint_reference


@FUZZ
@given(st.lists(_xml_text, max_size=5), _xml_text)
def test_scope_values_decode(scopes: list[str], kind: str) -> None:
    device = DiscoveredDevice("urn:x", [], scopes=scopes)
    value = device.scope_value(kind)
    assert value is None or isinstance(value, str)


_xaddr = st.one_of(
    st.sampled_from(["http://[::1/onvif", "http://h:99999/x", "http://[fe80::1%eth0]:80/x",
                     "http://:80/", "https://cam/", "http://h:-1/", "http://h:8o/", ""]),
    _xml_text.map(lambda t: "http://" + t), _xml_text)


@FUZZ
@given(_xaddr)
def test_any_xaddr_is_an_address_or_none(xaddr: str) -> None:
    """XAddrs come from the datagram: (host, port) in range, or None."""
    got = _host_port(xaddr)
    if got is not None:
        host, port = got
        assert host and host == host.lower() and 0 <= port <= 65535


_subcode = st.one_of(
    st.sampled_from(["NotAuthorized", "ActionNotSupported", "InvalidArgVal", "TooManyPresets",
                     "NoProfile", "Other"]).map(lambda s: etree.QName(discovery.NS_SOAP, s)),
    _word, st.none(), st.integers())


@FUZZ
@given(st.one_of(st.none(), _xml_text), st.one_of(st.none(), _xml_text,
                                                  st.sampled_from(["s:Sender", "s:Receiver"])),
       st.one_of(st.none(), _subcode, st.lists(_subcode, max_size=3)),
       st.sampled_from(["GetProfiles", "ContinuousMove", "GotoPreset"]))
def test_any_fault_is_an_argus_error(message: str | None, code: str | None, subcodes: Any,
                                     what: str) -> None:
    """A SOAP fault with any message, code and subcodes: a 409/422/502/504 whose detail is
    short and names no camera internals beyond its reason."""
    fault = Fault(message, code=code, subcodes=subcodes)
    assert all(isinstance(s, str) for s in fault_subcodes(fault))
    error = translate(fault, what, 2.0)
    assert isinstance(error, ArgusError)
    assert error.status_code in (409, 422, 502, 504)
    assert len(str(error.detail)) <= 300


_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(-10**400, 10**400),
                    st.floats(), st.text(max_size=20),
                    st.sampled_from(["NaN", "inf", "-INF", "1e999", "640", " 7 ", "0x10"]))


def _obj(**fields: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A zeep-like object: some attributes present, some missing."""
    return st.one_of(st.none(), st.fixed_dictionaries({}, optional=fields).map(
        lambda d: SimpleNamespace(**d)))


profiles = _obj(
    token=_scalar, Name=_scalar,
    VideoEncoderConfiguration=_obj(
        Encoding=_scalar, Resolution=_obj(Width=_scalar, Height=_scalar),
        RateControl=_obj(FrameRateLimit=_scalar)),
    PTZConfiguration=_obj(token=_scalar))
vectors = _obj(PanTilt=_obj(x=_scalar, y=_scalar), Zoom=_obj(x=_scalar))


@FUZZ
@given(profiles)
@example(SimpleNamespace(VideoEncoderConfiguration=SimpleNamespace(
    Resolution=SimpleNamespace(Width="NaN", Height=10**400))))
@example(SimpleNamespace(VideoEncoderConfiguration=SimpleNamespace(
    Resolution=SimpleNamespace(Width=float("inf")))))
def test_any_profile_object_gives_a_profile(raw: Any) -> None:
    """Whatever zeep made of a GetProfiles answer (missing parts, NaN, infinities, huge
    integers, strings): a MediaProfile with finite numbers or None. Found: a NaN, infinite
    or huge Width/Height raised ValueError/OverflowError (a 500) instead."""
    profile = _profile(raw)
    for value in (profile.width, profile.height):
        assert value is None or isinstance(value, int)
    assert profile.fps is None or math.isfinite(profile.fps)
    assert len(profile.token) <= 256 and len(profile.name) <= 256


@FUZZ
@given(vectors, _scalar)
def test_any_position_gives_finite_numbers(raw: Any, scalar: Any) -> None:
    """GetStatus / GetPresets positions: finite floats or None (JSON has no NaN)."""
    vector = _vector(raw)
    if vector is not None:
        for value in (vector.pan, vector.tilt, vector.zoom):
            assert value is None or math.isfinite(value)
    value = _float(scalar)
    assert value is None or math.isfinite(value)
