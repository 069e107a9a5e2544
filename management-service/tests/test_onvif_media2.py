"""Media2 (ver20): profiles, stream and snapshot URIs read through Media2 where the device
lists it (the simulator's Media2 service), Media1 where it does not (``no_media2``) or where
Media2 fails; an H.265 profile as Media2 describes it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from lxml import etree

from argus_management.onvif import media2
from argus_management.onvif.device import OnvifDevice

from factories.onvif_sim import SIM_PASSWORD, SIM_USER

PROBE = "/api/v1/cameras/onvif/probe"
TR2 = media2.NS_MEDIA2
H265_PROFILES = f"""
<tr2:GetProfilesResponse xmlns:tr2="{TR2}" xmlns:tt="http://www.onvif.org/ver10/schema">
 <tr2:Profiles token="Profile_1" fixed="true"><tr2:Name>mainStream</tr2:Name>
  <tr2:Configurations>
   <tr2:VideoSource token="VideoSourceToken"><tt:Name>VideoSourceConfig</tt:Name>
    <tt:UseCount>2</tt:UseCount><tt:SourceToken>VideoSource_1</tt:SourceToken>
    <tt:Bounds x="0" y="0" width="3840" height="2160"/></tr2:VideoSource>
   <tr2:AudioSource token="AudioSourceConfigToken"><tt:Name>AudioSourceConfig</tt:Name>
    <tt:UseCount>2</tt:UseCount><tt:SourceToken>AudioSourceChannel</tt:SourceToken>
   </tr2:AudioSource>
   <tr2:VideoEncoder token="VideoEncoderToken_1" GovLength="50" Profile="Main">
    <tt:Name>VideoEncoder_1</tt:Name><tt:UseCount>1</tt:UseCount>
    <tt:Encoding>H265</tt:Encoding>
    <tt:Resolution><tt:Width>3840</tt:Width><tt:Height>2160</tt:Height></tt:Resolution>
    <tt:RateControl ConstantBitRate="false"><tt:FrameRateLimit>25.000000</tt:FrameRateLimit>
     <tt:BitrateLimit>8192</tt:BitrateLimit></tt:RateControl>
    <tt:Multicast><tt:Address><tt:Type>IPv4</tt:Type><tt:IPv4Address>0.0.0.0</tt:IPv4Address>
     </tt:Address><tt:Port>8860</tt:Port><tt:TTL>128</tt:TTL><tt:AutoStart>false</tt:AutoStart>
    </tt:Multicast><tt:Quality>3.000000</tt:Quality></tr2:VideoEncoder>
   <tr2:PTZ token="PTZToken"><tt:Name>PTZ</tt:Name><tt:UseCount>2</tt:UseCount>
    <tt:NodeToken>PTZNODETOKEN</tt:NodeToken></tr2:PTZ>
   <tr2:Metadata token="MetaDataToken"><tt:Name>metaData</tt:Name></tr2:Metadata>
  </tr2:Configurations></tr2:Profiles>
 <tr2:Profiles token="Profile_2" fixed="true"><tr2:Name>subStream</tr2:Name>
  <tr2:Configurations><tr2:VideoEncoder token="VideoEncoderToken_2">
   <tt:Name>VideoEncoder_2</tt:Name><tt:UseCount>1</tt:UseCount><tt:Encoding>hevc</tt:Encoding>
   <tt:Resolution><tt:Width>640</tt:Width><tt:Height>NaN</tt:Height></tt:Resolution>
  </tr2:VideoEncoder></tr2:Configurations></tr2:Profiles>
