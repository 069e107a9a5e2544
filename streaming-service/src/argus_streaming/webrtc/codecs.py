"""H.264 codec negotiation for pass-through.

aiortc only lists constrained baseline H.264 (it encodes with libx264 baseline). We send the
camera's own bitstream, so the answer must name the camera's profile or a browser may pick a
decoder configuration that does not match; main and high are added to aiortc's codec table
once (through ``compat``: the table is not aiortc API), and each session prefers the entry
with the camera's profile.
"""

from __future__ import annotations

from aiortc import RTCRtpCodecCapability, RTCRtpCodecParameters

from argus_streaming.webrtc import compat
from argus_streaming.webrtc.compat import RTCRtcpFeedback, h264_profile

_EXTRA_PROFILES = ("4d001f", "64001f")  # main, high (level is not part of matching)
_FALLBACK = "42e01f"


def install_h264_profiles() -> None:
    """Add main and high profile H.264 to aiortc's video codecs (idempotent; needs
    ``compat.install()``)."""
    video = compat.video_codecs()
    added: list[RTCRtpCodecParameters] = []
    have = {c.parameters.get("profile-level-id") for c in video if c.mimeType == "video/H264"}
    pt = max(c.payloadType or 0 for c in video) + 1
    feedback = [RTCRtcpFeedback(type="nack"), RTCRtcpFeedback(type="nack", parameter="pli"),
                RTCRtcpFeedback(type="goog-remb")]
    for plid in _EXTRA_PROFILES:
        if plid in have:
            continue
        added.append(RTCRtpCodecParameters(
            mimeType="video/H264", clockRate=90000, payloadType=pt, rtcpFeedback=feedback,
            parameters={"level-asymmetry-allowed": "1", "packetization-mode": "1",
                        "profile-level-id": plid},
        ))
        added.append(RTCRtpCodecParameters(
            mimeType="video/rtx", clockRate=90000, payloadType=pt + 1, parameters={"apt": pt},
        ))
        pt += 2
    if added:
        compat.add_video_codecs(added)


def h264_preferences(camera_plid: str | None) -> list[RTCRtpCodecCapability]:
    """H.264 codecs in order of preference for a camera profile (RTX kept)."""
    entries = [c for c in compat.video_codecs() if c.mimeType == "video/H264"]
    wanted = h264_profile(camera_plid) if camera_plid else None
    first = [c for c in entries if wanted is not None
             and h264_profile(str(c.parameters.get("profile-level-id"))) == wanted]
    fallback = [c for c in entries if c.parameters.get("profile-level-id") == _FALLBACK]
    rest = [c for c in entries if c not in first and c not in fallback]
    ordered = first + [c for c in fallback if c not in first] + rest
    caps = [RTCRtpCodecCapability(mimeType=c.mimeType, clockRate=c.clockRate,
                                  parameters=dict(c.parameters)) for c in ordered]
    caps.append(RTCRtpCodecCapability(mimeType="video/rtx", clockRate=90000))
    return caps
