"""The recorder's own RTSP ingest without a network: RTP → access units → fMP4 segments.

RTP is made the way cameras make it (argus_common's packetizer: single NAL units, STAP-A,
FU-A), the files are checked with FFmpeg (demux and decode) and with the box walker.
"""

from __future__ import annotations

import itertools
import os
import struct
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from recmedia import boxes

from argus_common.h264 import split_annexb
from argus_common.rtsp.packetize import packetize_annexb
from argus_common.rtsp.sdp import SdpTrack
from argus_recording.clock import MediaClock
from argus_recording.fragments import FragmentContext, FragmentWriter
from argus_recording.layout import DirMaker
from argus_recording.modes import ContinuousRecorder
from argus_recording.mp4box import walk
from argus_recording.rtp_au import AuAssembler, AudioAU, VideoAU
from argus_recording.rtp_stamp import RtpStamper
from argus_recording.rtsp_worker import audio_track
from argus_recording.salvage import _describe, salvage
from argus_recording.writer import ClosedSegment

T0 = 1_795_383_000_000.0
AAC_CONFIG = bytes.fromhex("1408")  # AAC-LC, 16 kHz, mono


def _rtp(payload: bytes, seq: int, ts: int, marker: bool, pt: int = 96) -> bytes:
    return struct.pack(">BBHII", 0x80, (0x80 if marker else 0) | pt, seq & 0xFFFF,
                       ts & 0xFFFFFFFF, 1234) + payload


def _rtp_stream(frames: list[tuple[bytes, int]], ts0: int = 0xFFFF0000, mtu: int = 1200
                ) -> list[bytes]:
    """RTP packets of Annex B access units (with their 90 kHz pts), the timestamp starting
    just below the 32-bit wrap so that it wraps within the stream."""
    out, seq = [], 65_530  # the sequence number wraps too
    for data, pts in frames:
        payloads = packetize_annexb(data, mtu)
        for i, payload in enumerate(payloads):
            out.append(_rtp(payload, seq, ts0 + pts, i == len(payloads) - 1))
            seq += 1
    return out


