"""The ONVIF device driven by the real client management-service uses (onvif-zeep-async)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import av
import numpy as np
import pytest

from argus_camsim.model import CameraInfo
from argus_camsim.onvif import OnvifAuth, OnvifServer, start_onvif

onvif = pytest.importorskip("onvif", reason="onvif-zeep-async is a dev dependency")
zeep_exceptions = pytest.importorskip("zeep.exceptions")

USER, PASSWORD = "admin", "s3cret-pass"
RTSP_BASE = "rtsp://127.0.0.1:8554"


def make_jpeg() -> bytes:
    """A real 16x16 JPEG from PyAV's MJPEG encoder."""
    codec = av.CodecContext.create("mjpeg", "w")
    codec.width, codec.height = 16, 16
    codec.pix_fmt = "yuvj420p"
    codec.time_base = Fraction(1, 25)
    rgb = np.full((16, 16, 3), (200, 40, 40), dtype=np.uint8)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuvj420p")
    packets = list(codec.encode(frame)) + list(codec.encode(None))
    return bytes(packets[0])


JPEG = make_jpeg()


async def fake_snapshot() -> bytes:
    return JPEG


Starter = Callable[..., Awaitable[OnvifServer]]


@pytest.fixture
async def start() -> AsyncIterator[Starter]:
    """Start ONVIF servers on free ports; all are closed at the end of the test."""
    servers: list[OnvifServer] = []

    async def _start(camera: CameraInfo, **kwargs: Any) -> OnvifServer:
        auth = kwargs.pop("auth", OnvifAuth(USER, PASSWORD, required=True))
        server = await start_onvif(camera, "127.0.0.1", 0, auth, fake_snapshot, RTSP_BASE, **kwargs)
        servers.append(server)
        return server

    yield _start
    for server in servers:
        await server.close()


@pytest.fixture
async def connect() -> AsyncIterator[Callable[..., Awaitable[Any]]]:
    """Create onvif-zeep-async clients; all are closed at the end of the test."""
    clients: list[Any] = []

    async def _connect(server: OnvifServer, password: str = PASSWORD, **kwargs: Any) -> Any:
        client = onvif.ONVIFCamera(
            "127.0.0.1", server.port, USER, password, no_cache=True, **kwargs
        )
        clients.append(client)
        await asyncio.wait_for(client.update_xaddrs(), 20)
        return client

    yield _connect
    for client in clients:
        await client.close()


@pytest.fixture
def camera() -> CameraInfo:
    return CameraInfo(index=3, name="Front door", width=1920, height=1080, fps=25)


def fault_subcodes(err: BaseException) -> set[str]:
    assert isinstance(err, zeep_exceptions.Fault), repr(err)
    return {q.localname for q in err.subcodes or []}


