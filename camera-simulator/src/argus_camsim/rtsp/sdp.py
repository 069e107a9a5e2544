"""SDP (RFC 4566) session description returned by DESCRIBE."""

from __future__ import annotations

import time

from argus_camsim.audio import AudioCodec
from argus_camsim.h264 import ParameterSets
from argus_camsim.rtp import VIDEO_CLOCK, VIDEO_PT

VIDEO_TRACK = 0
AUDIO_TRACK = 1


def build_sdp(
    server_ip: str,
    title: str,
    params: ParameterSets,
    fps: int,
    size: tuple[int, int],
    audio: AudioCodec | None,
) -> str:
    """SDP with an H.264 track (trackID=0) and optionally an audio track (trackID=1)."""
    version = int(time.time())
    lines = [
        "v=0",
        f"o=- {version} {version} IN IP4 {server_ip}",
        f"s={title}",
        "c=IN IP4 0.0.0.0",
        "t=0 0",
        "a=control:*",
        "a=range:npt=0-",
        f"m=video 0 RTP/AVP {VIDEO_PT}",
        f"a=rtpmap:{VIDEO_PT} H264/{VIDEO_CLOCK}",
        (
            f"a=fmtp:{VIDEO_PT} packetization-mode=1;profile-level-id={params.profile_level_id};"
            f"sprop-parameter-sets={params.sprop}"
        ),
        f"a=framerate:{fps}",
        f"a=x-dimensions:{size[0]},{size[1]}",
        f"a=control:trackID={VIDEO_TRACK}",
    ]
    if audio is not None:
        pt = audio.payload_type
        lines += [f"m=audio 0 RTP/AVP {pt}", f"a=rtpmap:{pt} {audio.rtpmap}"]
        if audio.fmtp:
            lines.append(f"a=fmtp:{pt} {audio.fmtp}")
        lines.append(f"a=control:trackID={AUDIO_TRACK}")
    return "\r\n".join(lines) + "\r\n"
