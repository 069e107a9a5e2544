"""A received packet with what the recorder computed about it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from argus_recording.params import VideoParams


@dataclass(slots=True)
class Item:
    """One demuxed packet. ``pts``/``dts`` are the original values in the input stream's
    time base (``tb`` as a float); ``wall_ms`` is its wall-clock time (clock.py).
    ``packet`` is an ``av.Packet`` (PyAV ingest) or a ``VideoAU``/``AudioAU`` (rtp_au.py)."""

    packet: Any
    stream_index: int
    is_video: bool
    key: bool
    pts: int
    dts: int
    tb: float
    size: int
    wall_ms: float
    recv_ms: float
    params: VideoParams

    @property
    def media_s(self) -> float:
        return self.pts * self.tb
