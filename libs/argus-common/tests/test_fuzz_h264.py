"""Property-based tests of the H.264 side of the RTSP client: the SPS parser on any input,
RTP depacketizing of anything a camera sends, and the packetize -> interleave -> TCP split
-> parse -> depacketize round trip at any MTU.
"""

from __future__ import annotations

import asyncio
import struct
from datetime import timedelta

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from argus_common.fmp4 import VideoTrack, init_segment
from argus_common.h264 import (
    ParameterSetKeeper,
    SpsInfo,
    is_keyframe,
    parameter_sets_from_sprop,
    parse_sps,
    slice_type,
    split_annexb,
    split_avcc,
    to_annexb,
)
from argus_common.rtsp.demux import RtpDemux, fast_slice_type
from argus_common.rtsp.depay import H264Depacketizer, starts_picture
from argus_common.rtsp.frames import AccessUnit
from argus_common.rtsp.packetize import packetize, packetize_annexb
from argus_common.rtsp.protocol import RtspProtocol
from argus_common.rtsp.sdp import SdpTrack
from argus_testkit.fuzz import cpu_limit

FUZZ = settings(max_examples=200, deadline=timedelta(seconds=10), database=None,
                suppress_health_check=[HealthCheck.too_slow])

SPS = bytes.fromhex("6764000dacb202833f3c20000003002000000791")  # 320x180 High
PPS = bytes.fromhex("68ebc3cb22c0")


# -- SPS ------------------------------------------------------------------------------------

