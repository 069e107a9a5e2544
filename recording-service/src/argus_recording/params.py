"""Video parameter sets: noticing a resolution or codec change in the stream.

RTSP delivers H.264/H.265 as Annex B, and cameras repeat SPS/PPS (and VPS) before each
keyframe. A segment's MP4 sample entry carries one set of parameters, so when the SPS
changes mid-stream the segment must end and the next one start with the new set. Only
keyframes are looked at, and only their first few KB (parameter sets come first).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av
import structlog

log = structlog.get_logger("argus.recording.params")

SCAN_BYTES = 4096
_START = b"\x00\x00\x01"


@dataclass(frozen=True)
class VideoParams:
    """What a segment's video track is made from. ``key`` identifies the SPS (and VPS)."""

    codec: str
    width: int
    height: int
    extradata: bytes | None
    key: bytes


def split_annexb(data: bytes) -> list[bytes]:
    """NAL units of an Annex B buffer (start codes removed)."""
    units: list[bytes] = []
    pos = data.find(_START)
    while pos >= 0:
        start = pos + 3
        nxt = data.find(_START, start)
        end = len(data) if nxt < 0 else nxt
        unit = data[start:end]
        if nxt >= 0 and unit.endswith(b"\x00"):
            unit = unit.rstrip(b"\x00")  # the next start code was 4 bytes long
        if unit:
            units.append(unit)
        pos = nxt
    return units


def _nal_type(codec: str, unit: bytes) -> int:
    return (unit[0] >> 1) & 0x3F if codec == "hevc" else unit[0] & 0x1F


def _is_param(codec: str, kind: int) -> bool:
    return kind in (32, 33, 34) if codec == "hevc" else kind in (7, 8)


def _is_key_param(codec: str, kind: int) -> bool:
    """SPS (and VPS): what decides resolution and profile."""
    return kind in (32, 33) if codec == "hevc" else kind == 7


def _is_slice(codec: str, kind: int) -> bool:
    return kind <= 31 if codec == "hevc" else 1 <= kind <= 5


def parameter_sets(codec: str, data: bytes) -> list[bytes]:
    """The parameter-set NAL units in front of the first slice of an access unit."""
    if not (data.startswith(_START) or data.startswith(b"\x00" + _START)):
        return []  # length-prefixed (RTMP/FLV): parameter changes are not tracked
    found = []
    for unit in split_annexb(data[:SCAN_BYTES]):
        kind = _nal_type(codec, unit)
        if _is_slice(codec, kind):
            break
        if _is_param(codec, kind):
            found.append(unit)
    return found


def key_of(codec: str, units: list[bytes]) -> bytes:
    return b"".join(u for u in units if _is_key_param(codec, _nal_type(codec, u)))


def annexb(units: list[bytes]) -> bytes:
    return b"".join(b"\x00\x00\x00\x01" + u for u in units)


def probe_dimensions(codec: str, keyframe: bytes) -> tuple[int, int] | None:
    """Picture size of a keyframe that carries its parameter sets (decodes one frame; a
    resolution change is rare, so this is cheap overall)."""
    try:
        ctx: Any = av.CodecContext.create(codec, "r")
        frames = ctx.decode(av.Packet(keyframe)) or ctx.decode(None)
    except av.FFmpegError:
        return None
    if not frames:
        return None
    frame = frames[0]
    return int(frame.width), int(frame.height)


class ParamTracker:
    """The video parameters in force, updated from the parameter sets of each keyframe."""

    def __init__(self, codec: str, extradata: bytes | None, width: int, height: int) -> None:
        self.codec = codec
        units = split_annexb(extradata) if extradata else []
        self.current = VideoParams(codec, width, height, extradata, key_of(codec, units))

    def on_keyframe(self, packet: av.Packet[Any]) -> VideoParams:
        """Parameters of this keyframe; a new object only when its SPS differs."""
        view = memoryview(packet)
        units = parameter_sets(self.codec, bytes(view[:SCAN_BYTES]))
        key = key_of(self.codec, units)
        if not key or key == self.current.key:
            return self.current
        size = probe_dimensions(self.codec, bytes(view)) or (
            self.current.width, self.current.height
        )
        log.info("video_parameters_changed", width=size[0], height=size[1])
        self.current = VideoParams(self.codec, size[0], size[1], annexb(units), key)
        return self.current
