"""The live viewers' RTP path: shared packetization, batched UDP sends, NACK answered by RTX."""

from __future__ import annotations

import asyncio
import os
import struct
from typing import Any

import httpx
import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.rtcrtpparameters import RTCRtpHeaderExtensionParameters, RTCRtpParameters
from aiortc.rtp import HeaderExtensionsMap, RtpPacket
from streaming_support import World
from whep_client import whep_close, whep_connect

from argus_common.rtsp.depay import H264Depacketizer
from argus_common.rtsp.frames import AccessUnit
from argus_common.rtsp.packetize import MAX_PAYLOAD, packetize, packetize_annexb
from argus_streaming.webrtc import udp
from argus_streaming.webrtc.sdp import PLAYOUT_DELAY_URI, add_video_extmap, video_extmap_id
from argus_streaming.webrtc.sender import add_extension, playout_delay
from argus_streaming.webrtc.udp import DatagramOut

ABS_SEND_TIME = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time"
MID = "urn:ietf:params:rtp-hdrext:sdes:mid"

SPS = bytes.fromhex("6764000dacb202833f3c20000003002000000791")
PPS = bytes.fromhex("68ebc3cb22c0")


def _nal(kind: int, size: int, seed: int = 0) -> bytes:
    body = bytes((seed + i * 7) % 251 + 1 for i in range(size - 1))
    return bytes([0x60 | kind]) + body


def _roundtrip(nals: list[bytes]) -> list[bytes] | None:
    depay = H264Depacketizer()
    payloads = packetize(nals)
    out = None
    for i, p in enumerate(payloads):
        out = depay.push(100 + i, 9000, i == len(payloads) - 1, p)
    return out


@pytest.mark.parametrize("nals", [
    [SPS, PPS, _nal(5, 40)],                            # one STAP-A
    [SPS, PPS, _nal(5, 20_000)],                        # STAP-A, then FU-A
    [_nal(1, MAX_PAYLOAD)],                             # exactly one packet
    [_nal(1, MAX_PAYLOAD + 1)],                         # the smallest FU-A
    [_nal(6, 30), _nal(1, 5000, 1), _nal(1, 3000, 2)],  # SEI and two slices
    [_nal(1, 900, 3), _nal(1, 900, 4)],                 # too big to aggregate
])
def test_packetize_roundtrips_through_the_depacketizer(nals: list[bytes]) -> None:
    assert _roundtrip(nals) == nals
    assert all(len(p) <= MAX_PAYLOAD for p in packetize(nals))


def test_fu_a_fragments_are_equal_but_the_last() -> None:
    payloads = packetize([_nal(5, 10_000)])
    assert len(payloads) == 9
    assert {len(p) for p in payloads[:-1]} == {MAX_PAYLOAD}
    assert len(payloads[-1]) < MAX_PAYLOAD
    assert payloads[0][1] & 0x80 and payloads[-1][1] & 0x40  # start and end bits


def test_small_units_share_one_stap_a() -> None:
    [payload] = packetize([SPS, PPS, _nal(5, 40)])
    assert payload[0] & 0x1F == 24
    assert packetize([PPS]) == [PPS]  # a lone NAL goes as a single NAL unit packet


def test_access_unit_packetizes_once() -> None:
    unit = AccessUnit("video", b"\x00\x00\x00\x01" + SPS + b"\x00\x00\x01" + _nal(5, 3000),
                      0, True, 0)
    first = unit.rtp_payloads()
    assert unit.rtp_payloads() is first
    assert first == packetize_annexb(unit.data)


class _Sink(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.got: list[bytes] = []
        self.event = asyncio.Event()

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.got.append(data)
        self.event.set()


async def _send_and_receive(datagrams: list[bytes]) -> tuple[list[bytes], int]:
    loop = asyncio.get_running_loop()
    rx, sink = await loop.create_datagram_endpoint(_Sink, local_addr=("127.0.0.1", 0))
    tx, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                local_addr=("127.0.0.1", 0))
    out = DatagramOut(tx, rx.get_extra_info("sockname"))
    try:
        out.send(datagrams)
        async with asyncio.timeout(5):
            while len(sink.got) < len(datagrams):
                sink.event.clear()
                await sink.event.wait()
        return sink.got, out.syscalls
    finally:
        out.close()
        tx.close()
        rx.close()


