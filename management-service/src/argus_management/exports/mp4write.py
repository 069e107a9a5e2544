"""Writing one progressive MP4 (``ftyp`` ``moov`` ``mdat``, faststart) from sample tables.

The ``moov`` is built first, from sizes and durations alone, so it can go before the
media: chunk offsets are known once the ``moov``'s own size is, and that size does not
depend on the offsets (``stco`` or ``co64`` is chosen from the total size up front). The
media bytes are then copied range by range from the source segments (``remux.py``).
"""

from __future__ import annotations

import operator
import struct
from array import array
from dataclasses import dataclass, field
from itertools import groupby

from argus_common.fmp4 import box, full_box

MOVIE_TIMESCALE = 1000
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_U32_MAX = 0xFFFFFFFF


@dataclass
class Chunk:
    """Samples of one track stored contiguously: ``count`` samples from ``first``."""

    first: int
    count: int
    sdi: int  # 1-based sample description index in the output track
    source: int  # index of the source file
    src_offset: int
    length: int
    out_offset: int = 0  # offset in the mdat payload


@dataclass
class Edit:
    """One ``elst`` entry: ``media_time`` -1 is an empty edit (nothing shown)."""

    duration_ms: int
    media_time: int


@dataclass
class OutTrack:
    """A track of the export: sample tables in decode order, chunks, and its edit list."""

    track_id: int
    handler: bytes
    timescale: int
    width: int = 0
    height: int = 0
    entries: list[bytes] = field(default_factory=list)
    dts: array[int] = field(default_factory=lambda: array("q"))
    last_duration: int = 0
    sizes: array[int] = field(default_factory=lambda: array("I"))
    ctos: array[int] = field(default_factory=lambda: array("q"))
    syncs: list[int] = field(default_factory=list)  # 1-based numbers of sync samples
    chunks: list[Chunk] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)

    def entry_index(self, entry: bytes) -> int:
        """The 1-based index of a sample entry, added when new (parameters changed)."""
        try:
            return self.entries.index(entry) + 1
        except ValueError:
            self.entries.append(entry)
            return len(self.entries)

    def durations(self) -> list[int]:
        d = list(map(operator.sub, self.dts[1:], self.dts[:-1]))
        if len(self.dts):
            d.append(max(1, self.last_duration))
        return d

    @property
    def media_duration(self) -> int:
        return (self.dts[-1] - self.dts[0] + max(1, self.last_duration)) if len(self.dts) else 0

    @property
    def edit_duration_ms(self) -> int:
        return sum(e.duration_ms for e in self.edits)


def _rle(values: list[int]) -> list[tuple[int, int]]:
    # (count, value) per run of equal values; groupby runs in C (an hour is ~170,000 values).
    return [(len(list(group)), v) for v, group in groupby(values)]


def _stbl(t: OutTrack, base: int, co64: bool) -> bytes:
    stsd = full_box(b"stsd", 0, 0, struct.pack(">I", len(t.entries)), *t.entries)
    stts_rows = _rle(t.durations())
    stts = full_box(b"stts", 0, 0, struct.pack(">I", len(stts_rows)),
                    b"".join(struct.pack(">II", n, d) for n, d in stts_rows))
    parts = [stsd, stts]
    if any(t.ctos):
        rows = _rle(list(t.ctos))
        signed = any(v < 0 for _n, v in rows)
        fmt = ">Ii" if signed else ">II"
        parts.append(full_box(b"ctts", 1 if signed else 0, 0, struct.pack(">I", len(rows)),
                              b"".join(struct.pack(fmt, n, v) for n, v in rows)))
    if len(t.syncs) != len(t.dts):
        parts.append(full_box(b"stss", 0, 0, struct.pack(">I", len(t.syncs)),
                              struct.pack(f">{len(t.syncs)}I", *t.syncs)))
    stsc_rows: list[tuple[int, int, int]] = []
    for i, c in enumerate(t.chunks, start=1):
        if not stsc_rows or stsc_rows[-1][1:] != (c.count, c.sdi):
            stsc_rows.append((i, c.count, c.sdi))
    parts.append(full_box(b"stsc", 0, 0, struct.pack(">I", len(stsc_rows)),
                          b"".join(struct.pack(">III", *r) for r in stsc_rows)))
    sizes = t.sizes
    parts.append(full_box(b"stsz", 0, 0, struct.pack(">II", 0, len(sizes)),
                          struct.pack(f">{len(sizes)}I", *sizes)))
    offsets = [base + c.out_offset for c in t.chunks]
    if co64:
        parts.append(full_box(b"co64", 0, 0, struct.pack(">I", len(offsets)),
                              struct.pack(f">{len(offsets)}Q", *offsets)))
    else:
        parts.append(full_box(b"stco", 0, 0, struct.pack(">I", len(offsets)),
                              struct.pack(f">{len(offsets)}I", *offsets)))
    return box(b"stbl", *parts)


