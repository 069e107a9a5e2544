"""The leading edge of a backfill: the frames between the gap's start and the next keyframe.

A gap rarely starts at a keyframe: the live recording stopped somewhere inside a GOP. The
replay starts at the keyframe at or before the gap (``Playback starts at the keyframe at
or before the start``), so the frames of that GOP from the gap's start on are in hand, but
they cannot be copied alone (they depend on frames the live segment already holds). They
are decoded from the GOP's keyframe and only the missing ones are encoded again (libx264,
one IDR, then P-frames; no B-frames, so the output order is the input order) into a short
segment of their own with their true capture times: the bridge. About one GOP of decoding
and at most one GOP of encoding per backfill.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av
import structlog

from argus_recording.backfill.replay import ReplayUnit
from argus_recording.params import annexb, split_annexb

log = structlog.get_logger("argus.recording.backfill")

# Quality of the re-encoded frames: near-transparent for a bridge of under a GOP.
CRF = 20
PRESET = "ultrafast"


@dataclass(slots=True)
class BridgeFrame:
    """One re-encoded access unit (AVCC) at its capture time."""

    data: bytes
    key: bool
    wall_ms: int
    sps: bytes | None
    pps: bytes | None


def avcc_to_annexb(data: bytes) -> list[bytes]:
    """The NAL units of a length-prefixed (4-byte) access unit."""
    units: list[bytes] = []
    pos = 0
    for _ in range(4096):
        if pos + 4 > len(data):
            break
        size = int.from_bytes(data[pos : pos + 4], "big")
        units.append(data[pos + 4 : pos + 4 + size])
        pos += 4 + size
    return units


def _decoder(sps: bytes | None, pps: bytes | None) -> Any:
    ctx: Any = av.CodecContext.create("h264", "r")
    ctx.thread_count = 1
    return ctx, annexb([u for u in (sps, pps) if u])


def _encoder(width: int, height: int) -> Any:
    ctx: Any = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = Fraction(1, 1000)
    ctx.thread_count = 1
    ctx.options = {
        "preset": PRESET,
        "tune": "zerolatency",
        "crf": str(CRF),
        # One IDR at the start (the bridge is shorter than a GOP), never a B-frame.
        "x264-params": "keyint=infinite:min-keyint=1000:scenecut=0:bframes=0:repeat-headers=1",
    }
    ctx.open()
    return ctx


def reencode(
    gop: Sequence[ReplayUnit],
    sps: bytes | None,
    pps: bytes | None,
    keep_from_ms: float,
    keep_until_ms: float,
) -> list[BridgeFrame]:
    """Decode ``gop`` (a keyframe and the frames after it, in decode order) and encode the
    frames captured in ``[keep_from_ms, keep_until_ms)`` again, starting with an IDR.
    Raises ``av.FFmpegError`` (or ValueError) when the GOP does not decode."""
    decoder, headers = _decoder(sps, pps)
    decoded = []
    for i, unit in enumerate(gop):
        nals = avcc_to_annexb(unit.data)
        data = annexb(nals)
        if i == 0 and headers and not any(n and n[0] & 0x1F == 7 for n in nals):
            data = headers + data
        decoded += decoder.decode(av.Packet(data))
    decoded += decoder.decode(None)
    # The decoder hands frames out in presentation order; capture times sorted are the
    # same order (with B-frames the replay's order is the decode order).
    walls = sorted(u.wall_ms for u in gop)
    if len(decoded) != len(walls):
        raise ValueError(f"{len(gop)} units decoded to {len(decoded)} frames")
    chosen = [
        (w, f) for w, f in zip(walls, decoded, strict=True) if keep_from_ms <= w < keep_until_ms
    ]
    if not chosen:
        return []
    first = chosen[0][1]
    encoder = _encoder(first.width, first.height)
    packets = []
    for wall, frame in chosen:
        picture = frame if frame.format.name == "yuv420p" else frame.reformat(format="yuv420p")
        picture.pts = wall - chosen[0][0]
        picture.pict_type = av.video.frame.PictureType.NONE
        packets += encoder.encode(picture)
    packets += encoder.encode(None)
    if len(packets) != len(chosen):
        raise ValueError(f"{len(chosen)} frames encoded to {len(packets)} packets")
    out = []
    for (wall, _frame), packet in zip(chosen, packets, strict=True):
        nals = split_annexb(bytes(packet))
        out.append(
            BridgeFrame(
                b"".join(len(n).to_bytes(4, "big") + n for n in nals),
                bool(packet.is_keyframe),
                wall,
                next((n for n in nals if n[0] & 0x1F == 7), None),
                next((n for n in nals if n[0] & 0x1F == 8), None),
            )
        )
    return out