class Bits:
    """Writes an SPS field by field (the inverse of the parser's reader)."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, n: int, value: int) -> None:
        self.bits += [(value >> i) & 1 for i in reversed(range(n))]

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(code.bit_length() - 1, 0)
        self.u(code.bit_length(), code)

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def nal(self, header: int = 0x67) -> bytes:
        bits = [*self.bits, 1]  # rbsp_stop_one_bit
        bits += [0] * (-len(bits) % 8)
        rbsp = bytes(int("".join(map(str, bits[i:i + 8])), 2) for i in range(0, len(bits), 8))
        return bytes([header]) + escape(rbsp)


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


_HIGH = [100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]


@st.composite
def sps_fields(draw: st.DrawFn) -> tuple[bytes, SpsInfo | None]:
    """An SPS written from drawn fields, and what parse_sps must say of it (None: refuse,
    for values no conforming stream has)."""
    w = Bits()
    profile = draw(st.sampled_from([66, 77, 88, *_HIGH]))
    w.u(8, profile)
    w.u(16, draw(st.integers(0, 0xFFFF)))
    w.ue(draw(st.integers(0, 31)))
    valid = True
    chroma, depth_l, depth_c, separate = 1, 8, 8, 0
    if profile in _HIGH:
        chroma = draw(st.one_of(st.integers(0, 3), st.integers(4, 2**20)))
        w.ue(chroma)
        if chroma == 3:
            separate = draw(st.integers(0, 1))
            w.u(1, separate)
        dl, dc = draw(st.integers(0, 8)), draw(st.integers(0, 8))
        w.ue(dl)
        w.ue(dc)
        depth_l, depth_c = dl + 8, dc + 8
        valid = chroma <= 3 and dl <= 6 and dc <= 6
        w.u(1, draw(st.integers(0, 1)))
        scaling = draw(st.booleans())
        w.u(1, scaling)
        if scaling:
            for i in range(8 if chroma != 3 else 12):
                present = draw(st.booleans())
                w.u(1, present)
                if present:
                    last = nxt = 8
                    for _ in range(16 if i < 6 else 64):
                        if nxt:
                            delta = draw(st.integers(-128, 127))
                            w.se(delta)
                            nxt = (last + delta + 256) % 256
                        last = nxt or last
    w.ue(draw(st.integers(0, 12)))
    poc_type = draw(st.integers(0, 2))
    w.ue(poc_type)
    if poc_type == 0:
        w.ue(draw(st.integers(0, 12)))
    elif poc_type == 1:
        w.u(1, draw(st.integers(0, 1)))
        w.se(draw(st.integers(-1000, 1000)))
        w.se(draw(st.integers(-1000, 1000)))
        cycle = draw(st.lists(st.integers(-1000, 1000), max_size=8))
        w.ue(len(cycle))
        for v in cycle:
            w.se(v)
    w.ue(draw(st.integers(0, 16)))
    w.u(1, draw(st.integers(0, 1)))
    width_mbs = draw(st.one_of(st.integers(1, 130), st.integers(1, 5000)))
    height_units = draw(st.one_of(st.integers(1, 70), st.integers(1, 5000)))
    w.ue(width_mbs - 1)
    w.ue(height_units - 1)
    frame_mbs_only = draw(st.integers(0, 1))
    w.u(1, frame_mbs_only)
    if not frame_mbs_only:
        w.u(1, draw(st.integers(0, 1)))
    w.u(1, draw(st.integers(0, 1)))
    crop = draw(st.one_of(st.just((0, 0, 0, 0)),
                          st.tuples(*[st.integers(0, 40)] * 4),
                          st.tuples(*[st.integers(0, 2**20)] * 4)))
    w.u(1, int(crop != (0, 0, 0, 0)))
    if crop != (0, 0, 0, 0):
        for c in crop:
            w.ue(c)
    w.u(1, 0)  # no VUI
    array_type = 0 if separate else chroma
    if array_type == 0:
        unit_x, unit_y = 1, 2 - frame_mbs_only
    else:  # 7.4.2.1.1: CropUnitX/Y from SubWidthC/SubHeightC
        unit_x = 2 if chroma in (1, 2) else 1
        unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height_mbs = (2 - frame_mbs_only) * height_units
    height = height_mbs * 16 - unit_y * (crop[2] + crop[3])
    valid = (valid and width > 0 and height > 0 and width_mbs <= 1055 and height_mbs <= 1055
             and width_mbs * height_mbs <= 139264)
    info = SpsInfo(width, height, chroma, depth_l, depth_c) if valid else None
    return w.nal(), info


@FUZZ
@given(sps_fields())
def test_sps_fields_read_back(case: tuple[bytes, SpsInfo | None]) -> None:
    """An SPS written from fields parses to its picture size, or is refused with
    ValueError when no conforming stream could carry it; what is accepted goes into an
    init section."""
    sps, want = case
    try:
        with cpu_limit(1):
            got = parse_sps(sps)
    except ValueError:
        assert want is None
        return
    assert got == want
    init = init_segment(VideoTrack(sps, PPS))
    assert struct.pack(">HH", got.width, got.height) in init


@FUZZ
@given(st.one_of(st.binary(max_size=64), st.binary(max_size=64).map(lambda b: SPS[:6] + b),
                 st.integers(0, len(SPS)).map(lambda n: SPS[:n]),
                 st.tuples(st.integers(8, len(SPS) * 8 - 1), st.integers(1, 255)).map(
                     lambda t: SPS[:t[0] // 8] + bytes([SPS[t[0] // 8] ^ t[1]])
                     + SPS[t[0] // 8 + 1:])))
@example(b"")
@example(b"\x67")
@example(b"\x67" + b"\x00" * 40)
def test_any_bytes_are_an_sps_or_value_error(data: bytes) -> None:
    """Random, truncated and bit-flipped SPS: a result or ValueError, never anything else;
    whatever is accepted makes an init section (no struct.error for a size that does not
    fit the sample entry)."""
    try:
        with cpu_limit(1):
            info = parse_sps(data)
    except ValueError:
        return
    assert info.width > 0 and info.height > 0
    assert init_segment(VideoTrack(data, PPS))


@FUZZ
@given(st.binary(max_size=200))
def test_nal_helpers_take_any_bytes(data: bytes) -> None:
    """Annex-B and AVCC splitting, slice_type, sprop decoding: no exception on any input."""
    for nal in split_annexb(data):
        assert nal and nal[-1] != 0
        slice_type(nal)
    assert all(split_avcc(data, n) is not None for n in (1, 2, 4))
    parameter_sets_from_sprop(data.decode("latin-1"))


# -- RTP ------------------------------------------------------------------------------------

@st.composite
def nal_units(draw: st.DrawFn, max_size: int = 800) -> bytes:
    """A NAL unit as an encoder makes it: a header (types 1-23) and an escaped payload
    ending in a non-zero byte, so it survives Annex-B too."""
    kind = draw(st.sampled_from([1, 1, 1, 5, 5, 6, 7, 8, 9, *range(2, 24)]))
    header = draw(st.integers(0, 3)) << 5 | kind
    body = escape(draw(st.binary(max_size=max_size)))
    return bytes([header]) + body + b"\x80"


access_units = st.lists(st.lists(nal_units(), min_size=1, max_size=4), min_size=1, max_size=6)
mtus = st.one_of(st.integers(3, 40), st.integers(41, 1500))


def rtp(seq: int, ts: int, marker: bool, payload: bytes, csrcs: int = 0) -> bytes:
    head = struct.pack("!BBHII", 0x80 | csrcs, (0x80 if marker else 0) | 96, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, 0x1234)
    return head + b"\0\0\0\1" * csrcs + payload


def interleave(channel: int, packet: bytes) -> bytes:
    return b"$" + bytes([channel]) + struct.pack("!H", len(packet)) + packet


@st.composite
def rtp_streams(draw: st.DrawFn) -> tuple[list[list[bytes]], list[bytes], list[int]]:
    """Access units, their RTP packets (any MTU, sequence and timestamps wrapping, some
    with CSRCs) and the timestamp of each unit relative to the first."""
    units = draw(access_units)
    mtu = draw(mtus)
    seq = draw(st.integers(0, 0xFFFF))
    ts = draw(st.integers(0, 0xFFFFFFFF))
    packets, stamps, rel = [], [], 0
    for i, nals in enumerate(units):
        if i:
            step = draw(st.integers(1, 100_000))
            ts, rel = ts + step, rel + step
        stamps.append(rel)
        payloads = packetize(nals, mtu)
        assert all(len(p) <= mtu for p in payloads)
        for j, payload in enumerate(payloads):
            packets.append(rtp(seq, ts, j == len(payloads) - 1, payload,
                               draw(st.sampled_from([0, 0, 0, 1, 2]))))
            seq += 1
    return units, packets, stamps


def tcp_stream(draw: st.DrawFn, packets: list[bytes]) -> bytes:
    """The packets on channel 0 with RTCP (channel 1) and a foreign channel between."""
    out = bytearray()
    for p in packets:
        out += interleave(0, p)
        extra = draw(st.sampled_from([None, None, None, 1, 5]))
        if extra is not None:
            out += interleave(extra, b"\x81\xc8\x00\x06" + bytes(24))
    return bytes(out)


def feed(proto: RtspProtocol, data: bytes, cuts: list[float]) -> None:
    start = 0
    for cut in [*sorted(int(c * len(data)) for c in cuts), len(data)]:
        if cut > start:
            proto.data_received(data[start:cut])
            start = cut


def expected_units(units: list[list[bytes]]) -> list[tuple[bytes, bool]]:
    """What RtpDemux must emit: Annex-B, parameter sets put before IDRs that lack them."""
    sps, pps = parameter_sets_from_sprop("")
    keeper = ParameterSetKeeper(sps, pps)
    return [(to_annexb(keeper.process(nals)), is_keyframe(nals)) for nals in units]


@FUZZ
@given(rtp_streams(), st.data())
def test_packetize_then_depacketize_over_tcp_at_any_split(
        stream: tuple[list[list[bytes]], list[bytes], list[int]], data: st.DataObject) -> None:
    """Random access units, any MTU, RTCP and other channels between packets, the TCP
    stream cut anywhere: RtpDemux emits exactly the units, with their timestamps."""
    units, packets, stamps = stream
    wire = tcp_stream(data.draw, packets)
    cuts = data.draw(st.lists(st.floats(0, 1), max_size=10))
    got: list[AccessUnit] = []

    async def main() -> None:
        video = SdpTrack("video", 96, "h264")
        demux = RtpDemux(video, 0, None, None, got.append)
        proto = RtspProtocol(demux)
        with cpu_limit(2):
            feed(proto, wire, cuts)
        assert demux.lost == 0 and not proto.buffer

    asyncio.run(main())
    assert [(u.data, u.keyframe) for u in got] == expected_units(units)
    assert [u.pts for u in got] == stamps


@FUZZ
@given(access_units, mtus)
def test_annexb_packetizing_equals_nal_packetizing(units: list[list[bytes]], mtu: int) -> None:
    """The WebRTC sender packetizes the Annex-B unit: same payloads as from its NALs."""
    for nals in units:
        assert packetize_annexb(to_annexb(nals), mtu) == packetize(nals, mtu)


@st.composite
def slice_nal(draw: st.DrawFn, idr: bool, first_mb: int) -> bytes:
    """A coded slice: its header starts with first_mb_in_slice and slice_type."""
    w = Bits()
    w.ue(first_mb)
    w.ue(draw(st.sampled_from([0, 5, 2, 7] if idr else [0, 1, 5, 6])))
    header = (3 << 5 | 5) if idr else (2 << 5 | 1)
    # The whole header (its last byte may also hold the stop bit: dropping that byte, as
    # this once did, could drop first_mb_in_slice and make any slice look like a first).
    return w.nal(header) + escape(draw(st.binary(max_size=600))) + b"\x80"


@st.composite
def pictures(draw: st.DrawFn) -> list[bytes]:
    """An access unit as cameras send it (7.4.1.2.3): optional delimiter, parameter sets
    and SEI, then the slices of one picture (the first at macroblock 0)."""
    idr = draw(st.booleans())
    nals = [b"\x09\xf0"] if draw(st.booleans()) else []
    if idr and draw(st.booleans()):
        nals += [SPS, PPS]
    if draw(st.booleans()):
        nals.append(b"\x06\x05" + escape(draw(st.binary(max_size=40))) + b"\x80")
    firsts = [0, *sorted(draw(st.sets(st.integers(1, 3600), max_size=3)))]
    return nals + [draw(slice_nal(idr, mb)) for mb in firsts]


def _slices(nals: list[bytes]) -> list[bytes]:
    return [n for n in nals if n[0] & 0x1F in (1, 5)]


@FUZZ
@given(st.lists(pictures(), min_size=1, max_size=6), mtus, st.integers(0, 0xFFFF), st.data())
def test_a_lost_packet_never_gives_a_broken_picture(
        units: list[list[bytes]], mtu: int, seq: int, data: st.DataObject) -> None:
    """Drop any packets after the first: every unit that comes out holds every slice of a
    unit that went in (leading delimiter, parameter sets or SEI may be missing), in order,
    and the loss is counted. Found: a gap over the end of one unit and the start of the
    next let the rest of the next go out as a whole picture."""
    packets = []
    for i, nals in enumerate(units):
        payloads = packetize(nals, mtu)
        for j, payload in enumerate(payloads):
            packets.append(rtp(seq, 3000 * i, j == len(payloads) - 1, payload))
            seq += 1
    # Never the very first packet: nothing can tell a receiver that the first packet it
    # ever gets is not the start of a unit (PLAY starts at one).
    if len(packets) < 2:
        return
    drop = data.draw(st.sets(st.integers(1, len(packets) - 1), min_size=1))
    depay = H264Depacketizer()
    out = []
    for i, p in enumerate(packets):
        if i not in drop:
            seq_no, ts = struct.unpack("!HI", p[2:8])
            nals = depay.push(seq_no, ts, bool(p[1] & 0x80), p[12:])
            if nals is not None:
                out.append(nals)
    it = iter(units)
    for nals in out:
        assert any(u[len(u) - len(nals):] == nals and _slices(u) == _slices(nals) for u in it), (
            "a unit that never went in")
    kept = [i for i in range(len(packets)) if i not in drop]
    if kept and any(kept[0] < i < kept[-1] for i in drop):
        assert depay.lost >= 1  # a gap between two packets that arrived


def test_a_gap_over_the_start_of_a_unit_drops_it() -> None:
    """Regression (found by the property above): the marker packet of one unit and the
    first packet of the next are lost; the next one's remaining slice is not a picture."""
    first = [b"\x09\xf0", b"\x65\x88" + bytes(20) + b"\x80"]
    second_mb0 = b"\x41\x9a" + bytes(20) + b"\x80"  # first_mb_in_slice 0
    second_mb23 = b"\x41\x0c\x00" + bytes(20) + b"\x80"  # first_mb_in_slice 23
    packets = [rtp(1, 0, False, first[0]), rtp(2, 0, True, first[1]),
               rtp(3, 3000, False, second_mb0), rtp(4, 3000, True, second_mb23),
               rtp(5, 6000, True, second_mb0)]
    depay = H264Depacketizer()
    got = [depay.push(*struct.unpack("!HI", p[2:8]), bool(p[1] & 0x80), p[12:])
           for p in (packets[0], packets[3], packets[4])]
    assert got == [None, None, [second_mb0]]
    assert depay.lost == 1
    assert starts_picture(second_mb0) and not starts_picture(second_mb23)


