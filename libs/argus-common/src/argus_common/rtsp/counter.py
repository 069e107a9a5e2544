"""Counting frames without depacketizing: an ``on_rtp`` handler for load tests, benches and
simulator checks that must stay light enough for one process to follow a hundred streams.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FrameCount:
    """What a :class:`FrameCounter` saw on its channel: RTP packets, payload bytes (RTP
    headers included) and frames (packets with the marker bit), with their timestamps."""

    frames: int = 0
    packets: int = 0
    bytes: int = 0
    first_ts: int | None = None
    last_ts: int | None = None
    timestamps: list[int] = field(default_factory=list)


class FrameCounter:
    """An ``on_rtp`` handler counting the RTP packets and frames of one channel (RTCP on
    the odd channel and other tracks are ignored). :meth:`take` returns the count so far
    and starts a new one."""

    def __init__(self, channel: int = 0, *, keep_timestamps: bool = False) -> None:
        self.channel = channel
        self.keep_timestamps = keep_timestamps
        self.count = FrameCount()

    def __call__(self, channel: int, packet: bytes) -> None:
        """Count one interleaved frame."""
        if channel != self.channel or len(packet) < 12:
            return
        c = self.count
        c.packets += 1
        c.bytes += len(packet)
        if packet[1] & 0x80:
            c.frames += 1
            ts = int.from_bytes(packet[4:8], "big")
            if c.first_ts is None:
                c.first_ts = ts
            c.last_ts = ts
            if self.keep_timestamps:
                c.timestamps.append(ts)

    def take(self) -> FrameCount:
        """The count since the last ``take`` (or the start); counting goes on afresh."""
        count, self.count = self.count, FrameCount()
        return count