def _encoded(count: int, gop: int, fps: int, bframes: int = 0, size: tuple[int, int] = (64, 48)
             ) -> list[tuple[bytes, int, bool]]:
    """Annex B access units in decode order with 90 kHz pts, SPS/PPS before each IDR."""
    ctx = av.CodecContext.create("libx264", "w")
    ctx.width, ctx.height, ctx.pix_fmt = size[0], size[1], "yuv420p"
    ctx.time_base = Fraction(1, fps)
    ctx.options = {"preset": "ultrafast", "x264-params":
                   f"keyint={gop}:min-keyint={gop}:scenecut=0:repeat-headers=1:"
                   f"bframes={bframes}:b-pyramid=none"}
    packets = []
    for i in range(count):
        img = np.full((size[1], size[0], 3), (i * 7) % 255, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(img, format="rgb24")
        frame.pts = i
        packets.extend(ctx.encode(frame))
    packets.extend(ctx.encode(None))
    step = 90_000 // fps
    return [(bytes(p), int(p.pts) * step, bool(p.is_keyframe)) for p in packets]


def _avcc(annexb: bytes) -> bytes:
    return b"".join(len(n).to_bytes(4, "big") + n for n in split_annexb(annexb))


def test_assembler_rebuilds_access_units_across_fu_a_stap_a_and_wraps() -> None:
    encoded = _encoded(12, gop=6, fps=15, size=(320, 240))
    units: list[VideoAU] = []
    asm = AuAssembler(0, None, None, units.append, lambda a: None)
    for packet in _rtp_stream([(d, p) for d, p, _ in encoded]):
        asm(0, packet)
        asm(1, b"\x80\xc8" + bytes(26))  # RTCP between RTP packets is ignored
    assert [u.data for u in units] == [_avcc(d) for d, _, _ in encoded]
    assert [u.key for u in units] == [k for _, _, k in encoded]
    assert [u.ts for u in units] == [p for _, p, _ in encoded]  # unwrapped past 2**32
    assert units[0].sps is not None and units[0].pps is not None and asm.lost == 0


def test_a_sequence_gap_drops_only_the_broken_access_unit() -> None:
    encoded = _encoded(6, gop=6, fps=15, size=(320, 240))
    packets = _rtp_stream([(d, p) for d, p, _ in encoded], mtu=40)
    # The unit of each packet; drop the first packet of the first unit after the first
    # that spans several packets.
    unit_of, n = [], 0
    for packet in packets:
        unit_of.append(n)
        n += packet[1] >> 7
    victim = next(i for i, u in enumerate(unit_of) if u >= 1 and unit_of.count(u) > 1)
    units: list[VideoAU] = []
    asm = AuAssembler(0, None, None, units.append, lambda a: None)
    for i, packet in enumerate(packets):
        if i != victim:
            asm(0, packet)
    assert asm.lost == 1
    kept = [p for u, (_, p, _) in enumerate(encoded) if u != unit_of[victim]]
    assert [u.ts - units[0].ts for u in units] == [p - kept[0] for p in kept]


def test_aac_hbr_packets_with_several_access_units() -> None:
    frames = [b"\x21" * 50, b"\x22" * 70]
    headers = b"".join(struct.pack(">H", len(f) << 3) for f in frames)
    payload = struct.pack(">H", 16 * len(frames)) + headers + b"".join(frames)
    got: list[AudioAU] = []
    asm = AuAssembler(0, 2, "aac", lambda v: None, got.append)
    asm(2, _rtp(payload, 1, 5000, True, 97))
    assert [a.data for a in got] == frames and [a.ts for a in got] == [0, 1024]
    track = SdpTrack("audio", 97, "mpeg4-generic", 16000, 1,
                     fmtp={"mode": "AAC-hbr", "config": AAC_CONFIG.hex()})
    spec = audio_track(track)
    assert spec is not None and spec.config == AAC_CONFIG and spec.sample_rate == 16000
    assert audio_track(SdpTrack("audio", 0, "pcmu", 8000)) is None


class _Sink:
    def __init__(self) -> None:
        self.closed: list[ClosedSegment] = []
        self.failed: list[BaseException] = []

    def failed_cb(self, writer: FragmentWriter, exc: BaseException) -> None:
        self.failed.append(exc)


def _record(root: Path, encoded: list[tuple[bytes, int, bool]], segment_ms: float,
            fps: int, audio: bool = False) -> list[ClosedSegment]:
    units: list[VideoAU] = []
    asm = AuAssembler(0, None, None, units.append, lambda a: None)
    for packet in _rtp_stream([(d, p) for d, p, _ in encoded]):
        asm(0, packet)
    sink = _Sink()
    stamper = RtpStamper(None, None, 16000 if audio else 0, 2000)  # SPS/PPS in-band only
    spec = audio_track(SdpTrack("audio", 97, "mpeg4-generic", 16000, 1, fmtp={
        "mode": "AAC-hbr", "config": AAC_CONFIG.hex()})) if audio else None
    ctx = FragmentContext(camera_id=3, root=root, dirs=DirMaker(root, True), durable=True,
                          audio=spec, clock=stamper.clock, on_closed=sink.closed.append,
                          on_failed=sink.failed_cb, run_later=lambda fn: fn())
    recorder = ContinuousRecorder(ctx, segment_ms)
    aac = _aac_frames(len(units) * 16000 // fps // 1024) if audio else []
    audio_at = 0
    for unit in units:
        unit.recv_ms = T0 + unit.ts / 90 + 25
        recorder.on_packet(stamper.video(unit))
        while audio and audio_at < len(aac) and audio_at * 1024 / 16 <= unit.ts / 90:
            ts = audio_at * 1024
            item = stamper.audio(AudioAU(aac[audio_at], ts, T0 + ts / 16 + 25))
            if item is not None:
                recorder.on_packet(item)
            audio_at += 1
    recorder.stop()
    assert not sink.failed
    return sink.closed


def _aac_frames(count: int) -> list[bytes]:
    ctx = av.CodecContext.create("aac", "w")
    ctx.sample_rate, ctx.layout, ctx.format = 16000, "mono", "fltp"
    out = []
    for i in range(count + 2):
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 1024), dtype=np.float32),
                                           format="fltp", layout="mono")
        frame.sample_rate, frame.pts = 16000, i * 1024
        out += [bytes(p) for p in ctx.encode(frame)]
    return out[:count]