async def wait_until(predicate: Callable[[], bool], timeout_s: float = 3.0) -> None:
    """Poll an in-process condition, bounded in time."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.02)


async def test_device_service(start: Starter, connect: Any, camera: CameraInfo) -> None:
    server = await start(camera)
    client = await connect(server)
    base = f"http://127.0.0.1:{server.port}/onvif"
    assert client.xaddrs == {
        "http://www.onvif.org/ver10/device/wsdl": f"{base}/device_service",
        "http://www.onvif.org/ver10/media/wsdl": f"{base}/media_service",
        "http://www.onvif.org/ver20/media/wsdl": f"{base}/media2_service",
        "http://www.onvif.org/ver20/ptz/wsdl": f"{base}/ptz_service",
        "http://www.onvif.org/ver10/events/wsdl": f"{base}/events_service",
    }
    device = await client.create_devicemgmt_service()
    info = await device.GetDeviceInformation()
    assert (info.Manufacturer, info.Model, info.FirmwareVersion) == ("ARGUS", "CamSim", "0.1.0")
    assert info.SerialNumber
    caps = await device.GetCapabilities({"Category": "All"})
    assert caps.Media.XAddr == f"{base}/media_service"
    assert caps.PTZ.XAddr == f"{base}/ptz_service"
    scopes = {s.ScopeItem for s in await device.GetScopes()}
    assert "onvif://www.onvif.org/name/Front%20door" in scopes
    assert "onvif://www.onvif.org/hardware/CamSim" in scopes
    services = await device.GetServices({"IncludeCapability": True})
    assert {s.Namespace for s in services} == set(client.xaddrs)
    clock = (await device.GetSystemDateAndTime()).UTCDateTime
    device_now = datetime(
        clock.Date.Year, clock.Date.Month, clock.Date.Day,
        clock.Time.Hour, clock.Time.Minute, clock.Time.Second, tzinfo=UTC,
    )  # fmt: skip
    assert abs((device_now - datetime.now(UTC)).total_seconds()) < 5


async def test_media_profiles_and_stream_uris(
    start: Starter, connect: Any, camera: CameraInfo
) -> None:
    client = await connect(await start(camera))
    media = await client.create_media_service()
    profiles = await media.GetProfiles()
    assert [p.token for p in profiles] == ["main", "sub"]
    main, sub = profiles
    assert main.VideoEncoderConfiguration.Encoding == "H264"
    assert (
        main.VideoEncoderConfiguration.Resolution.Width,
        main.VideoEncoderConfiguration.Resolution.Height,
    ) == (1920, 1080)
    assert (
        sub.VideoEncoderConfiguration.Resolution.Width,
        sub.VideoEncoderConfiguration.Resolution.Height,
    ) == (640, 360)
    assert main.VideoEncoderConfiguration.RateControl.FrameRateLimit == 25
    assert main.PTZConfiguration.token == "ptzcfg0"
    for token in ("main", "sub"):
        setup = {"Stream": "RTP-Unicast", "Transport": {"Protocol": "RTSP"}}
        uri = await media.GetStreamUri({"StreamSetup": setup, "ProfileToken": token})
        assert uri.Uri == f"{RTSP_BASE}/cam3/{token}"
    with pytest.raises(zeep_exceptions.Fault) as err:
        await media.GetStreamUri({"StreamSetup": setup, "ProfileToken": "nope"})
    assert fault_subcodes(err.value) == {"InvalidArgVal", "NoProfile"}


async def test_snapshot_over_http_digest(start: Starter, connect: Any, camera: CameraInfo) -> None:
    server = await start(camera)
    client = await connect(server)
    uri = await client.get_snapshot_uri("main")
    assert uri == f"http://127.0.0.1:{server.port}/onvif/snapshot.jpg"
    # onvif-zeep-async answers the server's Digest challenge itself.
    assert await client.get_snapshot("main") == JPEG
    assert JPEG[:2] == b"\xff\xd8"


async def test_wrong_password_is_an_error(start: Starter, connect: Any, camera: CameraInfo) -> None:
    server = await start(camera)
    with pytest.raises(zeep_exceptions.Fault) as err:
        await connect(server, password="wrong")
    assert "NotAuthorized" in fault_subcodes(err.value)


async def test_system_date_needs_no_credentials(
    start: Starter, connect: Any, camera: CameraInfo
) -> None:
    server = await start(camera)
    client = onvif.ONVIFCamera("127.0.0.1", server.port, USER, "wrong", no_cache=True)
    try:
        device = await client.create_devicemgmt_service()
        # authless_ sends no WS-Security header at all.
        result = await device.authless_GetSystemDateAndTime()
        assert result.UTCDateTime.Date.Year == datetime.now(UTC).year
        with pytest.raises(zeep_exceptions.Fault):
            await device.GetDeviceInformation()
    finally:
        await client.close()


async def test_client_corrects_clock_skew(start: Starter, connect: Any, camera: CameraInfo) -> None:
    # The camera's clock is an hour ahead: outside the 300 s window.
    server = await start(camera, clock_offset_s=3600)
    with pytest.raises(zeep_exceptions.Fault) as err:
        await connect(server)
    assert "NotAuthorized" in fault_subcodes(err.value)
    # adjust_time reads GetSystemDateAndTime (no credentials) and shifts its tokens.
    client = await connect(server, adjust_time=True)
    device = await client.create_devicemgmt_service()
    assert (await device.GetDeviceInformation()).Model == "CamSim"


async def test_small_skew_inside_window(start: Starter, connect: Any, camera: CameraInfo) -> None:
    server = await start(camera, clock_offset_s=-120)
    client = await connect(server)
    device = await client.create_devicemgmt_service()
    assert (await device.GetDeviceInformation()).Manufacturer == "ARGUS"


async def test_continuous_move_and_stop(start: Starter, connect: Any, camera: CameraInfo) -> None:
    client = await connect(await start(camera))
    ptz = await client.create_ptz_service()
    velocity = {"PanTilt": {"x": 1.0, "y": -0.5}, "Zoom": {"x": 0.0}}
    await ptz.ContinuousMove({"ProfileToken": "main", "Velocity": velocity, "Timeout": "PT10S"})
    await wait_until(lambda: camera.ptz.position()[0] > 0.1)
    status = await ptz.GetStatus({"ProfileToken": "main"})
    assert status.MoveStatus.PanTilt == "MOVING"
    assert status.Position.PanTilt.x > 0.1 and status.Position.PanTilt.y < 0
    await ptz.Stop({"ProfileToken": "main"})
    assert not camera.ptz.is_moving()
    stopped_at = camera.ptz.position()
    await asyncio.sleep(0.1)
    assert camera.ptz.position() == stopped_at
    status = await ptz.GetStatus({"ProfileToken": "main"})
    assert status.MoveStatus.PanTilt == "IDLE"


async def test_continuous_move_timeout_stops_by_itself(
    start: Starter, connect: Any, camera: CameraInfo
) -> None:
    client = await connect(await start(camera))
    ptz = await client.create_ptz_service()
    velocity = {"PanTilt": {"x": 0.0, "y": 0.0}, "Zoom": {"x": 1.0}}
    started = time.monotonic()
    await ptz.ContinuousMove({"ProfileToken": "main", "Velocity": velocity, "Timeout": "PT0.3S"})
    assert camera.ptz.is_moving()
    await wait_until(lambda: not camera.ptz.is_moving(), timeout_s=3.0)
    assert time.monotonic() - started >= 0.25
    # Zoom travels at half speed: 1.0 * 0.3 s / 2.
    assert camera.ptz.position()[2] == pytest.approx(0.15, abs=0.02)


async def test_absolute_and_relative_moves(
    start: Starter, connect: Any, camera: CameraInfo
) -> None:
    client = await connect(await start(camera))
    ptz = await client.create_ptz_service()
    position = {"PanTilt": {"x": 0.5, "y": -0.25}, "Zoom": {"x": 0.4}}
    await ptz.AbsoluteMove({"ProfileToken": "main", "Position": position})
    assert camera.ptz.position() == pytest.approx((0.5, -0.25, 0.4))
    translation = {"PanTilt": {"x": 0.1, "y": 0.1}, "Zoom": {"x": -0.1}}
    await ptz.RelativeMove({"ProfileToken": "main", "Translation": translation})
    assert camera.ptz.position() == pytest.approx((0.6, -0.15, 0.3))
    with pytest.raises(zeep_exceptions.Fault) as err:
        bad = {"PanTilt": {"x": 2.0, "y": 0.0}}
        await ptz.AbsoluteMove({"ProfileToken": "main", "Position": bad})
    assert "InvalidPosition" in fault_subcodes(err.value)


async def test_presets_round_trip(start: Starter, connect: Any, camera: CameraInfo) -> None:
    client = await connect(await start(camera))
    ptz = await client.create_ptz_service()
    await ptz.AbsoluteMove(
        {"ProfileToken": "main", "Position": {"PanTilt": {"x": -0.3, "y": 0.2}, "Zoom": {"x": 0.5}}}
    )
    token = await ptz.SetPreset({"ProfileToken": "main", "PresetName": "Gate"})
    presets = await ptz.GetPresets({"ProfileToken": "main"})
    assert [(p.token, p.Name) for p in presets] == [(token, "Gate")]
    assert presets[0].PTZPosition.PanTilt.x == pytest.approx(-0.3)
    assert camera.ptz.presets[token].zoom == pytest.approx(0.5)
    with pytest.raises(zeep_exceptions.Fault) as err:
        await ptz.SetPreset({"ProfileToken": "main", "PresetName": "Gate"})
    assert "PresetExist" in fault_subcodes(err.value)

    await ptz.AbsoluteMove(
        {"ProfileToken": "main", "Position": {"PanTilt": {"x": 0.9, "y": 0.9}, "Zoom": {"x": 0.0}}}
    )
    await ptz.GotoPreset({"ProfileToken": "main", "PresetToken": token})
    assert camera.ptz.position() == pytest.approx((-0.3, 0.2, 0.5))

    await ptz.RemovePreset({"ProfileToken": "main", "PresetToken": token})
    assert await ptz.GetPresets({"ProfileToken": "main"}) == []
    with pytest.raises(zeep_exceptions.Fault) as err:
        await ptz.GotoPreset({"ProfileToken": "main", "PresetToken": token})
    assert "NoToken" in fault_subcodes(err.value)


async def test_home_position(start: Starter, connect: Any, camera: CameraInfo) -> None:
    client = await connect(await start(camera))
    ptz = await client.create_ptz_service()
    home = {"PanTilt": {"x": 0.25, "y": 0.75}, "Zoom": {"x": 0.2}}
    await ptz.AbsoluteMove({"ProfileToken": "main", "Position": home})
    await ptz.SetHomePosition({"ProfileToken": "main"})
    assert camera.ptz.home == pytest.approx((0.25, 0.75, 0.2))
    await ptz.AbsoluteMove(
        {"ProfileToken": "main", "Position": {"PanTilt": {"x": -1, "y": -1}, "Zoom": {"x": 1}}}
    )
    await ptz.GotoHomePosition({"ProfileToken": "main"})
    assert camera.ptz.position() == pytest.approx((0.25, 0.75, 0.2))


async def test_ptz_nodes_and_configurations(
    start: Starter, connect: Any, camera: CameraInfo
) -> None:
    client = await connect(await start(camera))
    ptz = await client.create_ptz_service()
    nodes = await ptz.GetNodes()
    assert [n.token for n in nodes] == ["node0"]
    assert nodes[0].HomeSupported is True
    spaces = nodes[0].SupportedPTZSpaces
    assert spaces.ContinuousPanTiltVelocitySpace[0].XRange.Max == 1.0
    configs = await ptz.GetConfigurations()
    assert [(c.token, c.NodeToken) for c in configs] == [("ptzcfg0", "node0")]
    options = await ptz.GetConfigurationOptions({"ConfigurationToken": "ptzcfg0"})
    assert options.Spaces.AbsoluteZoomPositionSpace[0].XRange.Max == 1.0


async def test_camera_without_ptz(start: Starter, connect: Any) -> None:
    camera = CameraInfo(index=4, name="Fixed", has_ptz=False)
    client = await connect(await start(camera))
    assert "http://www.onvif.org/ver20/ptz/wsdl" not in client.xaddrs
    with pytest.raises(onvif.ONVIFError):
        await client.create_ptz_service()
    device = await client.create_devicemgmt_service()
    caps = await device.GetCapabilities({"Category": "All"})
    assert caps.PTZ is None
    media = await client.create_media_service()
    assert all(p.PTZConfiguration is None for p in await media.GetProfiles())


async def test_offline_camera_is_unreachable(
    start: Starter, connect: Any, camera: CameraInfo
) -> None:
    server = await start(camera)
    client = await connect(server)
    device = await client.create_devicemgmt_service()
    camera.faults.offline_until = time.monotonic() + 60
    with pytest.raises(Exception) as err:  # zeep TransportError: HTTP 503, no SOAP body
        await device.GetDeviceInformation()
    assert "503" in str(err.value)
    camera.faults.offline_until = 0.0
    assert (await device.GetDeviceInformation()).Model == "CamSim"
