"""Offer/answer text rewrites for a fast, NAT-friendly answer.

A browser hides its addresses behind mDNS names (``<uuid>.local``). aiortc resolves each one
before ``setRemoteDescription`` returns, about a second on a network without an mDNS
responder, and the answer waits for it. We take those candidates out of the offer and add
them in the background: the browser's connectivity checks reach our host candidates anyway
and ICE learns its address from them (peer-reflexive candidates, RFC 8445 7.3.1.3).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CleanOffer:
    """An offer without mDNS candidates, and those candidates per media index."""

    sdp: str
    mdns: list[tuple[int, str]] = field(default_factory=list)  # (m-line index, candidate)


def strip_mdns_candidates(offer: str) -> CleanOffer:
    """Remove ``.local`` candidates (and end-of-candidates after them) from an offer."""
    out: list[str] = []
    mdns: list[tuple[int, str]] = []
    index = -1
    for line in offer.splitlines():
        if line.startswith("m="):
            index += 1
        if line.startswith("a=candidate:"):
            parts = line[len("a=candidate:") :].split()
            if len(parts) > 4 and parts[4].lower().endswith(".local"):
                mdns.append((index, line[2:]))
                continue
        if line.startswith("a=end-of-candidates") and mdns:
            # Promising no more candidates would make ICE fail before checks arrive.
            continue
        out.append(line)
    return CleanOffer("\r\n".join(out) + "\r\n", mdns)


def add_public_ip(answer: str, public_ip: str) -> str:
    """Advertise every host candidate also at ``public_ip`` (1:1 NAT, same ports)."""
    if not public_ip:
        return answer
    out: list[str] = []
    for line in answer.splitlines():
        out.append(line)
        if line.startswith("a=candidate:") and " typ host" in line:
            parts = line.split()
            if len(parts) > 5 and parts[4] != public_ip:
                parts[0] = parts[0] + "0"  # a foundation of its own
                parts[4] = public_ip
                out.append(" ".join(parts))
    return "\r\n".join(out) + "\r\n"


def offer_has_h264(offer: str) -> bool:
    """Whether a video section of the offer lists H.264."""
    in_video = False
    for line in offer.splitlines():
        if line.startswith("m="):
            in_video = line.startswith("m=video")
        elif in_video and line.lower().startswith("a=rtpmap:") and "h264/" in line.lower():
            return True
    return False


def offer_has_audio(offer: str) -> bool:
    """Whether the offer has an audio section."""
    return any(line.startswith("m=audio") for line in offer.splitlines())