@pytest.mark.parametrize("bframes", [0, 2])
def test_segments_play_in_order_and_touch(tmp_path: Path, bframes: int) -> None:
    fps = 15
    encoded = _encoded(75, gop=15, fps=fps, bframes=bframes)  # 5 s, keyframe every second
    segs = _record(tmp_path, encoded, 2000, fps)
    assert [round(s.duration_s, 3) for s in segs] == [2.0, 2.0, 1.0]
    for a, b in itertools.pairwise(segs):
        assert a.end_ms == b.start_ms
    assert segs[0].start_ms == round(T0 + 25)
    for seg in segs:
        path = tmp_path / seg.relpath
        layout = walk(path)
        assert layout.clean and layout.playable and layout.fragments == seg.duration_s
        assert seg.bytes == path.stat().st_size
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            assert (stream.codec_context.width, stream.codec_context.height) == (64, 48)
            pts = [f.pts for f in container.decode(stream)]
        step = round(1 / fps / float(stream.time_base))
        # Every frame, in order. With B-frames the decode times are the sorted presentation
        # times and some composition offsets are negative (trun version 1): FFmpeg then
        # shifts presentation by the reorder depth (here one frame).
        shift = step if bframes else 0
        assert pts == [shift + i * step for i in range(len(pts))]
        assert len(pts) == round(seg.duration_s * fps)
        assert _describe(path)[5] == "continuous"


def test_audio_track_and_in_band_parameter_sets(tmp_path: Path) -> None:
    encoded = _encoded(45, gop=15, fps=15)
    segs = _record(tmp_path, encoded, 60_000, 15, audio=True)
    (seg,) = segs
    assert seg.has_audio
    with av.open(str(tmp_path / seg.relpath)) as container:
        audio = container.streams.audio[0]
        assert audio.codec_context.name == "aac" and audio.codec_context.sample_rate == 16000
        apts = [p.pts for p in container.demux(audio) if p.size]
    assert len(apts) > 30 and apts == sorted(apts)


def test_a_torn_fragment_is_cut_back_and_the_rest_plays(tmp_path: Path) -> None:
    encoded = _encoded(60, gop=15, fps=15)
    (seg,) = _record(tmp_path, encoded, 60_000, 15)
    path = tmp_path / seg.relpath
    whole = path.stat().st_size
    last_moof = [b for b in boxes(path) if b[0] == "moof"][-1]
    os.truncate(path, last_moof[1] + last_moof[2] + 100)  # killed while writing a GOP
    salvaged = salvage(tmp_path, seg.relpath, 3, "continuous")
    assert salvaged is not None and salvaged.bytes == last_moof[1] < whole
    assert round(salvaged.end_ms - salvaged.start_ms) == 3000
    with av.open(str(path)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 45


def test_a_new_sps_starts_a_new_segment_with_its_own_sample_entry(tmp_path: Path) -> None:
    small = _encoded(30, gop=15, fps=15, size=(64, 48))
    large = _encoded(30, gop=15, fps=15, size=(96, 64))
    shift = small[-1][1] + 6000
    segs = _record(tmp_path, small + [(d, p + shift, k) for d, p, k in large], 60_000, 15)
    assert [(s.width, s.height) for s in segs] == [(64, 48), (96, 64)]
    assert segs[0].end_ms == segs[1].start_ms
    with av.open(str(tmp_path / segs[1].relpath)) as container:
        assert sum(1 for _ in container.decode(video=0)) == 30


def test_clock_is_reset_on_a_timestamp_jump() -> None:
    stamper = RtpStamper(None, None, 0, 2000)
    stamper.video(VideoAU(b"x", 0, False, T0, None, None))
    stamper.video(VideoAU(b"x", 6000, False, T0 + 66, None, None))
    assert not stamper.jumped
    stamper.video(VideoAU(b"x", 6000 + 90_000 * 60, False, T0 + 133, None, None))
    assert stamper.jumped and isinstance(stamper.clock, MediaClock)
