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

from argus_common.h264 import (
    HIGH_PROFILES,
    NAL_AUD,
    NAL_PPS,
    NAL_SPS,
    SpsInfo,
    nal_type,
    parse_sps,
    split_annexb,
)

TRACK_ID = 1
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
# sample_flags (ISO/IEC 14496-12 8.8.3.1): sync samples depend on nothing; others depend
# on earlier samples and are not sync samples.
_SYNC = 0x02000000
_NON_SYNC = 0x01010000


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


# -- init section ----------------------------------------------------------------------
def _avcc(sps: bytes, pps: bytes, info: SpsInfo) -> bytes:
    body = struct.pack(">BBBBBB", 1, sps[1], sps[2], sps[3], 0xFF, 0xE1)
    body += struct.pack(">H", len(sps)) + sps + b"\x01" + struct.pack(">H", len(pps)) + pps
    if sps[1] in HIGH_PROFILES:
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
