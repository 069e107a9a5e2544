"""The one reader of MP4 box structure: a file's top-level boxes, the boxes inside a box,
and the header fields that every fragmented-MP4 reader needs (``tkhd``, ``mdhd``,
``hdlr``, ``trex``, ``tfhd``, ``tfdt``, ``trun``), from ISO/IEC 14496-12.

Offsets are absolute in the buffer given; a field reader takes the offset of its box's
payload (just after the 8- or 16-byte box header). Readers of whole files build on it:
:mod:`argus_common.mp4read` (sample tables), the streaming service's VOD index, the
recorder's salvage walk. A field that runs past the buffer raises ``struct.error``.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

_HEAD = struct.Struct(">I4s")
_U32 = struct.Struct(">I")
_U64 = struct.Struct(">Q")
_I32 = struct.Struct(">i")

Buffer = bytes | memoryview


class Mp4Error(ValueError):
    """A segment that cannot be read as a fragmented MP4."""


@dataclass(frozen=True)
class FileBox:
    """A complete top-level box of a file: its type, where it starts, its header length
    (8, or 16 with a 64-bit size) and its whole size."""

    kind: bytes
    start: int
    header: int
    size: int

    @property
    def end(self) -> int:
        return self.start + self.size


_HEAD64 = struct.Struct(">I4sQ")
MIN_FREE_BOX = _HEAD.size  # the smallest free box: its header alone


def free_box_header(size: int) -> bytes:
    """The header of a ``free`` box of ``size`` bytes in all (a 64-bit size from 4 GiB): it
    stands in for bytes a reader skips (the ranged readers of tiered segments put one over
    the fragments they do not fetch). At least 8 bytes."""
    if size < MIN_FREE_BOX:
        raise ValueError("a free box is at least 8 bytes")
    if size < 2**32:
        return _HEAD.pack(size, b"free")
    return _HEAD64.pack(1, b"free", size)


def file_boxes(f: BinaryIO, size: int, *, growing: bool = False) -> Iterator[FileBox]:
    """The complete top-level boxes of the open file ``f`` of ``size`` bytes, in order, read
    from their headers alone (the payloads are skipped). The walk stops at the first box cut
    short: a torn tail, or the fragment a writer is still appending. A box of size 0 extends
    to the end of the file, unless the file is ``growing`` (then its size is not known yet).
    Every box is at least 8 bytes, so the walk ends after ``size / 8`` boxes at most."""
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(16)
        if len(head) < 8:
            return
        box_size, kind = _HEAD.unpack_from(head)
        header = 8
        if box_size == 1:
            if len(head) < 16:
                return
            box_size = _U64.unpack_from(head, 8)[0]
            header = 16
        elif box_size == 0 and not growing:
            box_size = size - pos
        if box_size < header or pos + box_size > size:
            return
        yield FileBox(kind, pos, header, box_size)
        pos += box_size


def children(data: Buffer, start: int = 0, end: int | None = None, *, strict: bool = True
             ) -> list[tuple[bytes, int, int]]:
    """``(type, payload start, box end)`` of the boxes in ``data[start:end]``. A box of size
    0 extends to ``end``. A box that overruns ``end`` raises :class:`Mp4Error`, or with
    ``strict=False`` ends the list (what was before it is kept); 8 trailing bytes or fewer
    are ignored either way."""
    end = len(data) if end is None else end
    out = []
    pos = start
    while pos + 8 <= end:
        size, kind = _HEAD.unpack_from(data, pos)
        header = 8
        if size == 1:
            if pos + 16 > end:
                break
            size = _U64.unpack_from(data, pos + 8)[0]
            header = 16
        elif size == 0:
            size = end - pos
        if size < header or pos + size > end:
            if strict:
                raise Mp4Error(f"box {kind!r} overruns its parent")
            break
        out.append((kind, pos + header, pos + size))
        pos += size
    return out


def find(data: Buffer, start: int, end: int, *path: bytes) -> tuple[int, int] | None:
    """Payload span of the box at ``path`` below ``data[start:end]``, taking the first box
    of each name on the way; :class:`Mp4Error` when a box on the way overruns its parent."""
    for name in path:
        hit = next(((s, e) for k, s, e in children(data, start, end) if k == name), None)
        if hit is None:
            return None
        start, end = hit
    return start, end


def find_all(data: Buffer, path: list[bytes], start: int = 0, end: int | None = None
             ) -> list[tuple[int, int]]:
    """Payload spans of every box at ``path`` below ``data[start:end]`` (e.g. every
    ``[b"traf", b"trun"]``), in file order. Lenient: a box that overruns its parent ends
    the search at that level (the boxes before it are still found)."""
    found = []
    for kind, s, e in children(data, start, end, strict=False):
        if kind != path[0]:
            continue
        if len(path) == 1:
            found.append((s, e))
        else:
            found += find_all(data, path[1:], s, e)
    return found


def field_after_times(data: Buffer, pos: int) -> int:
    """The 32-bit field after the creation and modification times (4 or 8 bytes each, by
    the box's version) of the full box whose payload starts at ``pos``: ``track_ID`` of a
    ``tkhd``, ``timescale`` of an ``mvhd`` or an ``mdhd``."""
    return int(_U32.unpack_from(data, pos + (20 if data[pos] == 1 else 12))[0])


def handler_type(data: Buffer, pos: int) -> bytes:
    """``handler_type`` of the ``hdlr`` at ``pos``: ``b"vide"``, ``b"soun"``…"""
    return bytes(data[pos + 8 : pos + 12])


def decode_time(data: Buffer, pos: int) -> int:
    """``baseMediaDecodeTime`` of the ``tfdt`` at ``pos`` (64-bit in version 1)."""
    return int((_U64 if data[pos] == 1 else _U32).unpack_from(data, pos + 4)[0])


@dataclass
class Trex:
    """A track's sample defaults from its ``trex`` (what a ``tfhd`` does not override)."""

    sdi: int = 1
    duration: int = 0
    size: int = 0
    flags: int = 0


def parse_trex(data: Buffer, pos: int) -> tuple[int, Trex]:
    """``(track_ID, defaults)`` of the ``trex`` at ``pos``."""
    tid, sdi, dur, size, flags = struct.unpack_from(">IIIII", data, pos + 4)
    return tid, Trex(sdi, dur, size, flags)


@dataclass(frozen=True)
class Tfhd:
    """A ``tfhd``: its flags, track and the fields its flags announce (None: absent)."""

    flags: int
    track_id: int
    base_data_offset: int | None
    sdi: int | None
    duration: int | None
    size: int | None
    sample_flags: int | None


def parse_tfhd(data: Buffer, pos: int) -> Tfhd:
    """The ``tfhd`` whose payload starts at ``pos``."""
    flags = _U32.unpack_from(data, pos)[0] & 0xFFFFFF
    track_id = _U32.unpack_from(data, pos + 4)[0]
    values, _ = _by_flags(data, pos + 8, flags, _TFHD_FIELDS)
    return Tfhd(flags, track_id, *values)


_TFHD_FIELDS = ((0x01, _U64), (0x02, _U32), (0x08, _U32), (0x10, _U32), (0x20, _U32))
_TRUN_FIELDS = ((0x01, _I32), (0x04, _U32))  # data offset, first sample's flags


def _by_flags(data: Buffer, pos: int, flags: int, fields: tuple[tuple[int, struct.Struct], ...]
              ) -> tuple[list[int | None], int]:
    """The optional fields from ``pos`` on, each present when its flag bit is set (None
    when not), and the offset after them."""
    values: list[int | None] = []
    for bit, kind in fields:
        if flags & bit:
            values.append(int(kind.unpack_from(data, pos)[0]))
            pos += kind.size
        else:
            values.append(None)
    return values, pos


@dataclass(frozen=True)
class TrunHeader:
    """A ``trun`` up to its sample table: ``samples`` is where the table starts, each
    sample ``width`` bytes of the fields ``has`` marks (duration, size, flags,
    composition offset; the offset is signed in version 1)."""

    version: int
    flags: int
    count: int
    data_offset: int | None
    first_flags: int | None
    samples: int
    has: tuple[bool, bool, bool, bool]

    @property
    def width(self) -> int:
        return 4 * sum(self.has)

    @property
    def fmt(self) -> str:
        """The ``struct`` format of one sample's fields."""
        codes = ("I", "I", "I", "i" if self.version else "I")
        return ">" + "".join(c for c, on in zip(codes, self.has, strict=True) if on)


MAX_RUN_SAMPLES = 1 << 20  # samples in one trun: far more than any fragment holds


def parse_trun(data: Buffer, pos: int) -> TrunHeader:
    """The header of the ``trun`` whose payload starts at ``pos``."""
    word = _U32.unpack_from(data, pos)[0]
    version, flags = word >> 24, word & 0xFFFFFF
    count = _U32.unpack_from(data, pos + 4)[0]
    (data_offset, first_flags), p = _by_flags(data, pos + 8, flags, _TRUN_FIELDS)
    has = ((flags & 0x100) != 0, (flags & 0x200) != 0, (flags & 0x400) != 0,
           (flags & 0x800) != 0)
    # The table must lie in the buffer; a run without one (every sample by the defaults)
    # is bounded too, or a damaged count would have readers list billions of samples.
    if count > MAX_RUN_SAMPLES or p + 4 * sum(has) * count > len(data):
        raise Mp4Error("trun sample count past its box")
    return TrunHeader(version, flags, count, data_offset, first_flags, p, has)
