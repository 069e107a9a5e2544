"""Which camera audio the live path passes to browsers (RTP demuxing: argus_common.rtsp)."""

from __future__ import annotations

from argus_common.rtsp.sdp import SdpTrack

# Audio codecs a browser can take as they are (RFC 7587, RFC 3551).
PASSTHROUGH_AUDIO = frozenset({"opus", "pcma", "pcmu"})


def audio_passthrough(track: SdpTrack) -> bool:
    """Whether an audio track can go to browsers without transcoding."""
    return track.codec in PASSTHROUGH_AUDIO