def _frame(sizes: list[int]) -> list[bytes]:
    return [struct.pack("!H", i) + os.urandom(n - 2) for i, n in enumerate(sizes)]


async def test_equal_datagrams_leave_in_one_gso_send() -> None:
    datagrams = _frame([1222] * 12 + [500])
    got, syscalls = await _send_and_receive(datagrams)
    assert got == datagrams  # cut back into the same datagrams, in order
    assert syscalls == 1


async def test_mixed_sizes_and_long_runs_keep_their_order() -> None:
    datagrams = _frame([90] + [1222] * 100 + [700, 60, 60])
    got, syscalls = await _send_and_receive(datagrams)
    assert got == datagrams
    assert syscalls < len(datagrams) // 10


async def test_without_gso_each_datagram_is_sent_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(udp, "_gso_enabled", False)
    datagrams = _frame([1222] * 5 + [300])
    got, syscalls = await _send_and_receive(datagrams)
    assert got == datagrams
    assert syscalls == len(datagrams)


class _RelayTransport:
    """Stands in for aioice's TURN transport: no socket of its own, only ``sendto``."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes, tuple[str, int]]] = []

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    def sendto(self, data: bytes, addr: tuple[str, int]) -> None:
        self.sent.append((data, addr))


def test_a_transport_without_a_socket_gets_every_datagram_through_sendto() -> None:
    relay = _RelayTransport()
    out = DatagramOut(relay, ("192.0.2.7", 5000))
    datagrams = _frame([1222] * 4 + [100])
    out.send(datagrams)
    out.close()
    assert relay.sent == [(d, ("192.0.2.7", 5000)) for d in datagrams]


async def test_a_lost_packet_is_retransmitted_over_rtx(
    world: World, client: httpx.AsyncClient
) -> None:
    """The browser-side NACK of a dropped packet is answered with that packet over RTX."""
    headers = world.auth()
    resp, viewer = await whep_connect(client, f"/whep/{world.camera_id}", headers)
    assert resp.status_code == 201, resp.text
    assert viewer is not None
    dtls = viewer.pc.getTransceivers()[0].receiver.transport
    original = dtls._handle_rtp_data
    state: dict[str, Any] = {"seen": 0, "dropped": None, "rtx_osn": []}
    recovered = asyncio.Event()

    async def lossy(data: bytes, arrival_time_ms: int) -> None:
        packet = RtpPacket.parse(data, dtls._rtp_header_extensions_map)
        if packet.payload_type != world_video_pt(viewer.answer):
            if len(packet.payload) >= 2:  # RTX: the original sequence number comes first
                osn = struct.unpack_from("!H", packet.payload)[0]
                state["rtx_osn"].append(osn)
                if osn == state["dropped"]:
                    recovered.set()
        else:
            state["seen"] += 1
            if state["seen"] == 60 and state["dropped"] is None:
                state["dropped"] = packet.sequence_number
                return  # lost on the way
        await original(data, arrival_time_ms=arrival_time_ms)

    dtls._handle_rtp_data = lossy
    try:
        await viewer.frames(10, timeout_s=15)
        await asyncio.wait_for(recovered.wait(), 15)
        # Frames keep arriving after the recovery.
        assert len(await viewer.frames(10, timeout_s=15)) == 10
    finally:
        assert await whep_close(client, viewer, headers) == 200
    assert state["dropped"] in state["rtx_osn"]


def world_video_pt(answer: str) -> int:
    """The payload type of H.264 in an SDP answer."""
    for line in answer.splitlines():
        if line.startswith("a=rtpmap:") and "H264/90000" in line:
            return int(line.split(":", 1)[1].split()[0])
    raise AssertionError("no H.264 in the answer")


def _one_byte_extensions(packet: bytes) -> dict[int, bytes]:
    """The one-byte header extension elements of an RTP packet (no CSRCs)."""
    if not packet[0] & 0x10 or packet[12:14] != b"\xbe\xde":
        return {}
    words = struct.unpack_from("!H", packet, 14)[0]
    block, out, i = packet[16:16 + 4 * words], {}, 0
    while i < len(block):
        if block[i] == 0:
            i += 1
            continue
        ext_id, size = block[i] >> 4, (block[i] & 0x0F) + 1
        out[ext_id] = block[i + 1:i + 1 + size]
        i += 1 + size
    return out


def test_an_extension_is_added_after_the_existing_ones() -> None:
    packet = RtpPacket(payload_type=102, sequence_number=7, timestamp=1234, ssrc=99)
    packet.extensions.abs_send_time = 0x123400  # ends in a zero byte: not padding
    packet.extensions.mid = "0"
    ext_map = HeaderExtensionsMap()
    ext_map.configure(RTCRtpParameters(headerExtensions=[
        RTCRtpHeaderExtensionParameters(id=2, uri=ABS_SEND_TIME),
        RTCRtpHeaderExtensionParameters(id=9, uri=MID)]))
    header = packet.serialize(ext_map)
    out = add_extension(header, 5, playout_delay(0))
    assert _one_byte_extensions(out) == {2: b"\x12\x34\x00", 9: b"0", 5: b"\x00\x00\x00"}
    assert out[:12] == header[:12]
    parsed = RtpPacket.parse(out + b"payload", ext_map)
    assert (parsed.sequence_number, parsed.payload) == (7, b"payload")
    assert parsed.extensions.abs_send_time == 0x123400
    bare = RtpPacket(payload_type=102).serialize(HeaderExtensionsMap())
    assert _one_byte_extensions(add_extension(bare, 5, playout_delay(120))) == {
        5: bytes.fromhex("00000c")}


def test_the_playout_delay_extmap_is_answered_only_when_offered() -> None:
    offer = ("v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=extmap:5 " + PLAYOUT_DELAY_URI +
             "\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=extmap:4 x\r\n"
             "a=extmap:7/recvonly " + PLAYOUT_DELAY_URI + "\r\n")
    assert video_extmap_id(offer, PLAYOUT_DELAY_URI) == 7
    assert video_extmap_id(offer.replace("a=extmap:7/recvonly", "a=extmap:15"),
                           PLAYOUT_DELAY_URI) is None  # a two-byte id
    answer = "v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:1\r\na=extmap:4 x\r\na=end\r\n"
    assert add_video_extmap(answer, 7, PLAYOUT_DELAY_URI).splitlines() == [
        "v=0", "m=video 9 UDP/TLS/RTP/SAVPF 96", "a=mid:1", "a=extmap:4 x",
        f"a=extmap:7 {PLAYOUT_DELAY_URI}", "a=end"]


async def test_live_packets_carry_the_playout_delay_the_browser_offered(
    world: World, client: httpx.AsyncClient
) -> None:
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    pc.addTransceiver("video", direction="recvonly")
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp.replace(
        "a=mid:0\r\n", f"a=mid:0\r\na=extmap:13 {PLAYOUT_DELAY_URI}\r\n", 1)
    assert offer != pc.localDescription.sdp
    resp = await client.post(f"/whep/{world.camera_id}", content=offer.encode(),
                             headers={**world.auth(), "Content-Type": "application/sdp"})
    assert resp.status_code == 201, resp.text
    assert f"a=extmap:13 {PLAYOUT_DELAY_URI}" in resp.text.splitlines()
    seen: list[bytes | None] = []
    got = asyncio.Event()
    try:
        await pc.setRemoteDescription(RTCSessionDescription(resp.text, "answer"))
        dtls = pc.getTransceivers()[0].receiver.transport
        original = dtls._handle_rtp_data

        async def inspect(data: bytes, arrival_time_ms: int) -> None:
            seen.append(_one_byte_extensions(data).get(13))
            if len(seen) >= 20:
                got.set()
            await original(data, arrival_time_ms=arrival_time_ms)

        dtls._handle_rtp_data = inspect
        await asyncio.wait_for(got.wait(), 15)
    finally:
        await client.delete(resp.headers["location"], headers=world.auth())
        await pc.close()
    assert set(seen[:20]) == {b"\x00\x00\x00"}  # minimum 0, maximum 0: show when decoded
