"""Property-based tests of the recorder's RTP assembler (``rtp_au``: the shared H.264
depacketizer ``argus_common.rtsp.depay`` in MP4 mode, plus AAC/Opus): access units
packetized at any MTU and interleaved over a TCP stream cut anywhere come out as the same
MP4 samples, and the same depacketizer in Annex-B mode (the live path) as the same Annex-B
units; lost packets never give a picture short of slices; garbage RTP and audio payloads
never raise.
"""

from __future__ import annotations

import asyncio
import struct
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from argus_common.h264 import split_annexb, to_annexb
from argus_common.rtsp.depay import H264Depacketizer
from argus_common.rtsp.packetize import packetize
from argus_common.rtsp.protocol import RtspProtocol
from argus_recording.rtp_au import AuAssembler, AudioAU, VideoAU

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=10), database=None,
                suppress_health_check=[HealthCheck.too_slow])


def escape(rbsp: bytes) -> bytes:
    """Emulation prevention (7.4.1): no 00 00 0x (x <= 3) inside a NAL unit."""
    out = bytearray()
    zeros = 0
    for b in rbsp:
        if zeros >= 2 and b <= 3:
            out.append(3)
            zeros = 0
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def ue(value: int) -> str:
    """Exp-Golomb bits of ``value``."""
    code = bin(value + 1)[2:]
    return "0" * (len(code) - 1) + code


@st.composite
def slice_nal(draw: st.DrawFn, idr: bool, first_mb: int) -> bytes:
    bits = ue(first_mb) + ue(draw(st.sampled_from([0, 2, 5, 7] if idr else [0, 1, 5])))
    bits += "1" + "0" * (-(len(bits) + 1) % 8)
    head = bytes(int(bits[i:i + 8], 2) for i in range(0, len(bits), 8))
    return bytes([0x65 if idr else 0x41]) + escape(head + draw(st.binary(max_size=700))) + b"\x80"


SPS = bytes.fromhex("6764000dacb202833f3c20000003002000000791")
PPS = bytes.fromhex("68ebc3cb22c0")


@st.composite
def pictures(draw: st.DrawFn) -> list[bytes]:
    """An access unit as cameras send it: optional delimiter, parameter sets (before an
    IDR) and SEI, then the slices of one picture, the first at macroblock 0."""
    idr = draw(st.booleans())
    nals = [b"\x09\xf0"] if draw(st.booleans()) else []
    if idr and draw(st.booleans()):
        nals += [SPS, PPS]
    if draw(st.booleans()):
        nals.append(b"\x06\x05" + escape(draw(st.binary(max_size=40))) + b"\x80")
    firsts = [0, *sorted(draw(st.sets(st.integers(1, 3600), max_size=3)))]
    return nals + [draw(slice_nal(idr, mb)) for mb in firsts]


def rtp(seq: int, ts: int, marker: bool, payload: bytes, csrcs: int = 0) -> bytes:
    head = struct.pack("!BBHII", 0x80 | csrcs, (0x80 if marker else 0) | 96, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, 0x1234)
    return head + b"\0\0\0\1" * csrcs + payload


def interleave(channel: int, packet: bytes) -> bytes:
    return b"$" + bytes([channel]) + struct.pack("!H", len(packet)) + packet


def sample(nals: list[bytes], annexb: bool = False) -> bytes:
    """The MP4 (AVCC) sample of an access unit, or its Annex-B form."""
    if annexb:
        return to_annexb(nals)
    return b"".join(len(n).to_bytes(4, "big") + n for n in nals)


def last_of(nals: list[bytes], kind: int) -> bytes | None:
    found = [n for n in nals if n[0] & 0x1F == kind]
    return found[-1] if found else None


mtus = st.one_of(st.integers(3, 40), st.integers(41, 1500))


class Collector:
    def __init__(self) -> None:
        self.video: list[VideoAU] = []
        self.audio: list[AudioAU] = []

    def assembler(self, audio_codec: str | None = None,
                  annexb: bool = False) -> H264Depacketizer:
        """The recorder's assembler, or the shared depacketizer alone in Annex-B mode (the
        live path's; it sees only the video channel)."""
        if annexb:
            return H264Depacketizer(self.video.append, channel=0, annexb=True,
                                    slice_heads=True)
        return AuAssembler(0, 2, audio_codec, self.video.append, self.audio.append)


@FUZZ
@given(st.lists(pictures(), min_size=1, max_size=6), mtus, st.integers(0, 0xFFFF),
       st.integers(0, 0xFFFFFFFF), st.lists(st.integers(1, 100_000), min_size=6, max_size=6),
       st.lists(st.sampled_from([0, 0, 0, 1, 3]), min_size=1), st.lists(st.floats(0, 1),
                                                                        max_size=10),
       st.booleans())
