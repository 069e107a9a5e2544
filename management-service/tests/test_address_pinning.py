"""Address pinning against DNS rebinding (issue 16, finding 6): the RTSP client (streaming's
live sources, the recorder's ingest, the liveness probe) and management's ONVIF connections
(PTZ, device calls) connect to the address their host check accepted, while the RTSP URL and
the HTTP ``Host`` keep the name as given.

No DNS server can run here, so the rebinding name is made in-process: ``socket.getaddrinfo``
is wrapped so that one test name answers the camera simulator's address first and another
address afterwards (every resolver in the process -- asyncio's, aiohttp's, the host check's --
goes through it). The "other address" is 127.0.0.2, outside ``CAMERA_ALLOWED_NETWORKS`` and
with a listener that records whether anything reached it, or the link-local metadata address.
Normal cameras, by IP and by the name ``localhost``, still work against the simulator.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from argus_common.addresses import check_host
from argus_common.errors import ArgusError
from argus_common.rtsp import RtspClient, RtspUnreachable
from argus_management.onvif import pinning
from argus_management.onvif.device import OnvifDevice

from factories.onvif_sim import SIM_PASSWORD, SIM_USER, OnvifSim, launch_onvif

REBIND = "cam.rebind.test"
LOOPBACK_ONLY = [ipaddress.ip_network("127.0.0.1/32")]


class RebindingDns:
    """``socket.getaddrinfo`` where ``REBIND`` answers ``answers`` in turn (the last one
    for ever after); every other name goes to the real resolver."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.answers: list[str | tuple[str, ...]] = []
        self.calls = 0

    def __call__(self, host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host in (REBIND, REBIND.encode()):
            answer = self.answers[min(self.calls, len(self.answers) - 1)]
            self.calls += 1
            addresses = answer if isinstance(answer, tuple) else (answer,)
            return [info for a in addresses for info in self.real(a, port, *args, **kwargs)]
        return self.real(host, port, *args, **kwargs)


@pytest.fixture
def dns(monkeypatch: pytest.MonkeyPatch) -> RebindingDns:
    fake = RebindingDns(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture(scope="module")
def sim() -> Iterator[OnvifSim]:
    s = launch_onvif(cameras=1)
    yield s
    s.stop()


async def _listener(port: int) -> tuple[asyncio.Server, list[bytes]]:
    """An "attacker" on 127.0.0.2:``port`` that records the first bytes of each connection."""
    seen: list[bytes] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            seen.append(await asyncio.wait_for(reader.read(200), 5) or b"(connected)")
        except TimeoutError:
            seen.append(b"(connected)")
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.2", port), seen


@pytest.fixture
async def attacker_rtsp(sim: OnvifSim) -> AsyncIterator[list[bytes]]:
    server, seen = await _listener(sim.sim.rtsp_port)
    yield seen
    server.close()
    await server.wait_closed()


@pytest.fixture
async def attacker_onvif(sim: OnvifSim) -> AsyncIterator[list[bytes]]:
    server, seen = await _listener(sim.onvif_ports["cam1"])
    yield seen
    server.close()
    await server.wait_closed()


def _rtsp(sim: OnvifSim, host: str, **kwargs: Any) -> RtspClient:
    return RtspClient(
        f"rtsp://{host}:{sim.sim.rtsp_port}/cam1/main",
        username=SIM_USER,
        password=SIM_PASSWORD,
        connect_timeout_s=3,
        request_timeout_s=5,
        keepalive=False,
        **kwargs,
    )


async def test_rtsp_connects_to_the_address_it_checked(
    sim: OnvifSim, dns: RebindingDns, attacker_rtsp: list[bytes]
) -> None:
    # Saved while it resolved to the camera (management's check), then rebound.
    dns.answers = ["127.0.0.1", "127.0.0.2"]
    assert await check_host(REBIND, LOOPBACK_ONLY)
    client = _rtsp(sim, REBIND, allowed_networks=LOOPBACK_ONLY)
    with pytest.raises(RtspUnreachable, match="outside CAMERA_ALLOWED_NETWORKS"):
        await client.describe()
    client.abort()
    assert attacker_rtsp == []  # nothing was sent to the rebound address


async def test_rtsp_does_not_resolve_again_for_the_connection(
    sim: OnvifSim, dns: RebindingDns, attacker_rtsp: list[bytes]
) -> None:
    dns.answers = ["127.0.0.1", "127.0.0.2"]
    client = _rtsp(sim, REBIND)  # no networks configured: only the forbidden ranges
    try:
        response = await client.describe()
    finally:
        client.abort()
    assert response.status == 200
    assert dns.calls == 1 and attacker_rtsp == []
    assert client.url.startswith(f"rtsp://{REBIND}:")  # the URL keeps the name


async def test_rtsp_tries_each_checked_address_in_turn(sim: OnvifSim, dns: RebindingDns) -> None:
    dns.answers = [("127.0.0.3", "127.0.0.1")]  # nothing listens on the first one
    client = _rtsp(sim, REBIND)
    try:
        assert (await client.describe()).status == 200
    finally:
        client.abort()
    dns.answers = [("127.0.0.1", "169.254.169.254")]  # one bad address refuses the name
    dns.calls = 0
    client = _rtsp(sim, REBIND)
    with pytest.raises(RtspUnreachable, match="link-local"):
        await client.describe()
    client.abort()


async def test_rtsp_refuses_a_name_rebound_to_the_metadata_address(
    sim: OnvifSim, dns: RebindingDns
) -> None:
    dns.answers = ["169.254.169.254"]
    client = _rtsp(sim, REBIND)
    with pytest.raises(RtspUnreachable, match="link-local hosts are not allowed"):
        await client.describe()
    client.abort()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_rtsp_cameras_by_ip_and_by_localhost_still_work(sim: OnvifSim, host: str) -> None:
    client = _rtsp(sim, host)
    try:
        tracks = await client.setup()
        await client.play()
    finally:
        await client.close()
    assert tracks and tracks[0].sdp.codec.upper() == "H264"


@pytest.fixture
def onvif_networks() -> Iterator[None]:
    pinning.configure(lambda: LOOPBACK_ONLY)
    yield
    pinning.configure(lambda: None)


async def test_onvif_connects_to_the_address_it_checked(
    sim: OnvifSim, dns: RebindingDns, attacker_onvif: list[bytes], onvif_networks: None
) -> None:
    # The camera row was saved while the name resolved to the camera; it now resolves to
    # another host, which must never receive the signed SOAP requests.
    dns.answers = ["127.0.0.1", "127.0.0.2"]
    assert await check_host(REBIND, LOOPBACK_ONLY)
    device = OnvifDevice(
        REBIND,
        sim.onvif_ports["cam1"],
        SIM_USER,
        SIM_PASSWORD,
        connect_timeout_s=3,
        read_timeout_s=3,
    )
    try:
        with pytest.raises(ArgusError) as refused:  # the translated connection error
            await device.device_info()
    finally:
        await device.close()
    assert attacker_onvif == []
    assert dns.calls >= 2  # resolved again at connection time, and refused there
    assert refused.value.detail == "camera host refused: host is outside CAMERA_ALLOWED_NETWORKS"


async def test_onvif_by_a_name_uses_the_checked_address(
    sim: OnvifSim, dns: RebindingDns, attacker_onvif: list[bytes]
) -> None:
    dns.answers = ["127.0.0.1"]
    device = OnvifDevice(
        REBIND,
        sim.onvif_ports["cam1"],
        SIM_USER,
        SIM_PASSWORD,
        connect_timeout_s=5,
        read_timeout_s=5,
    )
    try:
        info = await device.device_info()
        await device.status()
    finally:
        await device.close()
    assert info.manufacturer and attacker_onvif == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_onvif_cameras_by_ip_and_by_localhost_still_work(sim: OnvifSim, host: str) -> None:
    device = OnvifDevice(
        host, sim.onvif_ports["cam1"], SIM_USER, SIM_PASSWORD, connect_timeout_s=5, read_timeout_s=5
    )
    try:
        assert (await device.device_info()).manufacturer
        assert await device.profiles()
    finally:
        await device.close()
