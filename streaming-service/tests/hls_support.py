"""LL-HLS test helpers: a small media playlist parser and an fMP4 decoder."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

import av

_ATTR = re.compile(r'([A-Z-]+)=("[^"]*"|[^,]*)')


def _attrs(line: str) -> dict[str, str]:
    return {k: v.strip('"') for k, v in _ATTR.findall(line.split(":", 1)[1])}


@dataclass
class Part:
    uri: str
    msn: int
    position: int
    duration: float
    independent: bool


@dataclass
class Segment:
    uri: str
    msn: int
    duration: float


@dataclass
class Playlist:
    segments: list[Segment] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    map_uri: str = ""
    hint: str = ""

    def next_part(self) -> tuple[int, int]:
        """``(msn, part)`` of the part after the newest one (as hls.js asks for it)."""
        last = self.parts[-1]
        return last.msn, last.position + 1

    def has_part(self, msn: int, position: int) -> bool:
        """Whether part ``position`` of ``msn`` (or a later part) is listed."""
        return any((p.msn, p.position) >= (msn, position) for p in self.parts)


def parse_playlist(text: str) -> Playlist:
    """Segments, parts (with their segment's media sequence number), map and hint."""
    out = Playlist()
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    msn = next(int(x.split(":")[1]) for x in lines if x.startswith("#EXT-X-MEDIA-SEQUENCE:"))
    position = 0
    duration = 0.0
    for line in lines:
        if line.startswith("#EXT-X-MAP:"):
            out.map_uri = _attrs(line)["URI"]
        elif line.startswith("#EXT-X-PART:"):
            a = _attrs(line)
            out.parts.append(Part(a["URI"], msn, position, float(a["DURATION"]),
                                  a.get("INDEPENDENT") == "YES"))
            position += 1
        elif line.startswith("#EXT-X-PRELOAD-HINT:"):
            out.hint = _attrs(line)["URI"]
        elif line.startswith("#EXTINF:"):
            duration = float(line[8:].split(",")[0])
        elif line and not line.startswith("#"):
            out.segments.append(Segment(line, msn, duration))
            msn += 1
            position = 0
    return out


def decode(data: bytes) -> list[av.VideoFrame]:
    """Every frame of an fMP4 byte string (init section first)."""
    with av.open(io.BytesIO(data), format="mp4") as container:
        return list(container.decode(video=0))
