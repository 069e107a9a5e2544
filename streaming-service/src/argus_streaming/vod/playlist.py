"""HLS (fMP4) playlists over recorded segment files, served as byte ranges.

Each file contributes its init section (``EXT-X-MAP`` with a byte range) and one media
segment per fragment (a GOP). ``EXT-X-DISCONTINUITY`` marks a gap in the recording and any
file whose timestamps do not continue the previous one (recorders restart them per file).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from argus_streaming.media.mp4 import Mp4Index

GAP_TOLERANCE_S = 0.5


@dataclass
class IndexedSegment:
    """A recorded file with its wall-clock start and its fragment index."""

    path: str
    start: datetime
    index: Mp4Index


def build_playlist(
    segments: list[IndexedSegment],
    start: datetime,
    end: datetime,
    url_for: Callable[[str], str],
) -> str:
    """A VOD playlist of the fragments overlapping ``[start, end]``, starting at ``start``."""
    head = ["#EXTM3U", "#EXT-X-VERSION:7", "#EXT-X-PLAYLIST-TYPE:VOD",
            "#EXT-X-INDEPENDENT-SEGMENTS", "#EXT-X-MEDIA-SEQUENCE:0"]
    body: list[str] = []
    longest = 1.0
    offset_s: float | None = None
    position = 0.0
    prev_end: datetime | None = None
    prev_ts: int | None = None
    for seg in segments:
        idx = seg.index
        if not idx.fragments or idx.timescale <= 0:
            continue
        base = idx.fragments[0].start
        url = url_for(seg.path)
        mapped = False
        for frag in idx.fragments:
            f_start = seg.start + timedelta(seconds=(frag.start - base) / idx.timescale)
            f_dur = frag.duration / idx.timescale
            f_end = f_start + timedelta(seconds=f_dur)
            if f_end <= start or f_start >= end or f_dur <= 0:
                continue
            if not mapped:
                gap = prev_end is not None and (
                    (f_start - prev_end).total_seconds() > GAP_TOLERANCE_S)
                jumped = prev_ts is not None and prev_ts != frag.start
                if body and (gap or jumped):
                    body.append("#EXT-X-DISCONTINUITY")
                body.append(f'#EXT-X-MAP:URI="{url}",BYTERANGE="{idx.init_size}@0"')
                mapped = True
            elif prev_ts is not None and prev_ts != frag.start:
                body.append("#EXT-X-DISCONTINUITY")
            if offset_s is None:
                offset_s = max(0.0, (start - f_start).total_seconds())
            body.append(f"#EXT-X-PROGRAM-DATE-TIME:{f_start.isoformat(timespec='milliseconds')}")
            body.append(f"#EXTINF:{f_dur:.3f},")
            body.append(f"#EXT-X-BYTERANGE:{frag.size}@{frag.offset}")
            body.append(url)
            longest = max(longest, f_dur)
            position += f_dur
            prev_end, prev_ts = f_end, frag.end()
    head.append(f"#EXT-X-TARGETDURATION:{math.ceil(longest)}")
    if offset_s:
        head.append(f"#EXT-X-START:TIME-OFFSET={offset_s:.3f},PRECISE=YES")
    return "\n".join([*head, *body, "#EXT-X-ENDLIST"]) + "\n"
