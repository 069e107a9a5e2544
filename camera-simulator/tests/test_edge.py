"""Edge storage and ONVIF Profile G on the simulator: the camera keeps recording through a
``network_down`` fault, its recording is found with Recording Search and replayed over RTSP
with ONVIF's replay extensions, faster than real time, each frame carrying its capture time
(the 0xABAC header extension) equal to its burnt-in stamp."""

from __future__ import annotations

import asyncio
import itertools
import re
import struct
import time
from collections.abc import Callable, Iterator
from typing import Any

import av
import httpx
import pytest

from argus_camsim.edge.replay import format_clock, parse_range
from argus_camsim.stamp import read_timestamp_ms
from argus_common.rtsp.client import RtspClient
from argus_common.rtsp.depay import H264Depacketizer, H264Unit
from argus_common.rtsp.errors import RtspError
from argus_testkit.ports import free_port

NTP_EPOCH = 2_208_988_800
SEARCH = "http://www.onvif.org/ver10/search/wsdl"
REPLAY = "http://www.onvif.org/ver10/replay/wsdl"


@pytest.fixture(scope="module")
def sim(camsim_launcher: Callable[..., Any]) -> Iterator[Any]:
    sim = camsim_launcher(
        "--cameras",
        "2",
        "--resolution",
        "320x180",
        "--edge-minutes",
        "1",
        "--onvif-port",
        str(free_port()),
    )
    yield sim
    sim.stop()


def soap(body: str) -> str:
    return (
        '<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope">'
        f"<s:Body>{body}</s:Body></s:Envelope>"
    )


async def call(sim: Any, cam: str, service: str, body: str) -> httpx.Response:
    url = f"http://127.0.0.1:{sim.onvif_ports[cam]}/onvif/{service}"
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, content=soap(body))


def field(xml: str, name: str) -> str:
    match = re.search(rf"<(?:\w+:)?{name}>([^<]*)</", xml)
    assert match, f"{name} not in {xml[-500:]}"
    return match.group(1)


class Replay:
    """A replay client: every unit with the NTP time and flags of its last packet."""

    def __init__(self, uri: str) -> None:
        self.units: list[tuple[H264Unit, int, int]] = []
        self._ntp = (0, 0)
        self._depay = H264Depacketizer(self._unit, channel=0)
        self.client = RtspClient(uri, on_rtp=self._rtp)
        self.bye = asyncio.Event()

    def _rtp(self, channel: int, pkt: bytes) -> None:
        if channel == 1 and len(pkt) > 1 and pkt[1] == 203:
            self.bye.set()
        if channel != 0:
            return
        assert pkt[0] & 0x10, "a replay packet without the header extension"
        profile, words, sec, frac, flags = struct.unpack_from("!HHIIB", pkt, 12)
        assert (profile, words) == (0xABAC, 3)
        self._ntp = ((sec - NTP_EPOCH) * 1000 + ((frac * 1000 + (1 << 31)) >> 32), flags)
        self._depay(channel, pkt)

    def _unit(self, unit: H264Unit) -> None:
        self.units.append((unit, *self._ntp))

    async def play(self, start_ms: int, end_ms: int, **headers: str) -> dict[str, list[str]]:
        await self.client.setup()
        resp = await self.client.request(
            "PLAY",
            None,
            {
                "Require": "onvif-replay",
                "Range": f"clock={format_clock(start_ms)}-{format_clock(end_ms)}",
                **headers,
            },
        )
        assert resp.status == 200, resp.status
        return resp.headers


def decode_stamps(units: list[tuple[H264Unit, int, int]]) -> list[tuple[int | None, int]]:
    codec = av.CodecContext.create("h264", "r")
    out: list[tuple[int | None, int]] = []
    for unit, ntp, _flags in units:
        data = b"".join(
            b"\x00\x00\x00\x01"
            + unit.data[i + 4 : i + 4 + int.from_bytes(unit.data[i : i + 4], "big")]
            for i in _offsets(unit.data)
        )
        for frame in codec.decode(av.Packet(data)):
            y = frame.to_ndarray(format="gray")
            out.append((read_timestamp_ms(y, frame.width, frame.height), ntp))
    return out


def _offsets(avcc: bytes) -> Iterator[int]:
    i = 0
    while i + 4 <= len(avcc):
        yield i
        i += 4 + int.from_bytes(avcc[i : i + 4], "big")


