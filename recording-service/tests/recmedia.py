"""Media helpers of the recording-service tests: small H.264 files made with PyAV."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from argus_recording.writer import MOVFLAGS


def encode_frames(width: int, height: int, count: int, gop: int, fps: int = 15) -> list[av.Packet]:
    """``count`` H.264 packets (Annex B, SPS/PPS before each keyframe), ``gop`` apart."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = width, height, "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.gop_size = gop
    ctx.options = {"preset": "ultrafast", "tune": "zerolatency", "x264-params":
                   f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1"}
    packets: list[av.Packet] = []
    for i in range(count):
        img = np.full((height, width, 3), (i * 7) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i
        packets.extend(ctx.encode(frame))
    packets.extend(ctx.encode(None))
    return packets


def write_fragmented(path: Path, count: int = 30, gop: int = 5, size: tuple[int, int] = (64, 48)
                     ) -> int:
    """A fragmented MP4 like the recorder writes; returns the number of fragments."""
    out = av.open(str(path), "w", format="mp4",
                  options={"movflags": MOVFLAGS, "flush_packets": "1"})
    stream = out.add_stream("libx264", rate=15)
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    stream.codec_context.gop_size = gop
    stream.codec_context.options = {"preset": "ultrafast", "x264-params":
                                    f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"}
    for i in range(count):
        img = np.full((size[1], size[0], 3), (i * 9) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
    out.close()
    return (count + gop - 1) // gop


def write_source(path: Path, count: int, gop: int, size: tuple[int, int], fps: int = 15) -> None:
    """A plain MP4 to demux from, as if a camera sent it."""
    out = av.open(str(path), "w", format="mp4")
    stream = out.add_stream("libx264", rate=fps)
    stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
    stream.codec_context.gop_size = gop
    stream.codec_context.options = {"preset": "ultrafast", "x264-params":
                                    f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"}
    for i in range(count):
        img = np.full((size[1], size[0], 3), (i * 5) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i
        out.mux(stream.encode(frame))
    out.mux(stream.encode(None))
    out.close()


def count_frames(path: Path) -> int:
    """Decoded video frames of a file (raises on undecodable data)."""
    with av.open(str(path)) as container:
        return sum(1 for _ in container.decode(video=0))


def boxes(path: Path) -> list[tuple[str, int, int]]:
    """Top-level ``(type, offset, size)`` of an MP4 file."""
    data = path.read_bytes()
    out = []
    offset = 0
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset:offset + 4], "big")
        kind = data[offset + 4:offset + 8].decode("latin-1")
        out.append((kind, offset, size))
        if size < 8:
            break
        offset += size
    return out
