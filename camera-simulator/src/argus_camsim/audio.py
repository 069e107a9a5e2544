"""The optional audio track: a 1 kHz beep of 200 ms every second, in one of four codecs.

AAC-LC (RFC 3640, 16 kHz), G.711 mu-law and A-law (RFC 3551 PCMU/PCMA, 8 kHz, 20 ms per
packet) and Opus (RFC 7587, 48 kHz clock, 20 ms, mono). Runs inside a live encoder
thread; produces one RTP payload per codec frame, with RTP timestamps on the codec's clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import av
import numpy as np

from argus_camsim.rtp import aac_payload

TONE_HZ = 1000.0
AUDIO_CODECS = ("aac", "pcmu", "pcma", "opus")
# AudioSpecificConfig of AAC-LC, 16 kHz, mono: object type 2, frequency index 8, 1 channel.
AAC_CONFIG_HEX = "1408"


def _raw(frame: bytes) -> bytes:
    return frame


@dataclass(frozen=True)
class AudioCodec:
    """How one audio codec is encoded, framed in RTP and described in SDP."""

    name: str  # what --audio-codec takes
    encoder: str  # FFmpeg encoder
    sample_rate: int  # encoder input rate, also the RTP clock (RFC 7587: Opus is 48 kHz)
    frame_samples: int  # samples per RTP packet
    sample_format: str  # what the encoder takes
    payload_type: int  # static (RFC 3551) or dynamic
    rtpmap: str  # encoding name/clock rate[/channels]
    fmtp: str = ""
    bit_rate: int = 0
    # RFC 3640 sets the marker bit on every packet holding a whole AU; G.711 and Opus set
    # it only on the first packet after silence, which a continuous track never has.
    marker: bool = False
    payload: Callable[[bytes], bytes] = _raw


CODECS: dict[str, AudioCodec] = {
    "aac": AudioCodec(
        "aac", "aac", 16_000, 1024, "fltp", 97, "MPEG4-GENERIC/16000/1",
        f"streamtype=5;profile-level-id=15;mode=AAC-hbr;config={AAC_CONFIG_HEX};"
        "sizelength=13;indexlength=3;indexdeltalength=3",
        bit_rate=32_000, marker=True, payload=aac_payload,
    ),
    "pcmu": AudioCodec("pcmu", "pcm_mulaw", 8000, 160, "s16", 0, "PCMU/8000"),
    "pcma": AudioCodec("pcma", "pcm_alaw", 8000, 160, "s16", 8, "PCMA/8000"),
    # RFC 7587: always "opus/48000/2"; sprop-stereo=0 says this sender sends mono.
    "opus": AudioCodec(
        "opus", "libopus", 48_000, 960, "s16", 97, "opus/48000/2",
        "minptime=10;useinbandfec=0;sprop-stereo=0", bit_rate=32_000,
    ),
}


def tone_samples(start: int, count: int, sample_rate: int) -> np.ndarray:
    """``count`` float samples (-1..1) of the beep pattern from sample index ``start``."""
    n = np.arange(start, start + count)
    beep_on = (n % sample_rate) < sample_rate // 5
    wave = 0.3 * np.sin(2 * np.pi * TONE_HZ * n / sample_rate)
    return np.where(beep_on, wave, 0.0)


class AudioTone:
    """Encodes the tone up to a given time, in whole codec frames."""

    def __init__(self, codec: AudioCodec, rtp_base: int) -> None:
        self.codec = codec
        ctx = av.CodecContext.create(codec.encoder, "w")
        assert isinstance(ctx, av.audio.codeccontext.AudioCodecContext)
        ctx.sample_rate = codec.sample_rate
        ctx.layout = "mono"
        ctx.format = codec.sample_format
        if codec.bit_rate:
            ctx.bit_rate = codec.bit_rate
        if codec.encoder == "libopus":
            # One packet per 20 ms frame, no look-ahead beyond what Opus needs.
            ctx.options = {"frame_duration": "20", "application": "lowdelay"}
        ctx.open()
        self._ctx = ctx
        self._next_sample = 0
        self._rtp_base = rtp_base

    def _frame(self) -> av.AudioFrame:
        codec = self.codec
        wave = tone_samples(self._next_sample, codec.frame_samples, codec.sample_rate)
        fmt = codec.sample_format
        if fmt == "s16":
            pcm = (wave * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format=fmt, layout="mono")
        else:
            flt = wave.astype(np.float32).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(flt, format=fmt, layout="mono")
        frame.sample_rate = codec.sample_rate
        frame.pts = self._next_sample
        return frame

    def encode_until(self, elapsed_s: float) -> list[tuple[int, bytes]]:
        """Encode every whole frame due by ``elapsed_s`` seconds; (rtp_ts, payload) pairs."""
        codec = self.codec
        out: list[tuple[int, bytes]] = []
        due = int(elapsed_s * codec.sample_rate)
        while self._next_sample + codec.frame_samples <= due:
            frame = self._frame()
            self._next_sample += codec.frame_samples
            for packet in self._ctx.encode(frame):
                pts = packet.pts if packet.pts is not None else self._next_sample
                out.append(((self._rtp_base + pts) & 0xFFFFFFFF, codec.payload(bytes(packet))))
        return out

    def skip_to(self, elapsed_s: float) -> None:
        """Jump ahead (after the encoder thread fell behind) without encoding the gap."""
        rate, size = self.codec.sample_rate, self.codec.frame_samples
        due = int(elapsed_s * rate)
        if due - self._next_sample > rate:
            self._next_sample = due // size * size
