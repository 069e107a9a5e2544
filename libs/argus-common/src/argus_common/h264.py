"""H.264 bitstream helpers: NAL units, Annex-B, parameter sets, B-frame detection.

Everything works on NAL units without start codes; an access unit leaves here as one Annex-B
byte string (4-byte start codes), which is what WebRTC packetizers and MPEG-TS expect.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

NAL_SLICE = 1
NAL_IDR = 5
NAL_SEI = 6
NAL_SPS = 7
NAL_PPS = 8
NAL_AUD = 9
NAL_STAP_A = 24
NAL_FU_A = 28
START_CODE = b"\x00\x00\x00\x01"

# slice_type values (7.4.3): 1 and 6 are B slices.
_B_SLICE_TYPES = frozenset({1, 6})


def nal_type(nal: bytes) -> int:
    """Type of a NAL unit (low 5 bits of its header byte)."""
    return nal[0] & 0x1F if nal else 0


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex-B byte stream, start codes removed."""
    out: list[bytes] = []
    i = data.find(b"\x00\x00\x01")
    while i >= 0:
        start = i + 3
        j = data.find(b"\x00\x00\x01", start)
        end = len(data) if j < 0 else j
        # A 4-byte start code leaves its leading zero at the end of the previous unit.
        while end > start and data[end - 1] == 0:
            end -= 1
        if end > start:
            out.append(data[start:end])
        i = j
    return out


def split_avcc(data: bytes, length_size: int = 4) -> list[bytes]:
    """NAL units of a length-prefixed (MP4 ``avcC``) sample."""
    out: list[bytes] = []
    i = 0
    while i + length_size <= len(data):
        size = int.from_bytes(data[i : i + length_size], "big")
        i += length_size
        if size <= 0 or i + size > len(data):
            break
        out.append(data[i : i + size])
        i += size
    return out


def to_annexb(nals: list[bytes]) -> bytes:
    """Join NAL units into Annex-B with 4-byte start codes."""
    return b"".join(START_CODE + n for n in nals)


def is_keyframe(nals: list[bytes]) -> bool:
    """Whether an access unit holds an IDR slice."""
    return any(nal_type(n) == NAL_IDR for n in nals)


def parameter_sets_from_sprop(sprop: str) -> tuple[bytes | None, bytes | None]:
    """SPS and PPS from an SDP ``sprop-parameter-sets`` value (base64, comma-separated)."""
    sps = pps = None
    for part in sprop.split(","):
        try:
            nal = base64.b64decode(part.strip(), validate=False)
        except ValueError:
            continue
        if nal and nal_type(nal) == NAL_SPS:
            sps = nal
        elif nal and nal_type(nal) == NAL_PPS:
            pps = nal
    return sps, pps


def profile_level_id(sps: bytes) -> str | None:
    """``profile-level-id`` (6 hex digits) of an SPS NAL unit."""
    return sps[1:4].hex() if len(sps) >= 4 else None


