"""Audio tracks in every codec the simulator offers: SDP, ffprobe and PyAV decoding."""

from __future__ import annotations

import itertools
import json
import subprocess
from collections.abc import Callable, Iterator
from typing import Any

import av
import numpy as np
import pytest

from argus_camsim.audio import CODECS, AudioTone
from argus_camsim.cli import build_parser, config_from_args
from argus_camsim.h264 import ParameterSets
from argus_camsim.rtsp.sdp import build_sdp
from argus_testkit.tools import needs

SMALL = ("--resolution", "320x180", "--sub-resolution", "160x90", "--fps", "30")
# camera -> (--audio-codec, ffprobe codec_name, sample rate)
CAMERAS = {
    1: ("pcmu", "pcm_mulaw", 8000),
    2: ("pcma", "pcm_alaw", 8000),
    3: ("opus", "opus", 48000),
    4: ("aac", "aac", 16000),
}


def test_sdp_of_each_codec() -> None:
    params = ParameterSets(bytes.fromhex("6742c01f"), bytes.fromhex("68ce3c80"))
    lines = {
        name: build_sdp("127.0.0.1", "t", params, 30, (320, 180), codec).splitlines()
        for name, codec in CODECS.items()
    }
    assert "m=audio 0 RTP/AVP 0" in lines["pcmu"] and "a=rtpmap:0 PCMU/8000" in lines["pcmu"]
    assert "m=audio 0 RTP/AVP 8" in lines["pcma"] and "a=rtpmap:8 PCMA/8000" in lines["pcma"]
    assert "a=rtpmap:97 opus/48000/2" in lines["opus"]  # RFC 7587: always /48000/2
    assert any(x.startswith("a=fmtp:97 ") and "sprop-stereo=0" in x for x in lines["opus"])
    assert "a=rtpmap:97 MPEG4-GENERIC/16000/1" in lines["aac"]
    assert not any(x.startswith("a=fmtp:0") for x in lines["pcmu"])
    no_audio = build_sdp("127.0.0.1", "t", params, 30, (320, 180), None)
    assert "m=audio" not in no_audio


@pytest.mark.parametrize("name", ["pcmu", "pcma", "opus"])
def test_tone_packets_follow_the_codec_clock(name: str) -> None:
    codec = CODECS[name]
    tone = AudioTone(codec, rtp_base=1000)
    packets = tone.encode_until(0.5)
    assert len(packets) >= 20  # 20 ms frames
    steps = {(b[0] - a[0]) & 0xFFFFFFFF for a, b in itertools.pairwise(packets)}
    assert steps == {codec.frame_samples}
    if name != "opus":  # G.711: one byte per sample
        assert {len(p) for _, p in packets} == {codec.frame_samples}


def test_audio_codec_flags() -> None:
    parser = build_parser()
    cfg = config_from_args(parser.parse_args(
        ["--cameras", "3", "--audio-codec", "opus", "--audio-codec", "cam2:pcmu",
         "--audio-codec", "cam3:none"]))
    assert [cfg.audio_codec_of(i) for i in (1, 2, 3)] == ["opus", "pcmu", None]
    cfg = config_from_args(parser.parse_args(["--cameras", "2", "--audio"]))
    assert [cfg.audio_codec_of(i) for i in (1, 2)] == ["aac", "aac"]
    cfg = config_from_args(parser.parse_args(["--cameras", "2", "--audio-codec", "cam1:pcma"]))
    assert [cfg.audio_codec_of(i) for i in (1, 2)] == ["pcma", None]
    for bad in ("mp3", "cam9:pcmu", "camx:pcmu"):
        with pytest.raises(SystemExit):
            config_from_args(parser.parse_args(["--cameras", "2", "--audio-codec", bad]))


@pytest.fixture(scope="module")
def audio_sim(camsim_launcher: Callable[..., Any]) -> Iterator[Any]:
    flags = [f"--audio-codec=cam{n}:{codec}" for n, (codec, _, _) in CAMERAS.items()]
    sim = camsim_launcher("--cameras", str(len(CAMERAS)), *SMALL, *flags)
    yield sim
    sim.stop()


@needs("ffprobe")
@pytest.mark.parametrize("cam", sorted(CAMERAS))
def test_ffprobe_sees_the_audio_codec(audio_sim: Any, cam: int) -> None:
    _, codec_name, rate = CAMERAS[cam]
    result = subprocess.run(
        ["ffprobe", "-v", "error", "-rtsp_transport", "tcp", "-show_entries",
         "stream=codec_name,codec_type,sample_rate", "-of", "json", audio_sim.url(cam)],
        capture_output=True, text=True, timeout=30,
    )
    assert result.returncode == 0, result.stderr
    found = {s["codec_type"]: s for s in json.loads(result.stdout)["streams"]}
    assert found["video"]["codec_name"] == "h264"
    assert found["audio"]["codec_name"] == codec_name
    assert int(found["audio"]["sample_rate"]) == rate


@pytest.mark.parametrize("cam", [1, 2, 3])
def test_pyav_decodes_the_tone(audio_sim: Any, cam: int) -> None:
    """1.5 s of audio decodes to the 1 kHz beep (over RTSP/TCP, FFmpeg's depacketizers)."""
    _, codec_name, rate = CAMERAS[cam]
    chunks: list[np.ndarray] = []
    with av.open(audio_sim.url(cam), options={"rtsp_transport": "tcp", "timeout": "10000000"},
                 timeout=10) as container:
        stream = container.streams.audio[0]
        assert stream.codec_context.name == codec_name
        for count, frame in enumerate(container.decode(audio=0)):
            chunks.append(frame.to_ndarray().astype(np.float64).reshape(-1, frame.samples)[0])
            if sum(len(c) for c in chunks) >= 1.5 * frame.sample_rate or count > 500:
                break
        sample_rate = frame.sample_rate
    assert sample_rate == rate
    signal = np.concatenate(chunks)
    assert len(signal) >= 1.5 * rate
    peak = np.abs(signal).max()
    assert peak > 0, "silence"
    spectrum = np.abs(np.fft.rfft(signal))
    freqs = np.fft.rfftfreq(len(signal), 1 / rate)
    assert abs(freqs[int(np.argmax(spectrum))] - 1000) < 20
