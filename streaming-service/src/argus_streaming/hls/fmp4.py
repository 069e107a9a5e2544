"""Fragmented MP4 (CMAF-style) for one H.264 video track, for live HLS.

The boxes come from ``argus_common.fmp4`` (the recorder writes its segments with the same
code): the init section (``ftyp`` + ``moov`` with an ``avc1`` sample entry and its
``avcC``) and media fragments (``moof`` + ``mdat``, one ``trun`` with per-sample
duration, size and flags). Pass-through: samples are the camera's own NAL units,
length-prefixed instead of start-code delimited. No B-frames reach here (sources refuse
them), so decode and presentation times are equal and no composition offsets are written.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from argus_common import fmp4
from argus_common.fmp4 import Run, VideoTrack, fragment_header
from argus_common.h264 import NAL_AUD, NAL_PPS, NAL_SPS, nal_type, split_annexb

TRACK_ID = 1
_BRANDS = (b"iso6", b"cmfc", b"isom", b"mp41")


@dataclass(frozen=True, slots=True)
class Sample:
    """One access unit ready for an ``mdat``: AVCC bytes, duration in timescale units."""

    data: bytes
    duration: int
    keyframe: bool


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


# -- init section and fragments (argus_common.fmp4, shared with the recorder) -----------
def init_segment(sps: bytes, pps: bytes, timescale: int) -> bytes:
    """``ftyp`` + ``moov`` for one H.264 track with these parameter sets."""
    return fmp4.init_segment(VideoTrack(sps, pps, timescale), brands=_BRANDS)


def fragment(sequence: int, base_time: int, samples: list[Sample]) -> bytes:
    """One ``moof`` + ``mdat`` holding ``samples``, the first decoded at ``base_time``."""
    run = Run(TRACK_ID, base_time, [s.duration for s in samples],
              [len(s.data) for s in samples],
              [fmp4.SYNC if s.keyframe else fmp4.NON_SYNC for s in samples])
    return b"".join([fragment_header(sequence, [run]), *(s.data for s in samples)])