class _Bits:
    """Reads bits and Exp-Golomb codes from RBSP bytes (emulation prevention removed)."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.pos >> 3
            if byte >= len(self.data):
                raise ValueError("end of data")
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


def _rbsp(nal: bytes, limit: int | None = 32) -> bytes:
    """The payload of a NAL unit (its first ``limit`` bytes; None: all) with emulation
    prevention bytes removed."""
    out = bytearray()
    zeros = 0
    for b in nal[1:] if limit is None else nal[1 : limit + 1]:
        if zeros >= 2 and b == 3:
            zeros = 0
            continue
        out.append(b)
        zeros = zeros + 1 if b == 0 else 0
    return bytes(out)


def slice_type(nal: bytes) -> int | None:
    """``slice_type`` of a coded slice NAL unit (types 1 and 5), None otherwise."""
    if nal_type(nal) not in (NAL_SLICE, NAL_IDR):
        return None
    bits = _Bits(_rbsp(nal))
    try:
        bits.ue()  # first_mb_in_slice
        return bits.ue()
    except ValueError:
        return None


def first_mb_in_slice(nal: bytes) -> int | None:
    """``first_mb_in_slice`` of a coded slice NAL unit (0: the first slice of a picture),
    None for other NAL units or a header cut short."""
    if nal_type(nal) not in (NAL_SLICE, NAL_IDR):
        return None
    try:
        return _Bits(_rbsp(nal, 8)).ue()
    except ValueError:
        return None


def begins_picture(nal: bytes) -> bool:
    """Whether an access unit can begin with ``nal`` (7.4.1.2.3): a delimiter, parameter
    set or SEI, or the first slice of a picture."""
    return nal_type(nal) in (NAL_SEI, NAL_SPS, NAL_PPS, NAL_AUD) or first_mb_in_slice(nal) == 0


def has_b_slice(nals: list[bytes]) -> bool:
    """Whether an access unit contains a B slice (WebRTC cannot carry reordered frames)."""
    return any(slice_type(n) in _B_SLICE_TYPES for n in nals)


class ParameterSetKeeper:
    """Keeps the latest SPS/PPS and puts them in front of every IDR that lacks them.

    Cameras that send parameter sets only in the SDP (``sprop-parameter-sets``) would leave
    a late viewer, an HLS segment or a decoder after packet loss unable to decode.
    """

    def __init__(self, sps: bytes | None = None, pps: bytes | None = None) -> None:
        self.sps = sps
        self.pps = pps

    def process(self, nals: list[bytes]) -> list[bytes]:
        """The access unit with parameter sets added before its IDR when missing."""
        has_sps = has_pps = False
        idr = False
        for n in nals:
            t = nal_type(n)
            if t == NAL_SPS:
                self.sps, has_sps = n, True
            elif t == NAL_PPS:
                self.pps, has_pps = n, True
            elif t == NAL_IDR:
                idr = True
        if not idr or (has_sps and has_pps) or self.sps is None or self.pps is None:
            return nals
        out = [n for n in nals if nal_type(n) not in (NAL_SPS, NAL_PPS, NAL_AUD)]
        return [self.sps, self.pps, *out]


# profile_idc values whose SPS carries chroma format and bit depths (7.3.2.1.1).
HIGH_PROFILES = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


_MAX_FRAME_MBS = 139_264
_MAX_SIDE_MBS = 1055


@dataclass(frozen=True, slots=True)
class SpsInfo:
    """What the init section needs from an SPS."""

    width: int
    height: int
    chroma_format: int
    bit_depth_luma: int
    bit_depth_chroma: int


def parse_sps(sps: bytes) -> SpsInfo:
    """Picture size (after cropping) and chroma format of an SPS NAL unit (7.3.2.1.1).

    Raises ValueError for anything that is not a usable SPS: truncated, or with values no
    conforming stream has (chroma format, bit depth, a picture beyond level 6.2)."""
    r = _Bits(_rbsp(sps, None))
    profile = r.u(8)
    r.u(16)  # constraint flags, level
    r.ue()  # seq_parameter_set_id
    chroma, depth_l, depth_c, separate = 1, 8, 8, 0
    if profile in HIGH_PROFILES:
        chroma = r.ue()
        if chroma > 3:
            raise ValueError("bad SPS chroma_format_idc")
        if chroma == 3:
            separate = r.u(1)
        depth_l, depth_c = r.ue() + 8, r.ue() + 8
        if depth_l > 14 or depth_c > 14:
            raise ValueError("bad SPS bit depth")
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
    height_mbs = (2 - frame_mbs_only) * height_units
    # Larger than level 6.2 allows (A.3.1 f: MaxFS 139264, each side <= sqrt(8 * MaxFS)):
    # no real stream, and it would not fit the 16-bit sizes of an MP4 sample entry.
    if width_mbs > _MAX_SIDE_MBS or height_mbs > _MAX_SIDE_MBS or (
            width_mbs * height_mbs > _MAX_FRAME_MBS):
        raise ValueError("SPS picture larger than any H.264 level allows")
    width = width_mbs * 16 - unit_x * (crop[0] + crop[1])
    height = height_mbs * 16 - unit_y * (crop[2] + crop[3])
    if width <= 0 or height <= 0:
        raise ValueError("bad SPS picture size")
    return SpsInfo(width, height, chroma, depth_l, depth_c)
