"""Real recorded segments for export tests: H.264 (libx264) with the simulator's burnt-in
wall-clock stamp on every frame and AAC audio, in fragmented MP4 laid out like the
recorder's (``<camera>/<date>/<hour>/<start-ms>.mp4``, a fragment per GOP, written with
``argus_common.fmp4`` as recording-service's own writer does)."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from argus_camsim.config import EncodeSettings
from argus_camsim.live import open_h264_encoder
from argus_camsim.stamp import draw_stamp, stamp_layout
from argus_common.fmp4 import (
    NON_SYNC,
    SYNC,
    AudioTrack,
    Run,
    VideoTrack,
    fragment_header,
    init_segment,
)
from argus_common.h264 import nal_type, split_annexb

WIDTH, HEIGHT = 320, 180
SAMPLE_RATE = 48_000


@dataclass(frozen=True)
class WrittenSegment:
    relpath: str
    start_ms: int
    end_ms: int
    bytes: int
    has_audio: bool


def _avcc(nals: list[bytes]) -> bytes:
    return b"".join(len(n).to_bytes(4, "big") + n for n in nals)


def _audio_frames(start_ms: int, seconds: float) -> tuple[list[bytes], bytes]:
    """AAC frames (1024 samples each) of a tone for ``seconds``; and the ASC."""
    enc = av.CodecContext.create("aac", "w")
    assert isinstance(enc, av.audio.codeccontext.AudioCodecContext)
    enc.sample_rate = SAMPLE_RATE
    enc.layout = "mono"
    enc.format = "fltp"
    enc.time_base = Fraction(1, SAMPLE_RATE)
    enc.open()
    total = int(seconds * SAMPLE_RATE)
    t = np.arange(total, dtype=np.float32) / SAMPLE_RATE
    pcm = (0.2 * np.sin(2 * math.pi * 440 * t)).astype(np.float32)
    packets: list[bytes] = []
    for i in range(0, total - 1023, 1024):
        frame = av.AudioFrame.from_ndarray(pcm[None, i:i + 1024], format="fltp", layout="mono")
        frame.sample_rate = SAMPLE_RATE
        frame.pts = i
        packets += [bytes(p) for p in enc.encode(frame)]
    packets += [bytes(p) for p in enc.encode(None)]
    return packets, bytes(enc.extradata or b"")


def write_segments(
    root: Path, camera_id: int, start_ms: int, seconds: list[float], *, fps: int = 10,
    gop_s: float = 1.0, audio: bool = True, gaps_s: list[float] | None = None,
    bframes: int = 0,
) -> list[WrittenSegment]:
    """Segments of ``seconds[i]`` each, back to back (``gaps_s[i]`` seconds of nothing
    before segment ``i + 1``: a recorder restart). Frame ``n`` of a segment starting at
    ``s`` ms carries the stamp ``s + n * 1000 / fps``."""
    out: list[WrittenSegment] = []
    t_ms = start_ms
    layout = stamp_layout(WIDTH, HEIGHT)
    for index, length in enumerate(seconds):
        enc = open_h264_encoder(WIDTH, HEIGHT, EncodeSettings(
            fps=fps, bitrate=200_000, gop_s=gop_s, profile="main" if bframes else "baseline",
            bframes=bframes))
        frames = round(length * fps)
        video: list[tuple[int, bytes, bool]] = []  # (pts in 90 kHz, avcc, key)
        sps = pps = b""
        y = np.full((HEIGHT, WIDTH), 100, dtype=np.uint8)
        packets = []
        for n in range(frames):
            y[:] = 60 + (n * 7) % 120
            draw_stamp(y, t_ms + round(n * 1000 / fps), layout)
            frame = av.VideoFrame(WIDTH, HEIGHT, "yuv420p")
            frame.planes[0].update(y.tobytes())
            frame.planes[1].update(bytes([128]) * (WIDTH * HEIGHT // 4))
            frame.planes[2].update(bytes([128]) * (WIDTH * HEIGHT // 4))
            frame.pts = n
            packets += list(enc.encode(frame))
        packets += list(enc.encode(None))
        for p in packets:
            nals = split_annexb(bytes(p))
            for nal in nals:
                if nal_type(nal) == 7:
                    sps = nal
                elif nal_type(nal) == 8:
                    pps = nal
            body = [nal for nal in nals if nal_type(nal) not in (7, 8, 9)]
            assert p.pts is not None
            video.append((int(p.pts) * 90_000 // fps, _avcc(body), bool(p.is_keyframe)))
        # Decode order with decode times: presentation times sorted (as the recorder does).
        video_pts = [v[0] for v in video]
        dts_sorted = sorted(video_pts)
        track_audio = None
        aframes: list[bytes] = []
        if audio:
            aframes, asc = _audio_frames(t_ms, length)
            track_audio = AudioTrack("aac", SAMPLE_RATE, 1, asc)
        init = init_segment(VideoTrack(sps, pps), track_audio, comment="argus kind=continuous")
        rel = f"{camera_id}/seg{index}/{t_ms}.mp4"
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        step = 90_000 // fps
        a_per_frame = SAMPLE_RATE / fps
        with path.open("wb") as f:
            f.write(init)
            keys = [i for i, v in enumerate(video) if v[2]] + [len(video)]
            seq = 0
            for g0, g1 in itertools.pairwise(keys):
                gop = video[g0:g1]
                dts = dts_sorted[g0:g1]
                durations = [b - a for a, b in itertools.pairwise(dts)] + [step]
                offsets = [v[0] - d for v, d in zip(gop, dts, strict=True)]
                runs = [Run(1, dts[0], durations, [len(v[1]) for v in gop],
                            [SYNC if v[2] else NON_SYNC for v in gop],
                            offsets if any(offsets) else None)]
                bufs = [v[1] for v in gop]
                if aframes:
                    a0 = round(dts[0] / step * a_per_frame / 1024)
                    a1 = round((dts[-1] + step) / step * a_per_frame / 1024)
                    chunk = aframes[a0:a1]
                    if chunk:
                        runs.append(Run(2, a0 * 1024, [1024] * len(chunk),
                                        [len(c) for c in chunk], [SYNC] * len(chunk)))
                        bufs += chunk
                seq += 1
                f.write(fragment_header(seq, runs))
                for b in bufs:
                    f.write(b)
        end_ms = t_ms + round(frames * 1000 / fps)
        out.append(WrittenSegment(rel, t_ms, end_ms, path.stat().st_size, audio))
        t_ms = end_ms + round(1000 * (gaps_s[index] if gaps_s and index < len(gaps_s) else 0))
    return out