def test_range_header() -> None:
    assert parse_range("clock=20261205T174700.123Z-20261205T174701Z") == (
        1796492820123,
        1796492821000,
    )
    assert parse_range("clock=20261205T174700Z-")[1] is None
    with pytest.raises(ValueError):
        parse_range("npt=0-")


async def test_services_and_search(sim: Any) -> None:
    await asyncio.sleep(2)  # some recording
    services = await call(
        sim,
        "cam1",
        "device_service",
        '<GetServices xmlns="http://www.onvif.org/ver10/device/wsdl">'
        "<IncludeCapability>false</IncludeCapability></GetServices>",
    )
    assert SEARCH in services.text and REPLAY in services.text
    found = await call(
        sim, "cam1", "search_service", f'<FindRecordings xmlns="{SEARCH}"><Scope/></FindRecordings>'
    )
    token = field(found.text, "SearchToken")
    results = await call(
        sim,
        "cam1",
        "search_service",
        f'<GetRecordingSearchResults xmlns="{SEARCH}">'
        f"<SearchToken>{token}</SearchToken></GetRecordingSearchResults>",
    )
    assert field(results.text, "RecordingToken") == "cam1-edge"
    assert field(results.text, "SearchState") == "Completed"
    again = await call(
        sim,
        "cam1",
        "search_service",
        f'<GetRecordingSearchResults xmlns="{SEARCH}">'
        f"<SearchToken>{token}</SearchToken></GetRecordingSearchResults>",
    )
    assert again.status_code == 400  # the token is used up
    summary = await call(sim, "cam1", "search_service", f'<GetRecordingSummary xmlns="{SEARCH}"/>')
    assert field(summary.text, "NumberRecordings") == "1"


async def test_network_down_keeps_edge_recording_and_replay_fills_it(sim: Any) -> None:
    await asyncio.sleep(2)
    down_at = int(time.time() * 1000)
    resp = await sim.apost("/faults/cam2", {"network_down": True})
    assert resp.json()["applied"] == {"network_down": True}
    refused = await call(sim, "cam2", "search_service", f'<GetRecordingSummary xmlns="{SEARCH}"/>')
    assert refused.status_code == 503
    with pytest.raises(RtspError):
        probe = RtspClient(sim.url(2), connect_timeout_s=2, request_timeout_s=2)
        try:
            await probe.describe()
        finally:
            await probe.close()
    await asyncio.sleep(4)
    up_at = int(time.time() * 1000)
    await sim.apost("/faults/cam2", {"network_down": False})
    uri = field(
        (
            await call(
                sim,
                "cam2",
                "replay_service",
                f'<GetReplayUri xmlns="{REPLAY}"><StreamSetup/>'
                "<RecordingToken>cam2-edge</RecordingToken></GetReplayUri>",
            )
        ).text,
        "Uri",
    )
    assert uri.endswith("/cam2/replay")
    replay = Replay(uri)
    try:
        headers = await replay.play(down_at, up_at, Scale="4", **{"Rate-Control": "no"})
        assert headers["rate-control"] == ["no"]
        async with asyncio.timeout(30):
            await replay.bye.wait()
    finally:
        await replay.client.close()
    units = replay.units
    assert units and units[0][0].key and units[0][2] & 0x80  # starts at a clean point
    assert units[0][1] <= down_at < units[0][1] + 1100  # the keyframe at or before the start
    assert units[-1][1] < up_at and units[-1][2] & 0x40  # the last unit carries E
    times = [ntp for _u, ntp, _f in units]
    holes = [(a, b - a) for a, b in itertools.pairwise(times) if b - a >= 200]
    assert not holes, (holes, times[0], times[-1], down_at, up_at)
    assert up_at - down_at - (times[-1] - times[0]) < 300
    stamps = decode_stamps(units)
    assert len(stamps) >= len(units) - 2
    assert all(stamp == ntp for stamp, ntp in stamps), stamps[:5]


async def test_replay_needs_the_require_header(sim: Any) -> None:
    client = RtspClient(sim.url(1, "replay"))
    try:
        await client.setup()
        now = int(time.time() * 1000)
        resp = await client.request("PLAY", None, {"Range": f"clock={format_clock(now - 2000)}-"})
        assert resp.status == 551
        bad = await client.request("PLAY", None, {"Require": "onvif-replay", "Range": "npt=0-"})
        assert bad.status == 457
    finally:
        await client.close()
