"""One RTSP client for every ARGUS service (RFC 2326 over TCP-interleaved RTP).

Pull H.264 access units from a camera::

    from argus_common.rtsp import RtpDemux, RtspClient, RtspError

    client = RtspClient("rtsp://user:pw@cam/stream", connect_timeout_s=5, request_timeout_s=5)
    try:
        tracks = await client.setup()           # DESCRIBE + SETUP (tracks[0] is H.264 video)
        video = tracks[0]
        client.on_rtp = RtpDemux(video.sdp, video.channel, None, None, emit=on_unit)
        await client.play()                     # on_unit(AccessUnit) runs from data_received
        await client.closed                     # resolves when the camera hangs up
    except RtspError as exc:                    # str(exc) never holds credentials
        ...
    finally:
        await client.close()                    # TEARDOWN (best effort) and close

``on_unit`` gets :class:`AccessUnit` objects (``data``: Annex-B with SPS/PPS before every
IDR, ``pts`` in 90 kHz ticks, never wrapping, ``keyframe``), synchronously from the socket
callback that completed them: keep it short, never block. ``client.last_data`` (loop time)
tells a stalled stream. ``RtspClient(url, on_rtp).start()`` does setup and play in one call
when the handler is known up front.
"""

from argus_common.rtsp.client import (
    PlayingTrack,
    Response,
    RtspClient,
    split_credentials,
    strip_userinfo,
)
from argus_common.rtsp.demux import RtpDemux
from argus_common.rtsp.errors import (
    RtspAuthFailed,
    RtspError,
    RtspRefused,
    RtspTimeout,
    RtspUnreachable,
    RtspUnsupported,
)
from argus_common.rtsp.frames import VIDEO_CLOCK, AccessUnit, StreamInfo
from argus_common.rtsp.sdp import SdpTrack

__all__ = [
    "VIDEO_CLOCK",
    "AccessUnit",
    "PlayingTrack",
    "Response",
    "RtpDemux",
    "RtspAuthFailed",
    "RtspClient",
    "RtspError",
    "RtspRefused",
    "RtspTimeout",
    "RtspUnreachable",
    "RtspUnsupported",
    "SdpTrack",
    "StreamInfo",
    "split_credentials",
    "strip_userinfo",
]