def test_units_survive_packetizing_and_any_tcp_split(
        units: list[list[bytes]], mtu: int, seq: int, ts: int, steps: list[int],
        csrcs: list[int], cuts: list[float], annexb: bool) -> None:
    """Packetized at any MTU (some packets with CSRCs), RTCP between them, the TCP stream
    cut anywhere: one sample per unit, its bytes, keyframe flag, in-band SPS/PPS and
    unwrapped timestamp as they went in; in Annex-B mode the same units, and the header
    of every slice."""
    wire, stamps, rel, n = bytearray(), [], 0, 0
    for i, nals in enumerate(units):
        if i:
            ts, rel = ts + steps[i - 1], rel + steps[i - 1]
        stamps.append(rel)
        payloads = packetize(nals, mtu)
        for j, payload in enumerate(payloads):
            wire += interleave(0, rtp(seq, ts, j == len(payloads) - 1, payload,
                                      csrcs[n % len(csrcs)]))
            wire += interleave(1, b"\x81\xc8\x00\x06" + bytes(24)) if n % 3 == 1 else b""
            seq, n = seq + 1, n + 1
    got = Collector()

    async def main() -> None:
        assembler = got.assembler(annexb=annexb)
        proto = RtspProtocol(assembler)
        start = 0
        for cut in [*sorted(int(c * len(wire)) for c in cuts), len(wire)]:
            if cut > start:
                proto.data_received(bytes(wire[start:cut]))
                start = cut
        assert assembler.lost == 0 and not proto.buffer

    asyncio.run(main())
    assert [u.data for u in got.video] == [sample(nals, annexb) for nals in units]
    if annexb:
        assert [u.slice_heads for u in got.video] == [
            [n[:33] for n in u if n[0] & 0x1F in (1, 5)] for u in units]
    assert [u.key for u in got.video] == [any(n[0] & 0x1F == 5 for n in u) for u in units]
    assert [(u.sps, u.pps) for u in got.video] == [(last_of(u, 7), last_of(u, 8)) for u in units]
    assert [u.ts for u in got.video] == stamps


@FUZZ
@given(st.lists(pictures(), min_size=2, max_size=6), mtus, st.data(), st.booleans())
def test_a_lost_packet_never_gives_a_broken_picture(
        units: list[list[bytes]], mtu: int, data: st.DataObject, annexb: bool) -> None:
    """Drop any packets after the first: every sample written (or Annex-B unit sent) holds
    every slice of a unit that went in (leading delimiter, parameter sets or SEI may be
    missing), in order."""
    packets: list[bytes] = []
    for i, nals in enumerate(units):
        payloads = packetize(nals, mtu)
        for j, payload in enumerate(payloads):
            packets.append(rtp(len(packets), 3000 * i, j == len(payloads) - 1, payload))
    if len(packets) < 2:
        return
    drop = data.draw(st.sets(st.integers(1, len(packets) - 1), min_size=1))
    got = Collector()
    assembler = got.assembler(annexb=annexb)
    for i, p in enumerate(packets):
        if i not in drop:
            assembler(0, p)
    it = iter(units)
    for unit in got.video:
        assert any(sample(u, annexb).endswith(unit.data)
                   and [n for n in u if n[0] & 0x1F in (1, 5)] == slices(unit.data, annexb)
                   for u in it), ("not a whole picture", unit.data)


def slices(data: bytes, annexb: bool = False) -> list[bytes]:
    """The coded slices of a sample (or of an Annex-B unit)."""
    if annexb:
        return [n for n in split_annexb(data) if n[0] & 0x1F in (1, 5)]
    out, i = [], 0
    while i + 4 <= len(data):
        size = int.from_bytes(data[i:i + 4], "big")
        if data[i + 4] & 0x1F in (1, 5):
            out.append(data[i + 4:i + 4 + size])
        i += 4 + size
    return out


def test_a_gap_over_the_start_of_a_unit_drops_it() -> None:
    """Regression (found by the property above): the marker packet of one unit and the
    first packet of the next lost; the next one's remaining slice is not a whole picture."""
    mb0 = b"\x41\x9a" + bytes(20) + b"\x80"  # first_mb_in_slice 0
    mb23 = b"\x41\x0c\x00" + bytes(20) + b"\x80"  # first_mb_in_slice 23
    for annexb in (False, True):
        got = Collector()
        assembler = got.assembler(annexb=annexb)
        for p in (rtp(1, 0, False, b"\x09\xf0"), rtp(4, 3000, True, mb23),
                  rtp(5, 6000, True, mb0)):
            assembler(0, p)
        assert [u.data for u in got.video] == [sample([mb0], annexb)]
        assert assembler.lost == 1


_first = st.sampled_from([0x80, 0x80, 0x81, 0x8F, 0x90, 0xA0, 0xB1, 0x00, 0xFF])


@FUZZ
@given(st.lists(st.tuples(st.sampled_from([0, 1, 2, 3]),
                          st.tuples(_first, st.binary(max_size=60)).map(
                              lambda t: bytes([t[0]]) + t[1])), max_size=40),
       st.sampled_from(["aac", "opus", None, "pcma", "annexb"]))
@example([(0, bytes([0x81, 0x60, 0, 1]) + bytes(8) + bytes(4) + b"\x7c")], None)
@example([(0, bytes([0x81, 0x60, 0, 1]) + bytes(8) + bytes(4) + b"\x5c")], None)
def test_any_packets_go_through(packets: list[tuple[int, bytes]], audio: str | None) -> None:
    """Garbage on every channel (CSRCs, extensions and padding that overrun, FU-A and
    STAP-A headers with nothing after them, AAC AU headers that lie): never an exception.
    Found: an FU-A indicator as the last byte after CSRCs raised IndexError. ("annexb":
    the shared depacketizer alone, in the live path's mode.)"""
    got = Collector()
    assembler = got.assembler(audio, annexb=True) if audio == "annexb" else got.assembler(
        audio)
    for channel, p in packets:
        assembler(channel, p)
    for unit in got.video:
        assert unit.data
    assert all(a.data for a in got.audio)
