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

The H.264 depacketizer under ``RtpDemux`` is :class:`H264Depacketizer` (``depay.py``), the
one every service uses: ``H264Depacketizer(on_unit, channel=0, annexb=False)`` is itself
an ``on_rtp`` handler and gives :class:`H264Unit` objects, MP4 samples (4-byte lengths,
the recorder) or Annex-B (``annexb=True``, the live path), with keyframe flag, unwrapped
timestamp and in-band SPS/PPS. A camera whose video is not H.264 raises
:class:`RtspUnsupportedCodec` from ``setup()``.
"""

from argus_common.rtsp.client import (
    PlayingTrack,
    Response,
    RtspClient,
    split_credentials,
    strip_userinfo,
)
from argus_common.rtsp.demux import RtpDemux
from argus_common.rtsp.depay import H264Depacketizer, H264Unit
from argus_common.rtsp.errors import (
    RtspAuthFailed,
    RtspError,
    RtspRefused,
    RtspTimeout,
    RtspUnreachable,
    RtspUnsupported,
    RtspUnsupportedCodec,
)
from argus_common.rtsp.frames import VIDEO_CLOCK, AccessUnit, StreamInfo
from argus_common.rtsp.sdp import SdpTrack

__all__ = [
    "VIDEO_CLOCK",
    "AccessUnit",
    "H264Depacketizer",
    "H264Unit",
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
    "RtspUnsupportedCodec",
    "SdpTrack",
    "StreamInfo",
    "split_credentials",
    "strip_userinfo",
]