</tr2:GetProfilesResponse>"""


async def test_an_h265_profile_as_media2_describes_it() -> None:
    """A camera's Media2 answer (H.265 main stream with audio and metadata configurations
    around the encoder, a sub-stream with a broken height) parsed by our WSDL."""
    device = OnvifDevice("127.0.0.1", 9, None, None)
    device._camera.xaddrs[TR2] = "http://127.0.0.1:9/onvif/media2"
    device._camera.dt_diff = None
    svc = await media2.service(device._camera, device._camera.xaddrs[TR2])
    try:
        element = svc.zeep_client.get_element(f"{{{TR2}}}GetProfilesResponse")
        parsed = element.parse(etree.fromstring(H265_PROFILES), svc.zeep_client.wsdl.types)
        main, sub = (media2.profile(p) for p in parsed.Profiles)
        assert (main.token, main.name, main.encoding) == ("Profile_1", "mainStream", "H265")
        assert (main.width, main.height, main.fps) == (3840, 2160, 25.0)
        assert main.has_ptz and main.ptz_config_token == "PTZToken"
        assert (sub.encoding, sub.width, sub.height, sub.has_ptz) == ("HEVC", 640, None, False)
    finally:
        await device.close()


@pytest.fixture
async def h265_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Any]:
    """A simulator device in this process whose Media2 encoders say H265 (the simulator
    streams H.264 only; the answer is what an H.265 camera sends)."""
    from argus_camsim.model import CameraInfo
    from argus_camsim.onvif import OnvifAuth, start_onvif
    from argus_camsim.onvif import media2 as sim_media2

    monkeypatch.setattr(sim_media2, "ENCODING", "H265")

    async def snapshot() -> bytes:
        return b""

    info = CameraInfo(index=1, name="Hevc", width=320, height=180, has_ptz=True)
    server = await start_onvif(
        info, "127.0.0.1", 0, OnvifAuth(SIM_USER, SIM_PASSWORD), snapshot,
        "rtsp://127.0.0.1:8554", clock_offset_s=1800.0,
    )
    try:
        yield server
    finally:
        await server.close()


async def test_media2_is_preferred_and_signed_in_camera_time(h265_server: Any) -> None:
    device = OnvifDevice("127.0.0.1", h265_server.port, SIM_USER, SIM_PASSWORD,
                         connect_timeout_s=2)
    try:
        profiles = await device.profiles()
        assert [(p.token, p.encoding, p.width, p.has_ptz) for p in profiles] == [
            ("main", "H265", 320, True), ("sub", "H265", 640, True)]
        assert await device.stream_uri("main") == "rtsp://127.0.0.1:8554/cam1/main"
        assert (await device.snapshot_uri("sub")).endswith("/onvif/snapshot.jpg")
        # Everything went through Media2: Media1 was never built.
        assert ("media2", None) in device._camera.services
        assert ("media", None) not in device._camera.services
        assert device.media2_error is None and abs(device.time_offset_s - 1800) < 2
        assert await device.ptz_profile_token() == "main"
    finally:
        await device.close()


async def test_a_failing_media2_falls_back_to_media1(h265_server: Any) -> None:
    device = OnvifDevice("127.0.0.1", h265_server.port, SIM_USER, SIM_PASSWORD,
                         connect_timeout_s=2)
    try:
        await device.connect()
        # The device lists Media2 at an address that answers 404.
        device._camera.xaddrs[TR2] = f"http://127.0.0.1:{h265_server.port}/nothing"
        profiles = await device.profiles()
        assert [(p.token, p.encoding) for p in profiles] == [("main", "H264"), ("sub", "H264")]
        assert device.media2_error == "camera error during Media2 GetProfiles"
        assert await device.stream_uri("main") == "rtsp://127.0.0.1:8554/cam1/main"
    finally:
        await device.close()


async def test_probe_reports_media2_profiles(
    client: httpx.AsyncClient, admin_headers: dict[str, str], h265_server: Any
) -> None:
    body = {"host": "127.0.0.1", "port": h265_server.port, "username": SIM_USER,
            "password": SIM_PASSWORD}
    resp = await client.post(PROBE, json=body, headers=admin_headers)
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["capabilities"]["media2"] is True
    assert [(p["token"], p["encoding"]) for p in out["profiles"]] == [
        ("main", "H265"), ("sub", "H265")]
    assert out["profiles"][0]["stream_uri"] == "rtsp://127.0.0.1:8554/cam1/main"
    assert not any(w.startswith("Media2") for w in out["warnings"]), out["warnings"]