_rtp_garbage = st.tuples(st.sampled_from([0x80, 0x80, 0x81, 0x8F, 0x90, 0xA0, 0xB3, 0x00, 0xFF]),
                         st.binary(max_size=80)).map(lambda t: bytes([t[0]]) + t[1])


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 3), _rtp_garbage), max_size=40))
@example([(0, b"\x90\x60\x00\x01" + bytes(8) + b"\x00\x00\x00\x05")])  # extension past end
@example([(0, b"\xa0\x60\x00\x01" + bytes(8) + b"\x7c\xff")])  # padding longer than payload
def test_any_rtp_packets_go_through_the_demuxer(packets: list[tuple[int, bytes]]) -> None:
    """Garbage on the video, audio and RTCP channels: never an exception; what comes out
    is Annex-B."""
    got: list[AccessUnit] = []
    video, audio = SdpTrack("video", 96, "h264"), SdpTrack("audio", 0, "pcmu", 8000)
    demux = RtpDemux(video, 0, audio, 2, got.append, on_loss=lambda: None,
                     on_bframes=lambda: None)
    with cpu_limit(2):
        for channel, p in packets:
            demux(channel, p)
    for unit in got:
        if unit.kind == "video":
            assert unit.data.startswith(b"\0\0\0\1")


@FUZZ
@given(st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(0, 0xFFFFFFFF), st.booleans(),
                          st.one_of(st.binary(max_size=60),
                                    st.binary(max_size=60).map(lambda b: b"\x7c" + b),
                                    st.binary(max_size=60).map(lambda b: b"\x78" + b))),
                max_size=40))
