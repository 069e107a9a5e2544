"""H.264 bitstream helpers of the simulated camera: RTP packetization as a camera does it
(RFC 6184 single NAL units and FU-A, no aggregation); parsing is ``argus_common.h264``.

Only what a sender needs: split encoder output into NAL units, pick out the parameter
sets, and cut NAL units into RTP payloads (single NAL unit packets and FU-A fragments).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

from argus_common import h264
from argus_common.h264 import (
    NAL_AUD,
    NAL_FU_A,
    NAL_IDR,
    NAL_PPS,
    NAL_SEI,
    NAL_SLICE,
    NAL_SPS,
    nal_type,
)

__all__ = [
    "DEFAULT_MAX_PAYLOAD",
    "NAL_AUD",
    "NAL_FU_A",
    "NAL_IDR",
    "NAL_PPS",
    "NAL_SEI",
    "NAL_SLICE",
    "NAL_SPS",
    "ParameterSets",
    "find_parameter_sets",
    "nal_type",
    "packetize",
    "split_annexb",
    "split_avcc",
]

# Leaves room for the RTP header (12), the interleaved header (4) and IP/UDP headers
# inside a 1500-byte Ethernet MTU.
DEFAULT_MAX_PAYLOAD = 1400


def split_annexb(data: bytes) -> list[bytes]:
    """Split an Annex B byte stream into NAL units, without start codes.

    Access unit delimiters are dropped: they carry nothing an RTP receiver needs.
    """
    return [nal for nal in h264.split_annexb(data) if nal_type(nal) != NAL_AUD]


def split_avcc(data: bytes, length_size: int = 4) -> list[bytes]:
    """Split length-prefixed (MP4 "avcC" style) NAL units, access unit delimiters dropped."""
    return [nal for nal in h264.split_avcc(data, length_size) if nal_type(nal) != NAL_AUD]


def packetize(nals: list[bytes], max_payload: int = DEFAULT_MAX_PAYLOAD) -> list[bytes]:
    """Cut the NAL units of one access unit into RTP payloads.

    A NAL unit that fits is sent as a single NAL unit packet; a larger one is split into
    FU-A fragments (RFC 6184 section 5.8). The caller sets the marker bit on the last
    payload of the access unit.
    """
    payloads: list[bytes] = []
    for nal in nals:
        if len(nal) <= max_payload:
            payloads.append(nal)
            continue
        header = nal[0]
        indicator = bytes([(header & 0xE0) | NAL_FU_A])
        kind = header & 0x1F
        body = nal[1:]
        chunk = max_payload - 2
        count = (len(body) + chunk - 1) // chunk
        for k in range(count):
            fu_header = kind
            if k == 0:
                fu_header |= 0x80
            if k == count - 1:
                fu_header |= 0x40
            payloads.append(indicator + bytes([fu_header]) + body[k * chunk : (k + 1) * chunk])
    return payloads


@dataclass(frozen=True)
class ParameterSets:
    """SPS and PPS of a stream, as carried in SDP."""

    sps: bytes
    pps: bytes

    @property
    def profile_level_id(self) -> str:
        """profile_idc, constraint flags and level_idc as six hex digits."""
        return self.sps[1:4].hex()

    @property
    def sprop(self) -> str:
        """Value of the SDP ``sprop-parameter-sets`` parameter."""
        return ",".join(base64.b64encode(p).decode("ascii") for p in (self.sps, self.pps))


def find_parameter_sets(nals: list[bytes]) -> ParameterSets | None:
    """SPS and PPS from the NAL units of an access unit, if both are there."""
    sps = pps = None
    for nal in nals:
        kind = nal_type(nal)
        if kind == NAL_SPS and sps is None:
            sps = nal
        elif kind == NAL_PPS and pps is None:
            pps = nal
    if sps is None or pps is None:
        return None
    return ParameterSets(sps=sps, pps=pps)
