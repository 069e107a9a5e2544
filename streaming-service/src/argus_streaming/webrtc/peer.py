"""Building an answering RTCPeerConnection for a WHEP offer (shared by live and playback)."""

from __future__ import annotations

import contextlib

import structlog
from aiortc import (
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCodecCapability,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack

from argus_common.errors import BadRequest
from argus_streaming.config import Settings
from argus_streaming.tasks import spawn
from argus_streaming.webrtc.codecs import h264_preferences
from argus_streaming.webrtc.compat import candidate_from_sdp, set_host_addresses
from argus_streaming.webrtc.ice import ice_port_range
from argus_streaming.webrtc.sdp import (
    PLAYOUT_DELAY_URI,
    add_public_ip,
    add_video_extmap,
    strip_mdns_candidates,
    video_extmap_id,
)
from argus_streaming.webrtc.sender import PassThroughSender, playout_delay
from argus_streaming.webrtc.tracks import RelayVideoTrack

log = structlog.get_logger("argus.streaming.webrtc")
_AUDIO_CAPS = {
    "opus": RTCRtpCodecCapability(mimeType="audio/opus", clockRate=48000, channels=2),
    "pcma": RTCRtpCodecCapability(mimeType="audio/PCMA", clockRate=8000, channels=1),
    "pcmu": RTCRtpCodecCapability(mimeType="audio/PCMU", clockRate=8000, channels=1),
}


def restrict_ice_addresses(addresses: list[str]) -> None:
    """Offer host candidates on ``addresses`` only (empty: aioice's default, every
    interface but loopback). Process-wide; needs ``compat.install()``."""
    set_host_addresses(addresses)


def ice_servers(settings: Settings) -> list[RTCIceServer]:
    """STUN/TURN servers from settings; none by default (host candidates only)."""
    servers = [RTCIceServer(urls=u.strip()) for u in settings.stun_urls.split(",") if u.strip()]
    if settings.turn_url:
        servers.append(RTCIceServer(urls=settings.turn_url, username=settings.turn_username,
                                    credential=settings.turn_password))
    return servers


async def answer_offer(
    settings: Settings,
    offer_sdp: str,
    video: MediaStreamTrack,
    video_profile: str | None,
    audio: MediaStreamTrack | None = None,
    audio_codec: str | None = None,
) -> tuple[RTCPeerConnection, str]:
    """A peer connection sending ``video`` (and ``audio``) and the SDP answer to return.

    The answer does not wait for mDNS candidates of the offer (see ``webrtc/sdp.py``).
    """
    clean = strip_mdns_candidates(offer_sdp)
    # An explicit empty list: aiortc would otherwise add a public STUN server.
    pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers(settings)))
    try:
        vt = pc.addTransceiver(video, direction="sendonly")
        delay_id = None
        if isinstance(video, RelayVideoTrack):
            if settings.playout_delay_max_ms >= 0:
                delay_id = video_extmap_id(clean.sdp, PLAYOUT_DELAY_URI)
            PassThroughSender.adopt(vt.sender, None if delay_id is None else (
                delay_id, playout_delay(settings.playout_delay_max_ms)))
        vt.setCodecPreferences(h264_preferences(video_profile))
        if audio is not None and audio_codec in _AUDIO_CAPS:
            at = pc.addTransceiver(audio, direction="sendonly")
            at.setCodecPreferences([_AUDIO_CAPS[audio_codec]])
        try:
            await pc.setRemoteDescription(RTCSessionDescription(clean.sdp, "offer"))
        except Exception as exc:  # aiortc raises ValueError, OperationError, …
            raise BadRequest(f"unusable SDP offer: {str(exc)[:200]}") from None
        # ICE gathers here: host candidates inside STREAMING_ICE_PORT_MIN..MAX when set
        # (503 when the range is exhausted).
        with ice_port_range(settings.ice_port_range()):
            await pc.setLocalDescription(await pc.createAnswer())
    except BaseException:
        await pc.close()
        raise
    if clean.mdns:
        spawn(_add_mdns_candidates(pc, clean.mdns))
    answer = add_public_ip(pc.localDescription.sdp, settings.public_ip)
    if delay_id is not None:
        answer = add_video_extmap(answer, delay_id, PLAYOUT_DELAY_URI)
    return pc, answer


async def _add_mdns_candidates(pc: RTCPeerConnection, candidates: list[tuple[int, str]]) -> None:
    """Resolve the offer's ``.local`` candidates in the background (they may help when our
    own candidates cannot be reached from the browser)."""
    for index, line in candidates:
        try:
            candidate = candidate_from_sdp(line.split(":", 1)[1])
        except (AssertionError, ValueError, IndexError):
            continue
        candidate.sdpMLineIndex = index
        with contextlib.suppress(Exception):
            await pc.addIceCandidate(candidate)
