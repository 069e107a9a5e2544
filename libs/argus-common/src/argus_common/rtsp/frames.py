"""The unit that travels from a source to every viewer: one encoded access unit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from argus_common.rtsp.packetize import packetize_annexb

VIDEO_CLOCK = 90_000


@dataclass(frozen=True, slots=True)
class AccessUnit:
    """One encoded frame (video: Annex-B H.264; audio: one codec frame).

    ``pts`` counts ``clock`` ticks from the start of the source and never wraps;
    ``wall_ms`` is when it was received (epoch ms), for latency figures.
    """

    kind: Literal["video", "audio"]
    data: bytes
    pts: int
    keyframe: bool
    wall_ms: int
    clock: int = VIDEO_CLOCK
    # RTP payloads, computed by the first viewer that sends the unit and shared by all.
    _rtp: list[list[bytes]] = field(default_factory=list, compare=False, repr=False)

    def rtp_payloads(self) -> list[bytes]:
        """The unit's H.264 RTP payloads (packetized once, then cached)."""
        if not self._rtp:
            self._rtp.append(packetize_annexb(self.data))
        return self._rtp[0]


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a source knows about its media once the camera answered DESCRIBE."""

    video_codec: str
    profile_level_id: str | None
    audio_codec: str | None  # lower-case RTP name: "pcma", "pcmu", "opus", "mpeg4-generic"…
    audio_clock: int | None
    audio_channels: int = 1
