"""AAC-LC tone for the optional audio track: a 1 kHz beep of 200 ms every second.

Runs inside a live encoder thread; produces RFC 3640 payloads with RTP timestamps on a
16 kHz clock.
"""

from __future__ import annotations

import av
import numpy as np

from argus_camsim.rtp import aac_payload

SAMPLE_RATE = 16_000
FRAME_SAMPLES = 1024
# AudioSpecificConfig of AAC-LC, 16 kHz, mono: object type 2, frequency index 8, 1 channel.
AAC_CONFIG_HEX = "1408"
TONE_HZ = 1000.0


def tone_samples(start: int, count: int) -> np.ndarray:
    """``count`` float32 samples of the beep pattern starting at sample index ``start``."""
    n = np.arange(start, start + count)
    beep_on = (n % SAMPLE_RATE) < SAMPLE_RATE // 5
    wave = 0.3 * np.sin(2 * np.pi * TONE_HZ * n / SAMPLE_RATE)
    return np.where(beep_on, wave, 0.0).astype(np.float32)


class AacTone:
    """Encodes the tone up to a given time, in whole AAC frames."""

    def __init__(self, rtp_base: int) -> None:
        self._ctx = av.CodecContext.create("aac", "w")
        self._ctx.sample_rate = SAMPLE_RATE
        self._ctx.layout = "mono"
        self._ctx.format = "fltp"
        self._ctx.bit_rate = 32_000
        self._ctx.open()
        self._next_sample = 0
        self._rtp_base = rtp_base

    def encode_until(self, elapsed_s: float) -> list[tuple[int, bytes]]:
        """Encode every whole frame due by ``elapsed_s`` seconds; (rtp_ts, payload) pairs."""
        out: list[tuple[int, bytes]] = []
        due = int(elapsed_s * SAMPLE_RATE)
        while self._next_sample + FRAME_SAMPLES <= due:
            samples = tone_samples(self._next_sample, FRAME_SAMPLES).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(samples, format="fltp", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frame.pts = self._next_sample
            self._next_sample += FRAME_SAMPLES
            for packet in self._ctx.encode(frame):
                pts = packet.pts if packet.pts is not None else self._next_sample
                out.append(((self._rtp_base + pts) & 0xFFFFFFFF, aac_payload(bytes(packet))))
        return out

    def skip_to(self, elapsed_s: float) -> None:
        """Jump ahead (after the encoder thread fell behind) without encoding the gap."""
        due = int(elapsed_s * SAMPLE_RATE)
        if due - self._next_sample > SAMPLE_RATE:
            self._next_sample = due // FRAME_SAMPLES * FRAME_SAMPLES
