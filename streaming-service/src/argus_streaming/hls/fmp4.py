"""Fragmented MP4 (CMAF-style) boxes for one H.264 video track, written by hand.

Only what a live HLS stream needs: the init section (``ftyp`` + ``moov`` with an ``avc1``
sample entry and its ``avcC``) and media fragments (``moof`` + ``mdat``, one ``trun`` with
per-sample duration, size and flags). Pass-through: samples are the camera's own NAL units,
length-prefixed instead of start-code delimited. No B-frames reach here (sources refuse
them), so decode and presentation times are equal and no composition offsets are written.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from argus_streaming.media.h264 import NAL_AUD, NAL_PPS, NAL_SPS, nal_type, split_annexb

TRACK_ID = 1
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# sample_flags (ISO/IEC 14496-12 8.8.3.1): sync samples depend on nothing; others depend
# on earlier samples and are not sync samples.
_SYNC = 0x02000000
_NON_SYNC = 0x01010000
_HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


@dataclass(frozen=True, slots=True)
class Sample:
    """One access unit ready for an ``mdat``: AVCC bytes, duration in timescale units."""

    data: bytes
    duration: int
    keyframe: bool


def box(kind: bytes, *payload: bytes) -> bytes:
    """An ISO BMFF box."""
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    """An ISO BMFF full box (version and flags before the payload)."""
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


# -- H.264 -----------------------------------------------------------------------------
def to_avcc(annexb: bytes) -> tuple[bytes, bytes | None, bytes | None]:
    """An Annex-B access unit as an MP4 sample; SPS and PPS are taken out and returned.

    ``avc1`` keeps parameter sets in the init section, so they leave the sample, and so do
    access unit delimiters.
    """
    sps = pps = None
    out = []
    for nal in split_annexb(annexb):
        t = nal_type(nal)
        if t == NAL_SPS:
            sps = nal
        elif t == NAL_PPS:
            pps = nal
        elif t != NAL_AUD:
            out.append(struct.pack(">I", len(nal)) + nal)
    return b"".join(out), sps, pps


def _rbsp(nal: bytes) -> bytes:
    """The payload of a NAL unit with emulation prevention bytes removed."""
    out = bytearray()
    zeros = 0
    for b in nal[1:]:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


class _Bits:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise ValueError("SPS ends early")
            value = (value << 1) | ((self.data[byte] >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise ValueError("bad exp-golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        v = self.ue()
        return (v + 1) // 2 if v & 1 else -(v // 2)


@dataclass(frozen=True, slots=True)
class SpsInfo:
    """What the init section needs from an SPS."""

    width: int
    height: int
    chroma_format: int
    bit_depth_luma: int
    bit_depth_chroma: int


def parse_sps(sps: bytes) -> SpsInfo:
    """Picture size (after cropping) and chroma format of an SPS NAL unit (7.3.2.1.1)."""
    r = _Bits(_rbsp(sps))
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma, depth_l, depth_c, separate = 1, 8, 8, 0
    if profile in _HIGH_PROFILES:
        chroma = r.ue()
        if chroma == 3:
            separate = r.u(1)
        depth_l, depth_c = r.ue() + 8, r.ue() + 8
        r.u(1)  # qpprime_y_zero_transform_bypass_flag
        if r.u(1):  # seq_scaling_matrix_present_flag
            for i in range(8 if chroma != 3 else 12):
                if r.u(1):
                    last = nxt = 8
                    for _ in range(16 if i < 6 else 64):
                        if nxt:
                            nxt = (last + r.se() + 256) % 256
                        last = nxt or last
    r.ue()  # log2_max_frame_num_minus4
    poc_type = r.ue()
    if poc_type == 0:
        r.ue()
    elif poc_type == 1:
        r.u(1)
        r.se()
        r.se()
        for _ in range(r.ue()):
            r.se()
    r.ue()  # max_num_ref_frames
    r.u(1)  # gaps_in_frame_num_value_allowed_flag
    width_mbs = r.ue() + 1
    height_units = r.ue() + 1
    frame_mbs_only = r.u(1)
    if not frame_mbs_only:
        r.u(1)  # mb_adaptive_frame_field_flag
    r.u(1)  # direct_8x8_inference_flag
    crop = (r.ue(), r.ue(), r.ue(), r.ue()) if r.u(1) else (0, 0, 0, 0)
    array_type = 0 if separate else chroma
    if array_type == 0:
        unit_x, unit_y = 1, 2 - frame_mbs_only
    else:
        unit_x = 2 if chroma in (1, 2) else 1
        unit_y = (2 if chroma == 1 else 1) * (2 - frame_mbs_only)
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = (2 - frame_mbs_only) * height_units * 16 - unit_y * (crop[2] + crop[3])
    if width <= 0 or height <= 0:
        raise ValueError("bad SPS picture size")
    return SpsInfo(width, height, chroma, depth_l, depth_c)


# -- init section ----------------------------------------------------------------------
def _avcc(sps: bytes, pps: bytes, info: SpsInfo) -> bytes:
    body = struct.pack(">BBBBBB", 1, sps[1], sps[2], sps[3], 0xFF, 0xE1)
    body += struct.pack(">H", len(sps)) + sps + b"\x01" + struct.pack(">H", len(pps)) + pps
    if sps[1] in _HIGH_PROFILES:
        body += bytes([0xFC | info.chroma_format, 0xF8 | (info.bit_depth_luma - 8),
                       0xF8 | (info.bit_depth_chroma - 8), 0])
    return box(b"avcC", body)


def init_segment(sps: bytes, pps: bytes, timescale: int) -> bytes:
    """``ftyp`` + ``moov`` for one H.264 track with these parameter sets."""
    info = parse_sps(sps)
    w, h = info.width, info.height
    ftyp = box(b"ftyp", b"iso6", struct.pack(">I", 0), b"iso6", b"cmfc", b"isom", b"mp41")
    mvhd = full_box(b"mvhd", 0, 0, struct.pack(">IIIIIH", 0, 0, 1000, 0, 0x10000, 0x100),
                    bytes(10), _MATRIX, bytes(24), struct.pack(">I", TRACK_ID + 1))
    tkhd = full_box(b"tkhd", 0, 3, struct.pack(">IIIII", 0, 0, TRACK_ID, 0, 0), bytes(8),
                    struct.pack(">hhhH", 0, 0, 0, 0), _MATRIX, struct.pack(">II", w << 16, h << 16))
    mdhd = full_box(b"mdhd", 0, 0, struct.pack(">IIIIHH", 0, 0, timescale, 0, 0x55C4, 0))
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"vide"), bytes(12), b"ArgusVideo\0")
    avc1 = box(b"avc1", bytes(6), struct.pack(">H", 1), bytes(16),
               struct.pack(">HHIIIH", w, h, 0x480000, 0x480000, 0, 1), bytes(32),
               struct.pack(">Hh", 0x18, -1), _avcc(sps, pps, info))
    stbl = box(b"stbl", full_box(b"stsd", 0, 0, struct.pack(">I", 1), avc1),
               full_box(b"stts", 0, 0, bytes(4)), full_box(b"stsc", 0, 0, bytes(4)),
               full_box(b"stsz", 0, 0, bytes(8)), full_box(b"stco", 0, 0, bytes(4)))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    minf = box(b"minf", full_box(b"vmhd", 0, 1, bytes(8)), dinf, stbl)
    trak = box(b"trak", tkhd, box(b"mdia", mdhd, hdlr, minf))
    trex = full_box(b"trex", 0, 0, struct.pack(">IIIII", TRACK_ID, 1, 0, 0, 0))
    return ftyp + box(b"moov", mvhd, trak, box(b"mvex", trex))


# -- fragments -------------------------------------------------------------------------
def fragment(sequence: int, base_time: int, samples: list[Sample]) -> bytes:
    """One ``moof`` + ``mdat`` holding ``samples``, the first decoded at ``base_time``."""
    entries = b"".join(
        struct.pack(">III", s.duration, len(s.data), _SYNC if s.keyframe else _NON_SYNC)
        for s in samples)
    # tfhd: default-base-is-moof (data offsets count from the moof's first byte).
    tfhd = full_box(b"tfhd", 0, 0x020000, struct.pack(">I", TRACK_ID))
    tfdt = full_box(b"tfdt", 1, 0, struct.pack(">Q", base_time))
    trun_size = 12 + 8 + len(entries)
    moof_size = 8 + 16 + 8 + len(tfhd) + len(tfdt) + trun_size
    trun = full_box(b"trun", 0, 0x000701,
                    struct.pack(">Ii", len(samples), moof_size + 8), entries)
    mfhd = full_box(b"mfhd", 0, 0, struct.pack(">I", sequence))
    moof = box(b"moof", mfhd, box(b"traf", tfhd, tfdt, trun))
    assert len(moof) == moof_size
    return moof + box(b"mdat", *(s.data for s in samples))
