"""The simulator's ONVIF events (subscriptions, long poll, reboot) and quirks (what each mode
does to a request or an answer), in process. The client side of both is tested in
management-service (test_onvif_events.py, test_onvif_quirks.py)."""

from __future__ import annotations

import asyncio
from typing import Any
from xml.etree.ElementTree import Element

import defusedxml.ElementTree as SafeET
import pytest

from argus_camsim.device_control import apply_events, apply_quirks, parse_quirk_flag
from argus_camsim.device_events import DeviceEvents
from argus_camsim.faults import CommandError
from argus_camsim.model import CameraInfo
from argus_camsim.onvif import quirks
from argus_camsim.onvif.soap import NS_TDS, NS_TPTZ, SoapFault, SoapRequest, envelope


async def test_pull_waits_for_the_first_event_and_a_reboot_loses_subscriptions() -> None:
    events = DeviceEvents()
    sub = events.subscribe(60)
    assert sub is not None and events.subscriptions == 1
    assert await events.pull(sub.sid, 0.05, 10) == []  # nothing: the timeout ends the poll
    waiting = asyncio.create_task(events.pull(sub.sid, 5.0, 10))
    await asyncio.sleep(0.05)
    events.raise_event("motion", True, "vsc0")
    got = await asyncio.wait_for(waiting, 2.0)
    assert got is not None and [(e.topic, e.state) for e in got] == [("motion", True)]
    for state in (True, False, True):
        events.raise_event("input", state, "1")
    assert len(await events.pull(sub.sid, 0, 2) or []) == 2  # MessageLimit
    assert len(await events.pull(sub.sid, 0, 2) or []) == 1
    assert events.renew(sub.sid, 120) is sub and sub.remaining_s() > 60
    events.reboot()
    assert events.subscriptions == 0 and await events.pull(sub.sid, 0, 1) is None
    short = events.subscribe(0.01)
    assert short is not None
    await asyncio.sleep(0.05)
    assert events.get(short.sid) is None  # expired


def _camera() -> Any:
    from argus_camsim.camera import CameraRuntime

    return CameraRuntime.__new__(CameraRuntime)


def test_control_commands_are_checked() -> None:
    cam = _camera()
    cam.info = CameraInfo(index=1, name="c")
    for bad in (
        {},
        {"topic": "smoke", "state": True},
        {"topic": "motion", "state": "yes"},
        {"topic": "input", "state": True, "input": ""},
        {"topic": "motion", "state": True, "x": 1},
    ):
        with pytest.raises(CommandError):
            apply_events(cam, bad)
    done = apply_events(cam, {"topic": "input", "state": True, "input": "7"})
    assert done["source"] == "7" and done["subscriptions"] == 0
    with pytest.raises(CommandError):
        apply_quirks(cam, {"quirks": ["rude"]})
    with pytest.raises(CommandError):
        apply_quirks(cam, {"quirks": "slow"})
    assert apply_quirks(cam, {"quirks": ["slow", "clock"]}) == {"quirks": ["clock", "slow"]}
    assert quirks.clock_offset_s(cam.info) == quirks.WRONG_CLOCK_S
    assert parse_quirk_flag("cam2:slow") == ("cam2", "slow")
    with pytest.raises(CommandError):
        parse_quirk_flag("slow")


def _request(namespace: str, name: str) -> SoapRequest:
    return SoapRequest(header=None, operation=Element(f"{{{namespace}}}{name}"))


def test_quirks_refuse_and_mangle() -> None:
    cam = CameraInfo(index=1, name="c", quirks={"no_optional", "legacy", "no_time"})
    for namespace, name in (
        (NS_TPTZ, "GetPresets"),
        (NS_TDS, "GetServices"),
        (NS_TDS, "GetSystemDateAndTime"),
        ("http://www.onvif.org/ver10/media/wsdl", "GetSnapshotUri"),
    ):
        with pytest.raises(SoapFault) as fault:
            quirks.refuse(cam, _request(namespace, name))
        assert "ter:ActionNotSupported" in fault.value.subcodes
    quirks.refuse(cam, _request(NS_TDS, "GetCapabilities"))  # still answered
    assert not quirks.offers(cam, NS_TPTZ) and quirks.offers(cam, NS_TDS)

    body = "<tds:GetHostnameResponse><tt:Name>x</tt:Name></tds:GetHostnameResponse>"
    odd = quirks.mangle(
        CameraInfo(index=1, name="c", quirks={"namespaces"}), "GetHostname", envelope(body)
    )
    assert "<dev:GetHostnameResponse>" in odd and "xmlns:sch=" in odd and "tt:" not in odd
    root = SafeET.fromstring(odd.encode())  # still well-formed, same namespaces
    assert root.find(f".//{{{NS_TDS}}}GetHostnameResponse") is not None
    broken = quirks.mangle(
        CameraInfo(index=1, name="c", quirks={"bad_presets"}),
        "GetPresets",
        envelope("<tptz:GetPresetsResponse/>"),
    )
    with pytest.raises(SafeET.ParseError):
        SafeET.fromstring(broken.encode())


def test_media2_answers_and_the_no_media2_quirk_hides_it() -> None:
    from datetime import UTC, datetime

    from argus_camsim.onvif import media2
    from argus_camsim.onvif.context import RequestContext

    cam = CameraInfo(index=1, name="c", width=320, height=180, quirks={"namespaces"})
    ctx = RequestContext(cam, "http://127.0.0.1:80", "rtsp://127.0.0.1:8554", datetime.now(UTC))
    op = SafeET.fromstring(
        f'<GetProfiles xmlns="{media2.NS_TR2}"><Type>VideoEncoder</Type></GetProfiles>'
    )
    odd = quirks.mangle(cam, "GetProfiles", envelope(media2.get_profiles(ctx, op)))
    assert "<mtwo:GetProfilesResponse" in odd and "tr2:" not in odd
    root = SafeET.fromstring(odd.encode())
    encoders = root.findall(f".//{{{media2.NS_TR2}}}VideoEncoder")
    assert len(encoders) == 2 and root.find(f".//{{{media2.NS_TR2}}}VideoSource") is None
    bad = SafeET.fromstring(
        f'<GetProfiles xmlns="{media2.NS_TR2}"><Type>Smell</Type></GetProfiles>'
    )
    with pytest.raises(SoapFault):
        media2.get_profiles(ctx, bad)
    multicast = SafeET.fromstring(
        f'<GetStreamUri xmlns="{media2.NS_TR2}"><Protocol>RtspMulticast</Protocol>'
        "<ProfileToken>main</ProfileToken></GetStreamUri>"
    )
    with pytest.raises(SoapFault):
        media2.get_stream_uri(ctx, multicast)

    old = CameraInfo(index=1, name="c", quirks={"no_media2"})
    assert not quirks.offers(old, media2.NS_TR2) and quirks.offers(cam, media2.NS_TR2)
    with pytest.raises(SoapFault) as fault:
        quirks.refuse(old, _request(media2.NS_TR2, "GetProfiles"))
    assert "ter:ActionNotSupported" in fault.value.subcodes
