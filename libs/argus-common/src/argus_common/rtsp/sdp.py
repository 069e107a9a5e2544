"""The part of an SDP (RFC 4566) an RTSP client needs: tracks, codecs, control URLs."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urljoin


@dataclass
class SdpTrack:
    """One ``m=`` section of a DESCRIBE answer."""

    kind: str  # "video" | "audio" | other
    payload_type: int
    codec: str = ""  # lower-case encoding name of rtpmap
    clock: int = 90_000
    channels: int = 1
    control: str = ""
    fmtp: dict[str, str] = field(default_factory=dict)


def parse_sdp(text: str) -> list[SdpTrack]:
    """Tracks of an SDP body, in order; unknown lines are ignored."""
    tracks: list[SdpTrack] = []
    current: SdpTrack | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("m="):
            parts = line[2:].split()
            try:
                pt = int(parts[3]) if len(parts) > 3 else -1
            except ValueError:
                pt = -1
            current = SdpTrack(kind=parts[0] if parts else "", payload_type=pt)
            tracks.append(current)
        elif current is None:
            continue
        elif line.startswith("a=rtpmap:"):
            _, _, rest = line.partition(" ")
            pieces = rest.split("/")
            current.codec = pieces[0].lower()
            try:
                current.clock = int(pieces[1]) if len(pieces) > 1 else current.clock
                current.channels = int(pieces[2]) if len(pieces) > 2 else 1
            except ValueError:
                pass
        elif line.startswith("a=fmtp:"):
            _, _, rest = line.partition(" ")
            for item in rest.split(";"):
                key, _, value = item.strip().partition("=")
                if key:
                    current.fmtp[key.lower()] = value
        elif line.startswith("a=control:"):
            current.control = line[len("a=control:") :]
    for t in tracks:
        if not t.codec and t.payload_type in _STATIC:
            t.codec, t.clock = _STATIC[t.payload_type]
    return tracks


_STATIC = {0: ("pcmu", 8000), 8: ("pcma", 8000)}


def control_url(base: str, control: str) -> str:
    """Absolute URL of a track's ``a=control`` relative to the content base."""
    if not control or control == "*":
        return base
    if "://" in control:
        return control
    if not base.endswith("/"):
        base += "/"
    return urljoin(base, control)
