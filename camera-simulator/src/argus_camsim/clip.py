"""Pre-encoded H.264 clips for the loop source.

A clip is made once (rendered scene with moving objects and mild sensor noise, so its
bitrate is what a real camera sends) and cached as a raw Annex B ``.h264`` file, or given
by path (any container PyAV can read, holding H.264). It is loaded into memory already
cut into RTP payloads, so looping it costs no encoding and almost no parsing.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import av
import numpy as np

from argus_camsim.config import EncodeSettings
from argus_camsim.h264 import (
    NAL_SPS,
    ParameterSets,
    find_parameter_sets,
    packetize,
    split_annexb,
    split_avcc,
)
from argus_camsim.live import open_h264_encoder
from argus_camsim.model import CameraInfo
from argus_camsim.scene import Scene, planes
from argus_common.h264 import nal_type

log = logging.getLogger(__name__)
CLIP_VERSION = 2


@dataclass(frozen=True)
class LoopClip:
    """An H.264 clip in memory: per access unit, its RTP payloads and keyframe flag."""

    frames: list[tuple[list[bytes], bool]]
    params: ParameterSets
    width: int
    height: int
    fps: int
    path: Path

    @property
    def bytes_per_loop(self) -> int:
        """Payload bytes in one pass over the clip."""
        return sum(len(p) for payloads, _ in self.frames for p in payloads)


def clip_name(width: int, height: int, settings: EncodeSettings, seconds: float) -> str:
    """File name of the generated clip for these settings (the cache key)."""
    kbps = settings.bitrate_for(width, height) // 1000
    return (
        f"loop-v{CLIP_VERSION}-{width}x{height}-{settings.fps}fps-{kbps}k-{settings.profile}"
        f"-g{settings.gop_frames}-b{settings.bframes}-{seconds:g}s.h264"
    )


def _encode_clip(
    out: BinaryIO, width: int, height: int, settings: EncodeSettings, frames: int
) -> int:
    """Render and encode ``frames`` frames into ``out``; returns the bytes written."""
    scene = Scene(CameraInfo(index=0, name="Loop", width=width, height=height, motion=True))
    ctx = open_h264_encoder(width, height, settings)
    rng = np.random.default_rng(1)
    written = 0
    for n in range(frames + 1):
        if n == frames:
            packets = ctx.encode(None)  # flush
        else:
            buf = scene.render(width, height, n * 1000 // settings.fps, label="LOOP")
            y = planes(buf, width, height)[0]
            # Sensor-like noise makes x264 spend the configured bitrate.
            noise = rng.integers(-6, 7, size=y.shape, dtype=np.int16)
            y[:] = np.clip(y.astype(np.int16) + noise, 16, 235).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(buf, format="yuv420p")
            frame.pts = n
            packets = ctx.encode(frame)
        for packet in packets:
            data = bytes(packet)
            out.write(data)
            written += len(data)
    return written


def generate_clip(
    path: Path, width: int, height: int, settings: EncodeSettings, seconds: float
) -> None:
    """Encode ``seconds`` of the synthetic scene into ``path`` (written atomically).

    x264's one-pass rate control at ``ultrafast`` overshoots on noisy content by up to
    ~10 %; when it does, the clip is encoded once more with a corrected target so the
    looped stream delivers the bitrate that was asked for.
    """
    frames = max(settings.gop_frames, round(seconds * settings.fps))
    # Whole GOPs only, so the end of the clip flows into its first IDR without a glitch.
    frames = (frames + settings.gop_frames - 1) // settings.gop_frames * settings.gop_frames
    target = settings.bitrate_for(width, height)
    attempt = settings
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".h264")
    try:
        with os.fdopen(fd, "wb") as out:
            for _ in range(2):
                out.seek(0)
                out.truncate()
                written = _encode_clip(out, width, height, attempt, frames)
                actual = written * 8 * settings.fps / frames
                if actual <= target * 1.03:
                    break
                attempt = replace(settings, bitrate=int(target * target / actual))
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the cache may be shared
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    log.info("generated loop clip %s (%d frames, %.0f kbit/s)", path, frames, actual / 1000)


def _avcc_params(extradata: bytes) -> tuple[int, ParameterSets | None]:
    """NAL length size and parameter sets from an avcC box."""
    length_size = (extradata[4] & 0x03) + 1
    pos = 6
    sps_list: list[bytes] = []
    pps_list: list[bytes] = []
    for _ in range(extradata[5] & 0x1F):
        size = int.from_bytes(extradata[pos : pos + 2], "big")
        sps_list.append(extradata[pos + 2 : pos + 2 + size])
        pos += 2 + size
    count = extradata[pos] if pos < len(extradata) else 0
    pos += 1
    for _ in range(count):
        size = int.from_bytes(extradata[pos : pos + 2], "big")
        pps_list.append(extradata[pos + 2 : pos + 2 + size])
        pos += 2 + size
    if sps_list and pps_list:
        return length_size, ParameterSets(sps=sps_list[0], pps=pps_list[0])
    return length_size, None


def load_clip(path: Path, default_fps: int) -> LoopClip:
    """Read an H.264 file into memory, cut into RTP payloads, starting at its first keyframe."""
    fmt = "h264" if path.suffix.lower() in (".h264", ".264") else None
    with av.open(str(path), format=fmt) as container:
        stream = container.streams.video[0]
        if stream.codec_context.name != "h264":
            raise ValueError(f"{path}: video codec is {stream.codec_context.name}, not h264")
        extradata = bytes(stream.codec_context.extradata or b"")
        avcc = len(extradata) > 6 and extradata[0] == 1
        length_size, params = _avcc_params(extradata) if avcc else (4, None)
        rate = stream.average_rate if fmt is None else None
        fps = round(float(rate)) if rate else default_fps
        width, height = stream.codec_context.width, stream.codec_context.height
        frames: list[tuple[list[bytes], bool]] = []
        for packet in container.demux(stream):
            if packet.size == 0:
                continue
            data = bytes(packet)
            nals = split_avcc(data, length_size) if avcc else split_annexb(data)
            keyframe = bool(packet.is_keyframe)
            if keyframe:
                params = find_parameter_sets(nals) or params
                if params is not None and not any(nal_type(n) == NAL_SPS for n in nals):
                    # Clients joining at this keyframe need the parameter sets in-band.
                    nals = [params.sps, params.pps, *nals]
            if not frames and not keyframe:
                continue
            frames.append((packetize(nals), keyframe))
    if not frames or params is None:
        raise ValueError(f"{path}: no decodable H.264 keyframe found")
    return LoopClip(frames=frames, params=params, width=width, height=height, fps=fps, path=path)


_CLIPS: dict[Path, LoopClip] = {}
_CLIPS_LOCK = threading.Lock()


def get_clip(
    path: Path | None,
    cache_dir: Path,
    width: int,
    height: int,
    settings: EncodeSettings,
    seconds: float,
) -> LoopClip:
    """The clip at ``path``, or the generated one for these settings (made on first use).

    Blocking (encoding, file I/O): call it from a thread. Clips are shared process-wide,
    so a hundred cameras looping the same file hold it in memory once.
    """
    with _CLIPS_LOCK:  # two cameras asking at once must not both generate the file
        if path is None:
            path = cache_dir / clip_name(width, height, settings, seconds)
            if not path.exists():
                log.info("generating loop clip %s, this takes a few seconds", path.name)
                generate_clip(path, width, height, settings, seconds)
        path = path.resolve()
        clip = _CLIPS.get(path)
        if clip is None:
            clip = load_clip(path, settings.fps)
            _CLIPS[path] = clip
        return clip