def _time_box(kind: bytes, timescale: int, duration: int, tail: bytes) -> bytes:
    """``mvhd``/``mdhd``: version 1 only when the duration needs 64 bits."""
    if duration > _U32_MAX:
        return full_box(kind, 1, 0, struct.pack(">QQIQ", 0, 0, timescale, duration), tail)
    return full_box(kind, 0, 0, struct.pack(">IIII", 0, 0, timescale, duration), tail)


def _trak(t: OutTrack, base: int, co64: bool) -> bytes:
    tk_dur = t.edit_duration_ms or t.media_duration * MOVIE_TIMESCALE // t.timescale
    volume = 0x0100 if t.handler == b"soun" else 0
    tkhd_v = 1 if tk_dur > _U32_MAX else 0
    ids = (struct.pack(">QQIIQ", 0, 0, t.track_id, 0, tk_dur) if tkhd_v
           else struct.pack(">IIIII", 0, 0, t.track_id, 0, tk_dur))
    tkhd = full_box(b"tkhd", tkhd_v, 3, ids, bytes(8), struct.pack(">hhhH", 0, 0, volume, 0),
                    _MATRIX, struct.pack(">II", t.width << 16, t.height << 16))
    parts = [tkhd]
    if t.edits:
        big = any(e.duration_ms > _U32_MAX or e.media_time > 0x7FFFFFFF for e in t.edits)
        rows = b"".join(
            struct.pack(">QqI", e.duration_ms, e.media_time, 0x10000) if big
            else struct.pack(">IiI", e.duration_ms, e.media_time, 0x10000)
            for e in t.edits
        )
        parts.append(box(b"edts", full_box(b"elst", 1 if big else 0, 0,
                                           struct.pack(">I", len(t.edits)), rows)))
    mdhd = _time_box(b"mdhd", t.timescale, t.media_duration, struct.pack(">HH", 0x55C4, 0))
    name = b"ArgusVideo\0" if t.handler == b"vide" else b"ArgusAudio\0"
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, t.handler), bytes(12), name)
    header = (full_box(b"vmhd", 0, 1, bytes(8)) if t.handler == b"vide"
              else full_box(b"smhd", 0, 0, bytes(4)) if t.handler == b"soun"
              else full_box(b"nmhd", 0, 0))
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    minf = box(b"minf", header, dinf, _stbl(t, base, co64))
    parts.append(box(b"mdia", mdhd, hdlr, minf))
    return box(b"trak", *parts)


def ftyp() -> bytes:
    return box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", b"avc1", b"mp41")


def movie_header(tracks: list[OutTrack], payload: int, comment: str = "") -> bytes:
    """``ftyp`` + ``moov`` + the ``mdat`` header for ``payload`` bytes of samples (chunk
    ``out_offset`` values must already be set)."""
    head = ftyp()
    big_mdat = payload + 8 > _U32_MAX
    mdat_head = (struct.pack(">I4sQ", 1, b"mdat", payload + 16) if big_mdat
                 else struct.pack(">I4s", payload + 8, b"mdat"))

    def build(base: int, co64: bool) -> bytes:
        duration = max((t.edit_duration_ms for t in tracks), default=0)
        mvhd = _time_box(b"mvhd", MOVIE_TIMESCALE, duration,
                         struct.pack(">IH", 0x10000, 0x100) + bytes(10) + _MATRIX + bytes(24)
                         + struct.pack(">I", len(tracks) + 1))
        udta = b""
        if comment:
            data = full_box(b"data", 0, 1, bytes(4), comment.encode())
            hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"mdir"), b"appl", bytes(9))
            udta = box(b"udta", full_box(b"meta", 0, 0, hdlr,
                                         box(b"ilst", box(b"\xa9cmt", data))))
        return box(b"moov", mvhd, *(_trak(t, base, co64) for t in tracks), udta)

    probe = build(0, False)
    co64 = len(head) + len(probe) + len(mdat_head) + payload > _U32_MAX
    if co64:
        probe = build(0, True)
    base = len(head) + len(probe) + len(mdat_head)
    moov = build(base, co64)
    assert len(moov) == len(probe)
    return head + moov + mdat_head