def test_any_payloads_go_through_the_depacketizer(
        payloads: list[tuple[int, int, bool, bytes]]) -> None:
    """Any payloads (FU-A and STAP-A headers with garbage after them): units of non-empty
    NALs or nothing."""
    depay = H264Depacketizer()
    for seq, ts, marker, payload in payloads:
        nals = depay.push(seq, ts, marker, payload)
        if nals is not None:
            assert nals and all(isinstance(n, bytes) and n for n in nals)


@FUZZ
@given(st.one_of(
    st.binary(max_size=40).map(lambda b: b"\x41" + b),
    st.binary(max_size=40).map(lambda b: b"\x65" + escape(b)),
    st.tuples(st.integers(0, 8160), st.integers(0, 9), st.binary(max_size=30)).map(
        lambda t: _slice_head(*t))))
@example(b"\x41" + bytes(8))  # no Exp-Golomb code in 64 zero bits
@example(b"\x41\x00\x00\x03\x01" + bytes(4))  # emulation prevention in the first bytes
@example(b"\x41\x00\x00\x00\x01\xff\xff\xff\xff")  # 31 zeros: the longest code
def test_fast_slice_type_equals_the_bit_reader(head: bytes) -> None:
    """The live path's B-frame check reads slice_type from 64 bits at once: always the
    value the byte-by-byte reader gives (real slice headers, garbage, escapes)."""
    assert fast_slice_type(head) == slice_type(head)


def _slice_head(first_mb: int, kind: int, rest: bytes) -> bytes:
    w = Bits()
    w.ue(first_mb)
    w.ue(kind)
    return w.nal(0x41)[:-1] + escape(rest)
