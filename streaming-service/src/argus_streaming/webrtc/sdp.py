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


PLAYOUT_DELAY_URI = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay"


def _video_section(lines: list[str]) -> tuple[int, int] | None:
    """[start, end) line indices of the first video section."""
    start = next((i for i, x in enumerate(lines) if x.startswith("m=video")), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("m=")),
               len(lines))
    return start, end


def video_extmap_id(offer: str, uri: str) -> int | None:
    """The id the offer's video section gives header extension ``uri`` (one-byte ids 1-14
    only; None when it is not offered)."""
    lines = offer.splitlines()
    section = _video_section(lines)
    if section is None:
        return None
    for line in lines[section[0]:section[1]]:
        if line.startswith("a=extmap:"):
            parts = line[len("a=extmap:"):].split()
            if len(parts) >= 2 and parts[1] == uri:
                ext_id = parts[0].split("/")[0]
                if ext_id.isdigit() and 1 <= int(ext_id) <= 14:
                    return int(ext_id)
    return None


def add_video_extmap(answer: str, ext_id: int, uri: str) -> str:
    """Accept header extension ``uri`` with ``ext_id`` in the answer's video section."""
    lines = answer.splitlines()
    section = _video_section(lines)
    if section is None:
        return answer
    start, end = section
    anchor = [i for i in range(start, end) if lines[i].startswith(("a=extmap:", "a=mid:"))]
    at = (anchor[-1] if anchor else start) + 1
    lines.insert(at, f"a=extmap:{ext_id} {uri}")
    return "\r\n".join(lines) + "\r\n"
