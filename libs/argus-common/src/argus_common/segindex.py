"""A segment's fragment index kept beside it: ``<start-ms>.idx``, made when it is tiered.

A VOD playlist needs each segment's :class:`~argus_common.mp4index.Mp4Index` (init section
length, timescale, the byte range and times of each fragment). For a segment on the object
store that used to mean fetching the whole object first. The recorder has the file on local
disk when it tiers it, so it indexes it then (the same ``index_file`` streaming runs) and
keeps the result locally next to where the segment was, as it keeps the preview stills
(``argus_common.stills``); retention deletes it with them, before the segment's row goes.

The format is small, versioned and checked as untrusted input (the recordings directory is
shared, a file may be torn or stale)::

    header   "ARGIDX" version:u16 file_size:u64 init_size:u32 timescale:u32 count:u32
    count x  offset:u64 size:u64 start:u64 duration:u64     (one per fragment)
    trailer  crc32:u32 of everything before it

big-endian. A reader that finds anything else (another version, a bad checksum, a fragment
outside the file or out of order, more than ``MAX_FRAGMENTS``) gets ``None`` and indexes the
segment the old way.
"""

from __future__ import annotations

import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

from argus_common.mp4index import Fragment, Mp4Error, Mp4Index, index_file

__all__ = [
    "INDEX_SUFFIX",
    "MAX_FRAGMENTS",
    "IndexFormatError",
    "SegmentIndex",
    "decode",
    "encode",
    "index_path",
    "read_index",
    "read_sidecar",
    "remove_index",
    "save_index",
    "write_index",
]

INDEX_SUFFIX = ".idx"
MAGIC = b"ARGIDX"
VERSION = 1
# An hour-long segment with 0.1 s GOPs has 36,000 fragments; nothing the recorder writes
# comes near this, and it bounds a sidecar to ~2 MiB.
MAX_FRAGMENTS = 65_536
_HEAD = struct.Struct(">6sHQIII")
_FRAG = struct.Struct(">QQQQ")
_CRC = struct.Struct(">I")
MAX_BYTES = _HEAD.size + MAX_FRAGMENTS * _FRAG.size + _CRC.size
_U64 = 2**64


class IndexFormatError(ValueError):
    """The bytes are not an index this version writes."""


@dataclass(frozen=True)
class SegmentIndex:
    """A decoded sidecar: the segment file's size when indexed, and its index."""

    file_size: int
    index: Mp4Index


def index_path(segment: Path) -> Path:
    """The sidecar of ``segment`` (``<start-ms>.mp4`` -> ``<start-ms>.idx``)."""
    return segment.with_suffix(INDEX_SUFFIX)


def encode(index: Mp4Index, file_size: int) -> bytes:
    """The sidecar bytes of ``index`` for a file of ``file_size`` bytes; ``ValueError`` when
    a value does not fit the format (such a segment keeps no sidecar)."""
    if len(index.fragments) > MAX_FRAGMENTS:
        raise IndexFormatError("too many fragments")
    try:
        out = [_HEAD.pack(MAGIC, VERSION, file_size, index.init_size, index.timescale,
                          len(index.fragments))]
        out += [_FRAG.pack(f.offset, f.size, f.start, f.duration) for f in index.fragments]
    except struct.error:
        raise IndexFormatError("a value out of range") from None
    body = b"".join(out)
    _check(_decode_body(body))
    return body + _CRC.pack(zlib.crc32(body))


def decode(data: bytes) -> SegmentIndex:
    """The index in sidecar bytes; ``IndexFormatError`` for anything malformed."""
    if len(data) < _HEAD.size + _CRC.size or len(data) > MAX_BYTES:
        raise IndexFormatError("bad length")
    body, (crc,) = data[: -_CRC.size], _CRC.unpack_from(data, len(data) - _CRC.size)
    if zlib.crc32(body) != crc:
        raise IndexFormatError("bad checksum")
    found = _decode_body(body)
    _check(found)
    return found


def _decode_body(body: bytes) -> SegmentIndex:
    magic, version, file_size, init_size, timescale, count = _HEAD.unpack_from(body)
    if magic != MAGIC:
        raise IndexFormatError("not a segment index")
    if version != VERSION:
        raise IndexFormatError(f"unknown version {version}")
    if count > MAX_FRAGMENTS or len(body) != _HEAD.size + count * _FRAG.size:
        raise IndexFormatError("bad fragment count")
    frags = [Fragment(*v) for v in _FRAG.iter_unpack(memoryview(body)[_HEAD.size :])]
    return SegmentIndex(file_size, Mp4Index(init_size, timescale, frags))


def _check(found: SegmentIndex) -> None:
    """What a playlist relies on: a timescale, fragments inside the file, after the init
    section, in file order and apart, with times that fit."""
    idx = found.index
    if idx.timescale <= 0 or idx.init_size > found.file_size:
        raise IndexFormatError("bad header")
    after = idx.init_size
    for frag in idx.fragments:
        if frag.size <= 0 or frag.offset < after or frag.offset + frag.size > found.file_size:
            raise IndexFormatError("fragment outside the file")
        if frag.start + frag.duration >= _U64:
            raise IndexFormatError("fragment time out of range")
        after = frag.offset + frag.size


def write_index(segment: Path, durable: bool = False) -> Path | None:
    """Index ``segment`` and write its sidecar (temp file, rename); returns the sidecar, or
    None when the segment cannot be indexed (the reader then falls back). Blocking."""
    try:
        size = segment.stat().st_size
        data = encode(index_file(segment), size)
    except (Mp4Error, OSError, ValueError):
        return None
    return save_index(segment, data, durable)


def save_index(segment: Path, data: bytes, durable: bool = False) -> Path | None:
    """Write sidecar bytes ``data`` (from :func:`encode`) as ``segment``'s sidecar, all or
    nothing (temp file, rename: a crash leaves at most the temp file, which no reader
    opens and :func:`remove_index` removes); returns the sidecar, or None. Blocking."""
    final = index_path(segment)
    tmp = final.with_name(final.name + ".tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, final)
    except OSError:
        _unlink(tmp)
        return None
    return final


def read_sidecar(segment: Path) -> SegmentIndex | None:
    """``segment``'s sidecar (its index and the file's size), or None (missing,
    unreadable, malformed)."""
    try:
        with open(index_path(segment), "rb") as f:
            data = f.read(MAX_BYTES + 1)
        return decode(data)
    except (OSError, IndexFormatError):
        return None


def read_index(segment: Path) -> Mp4Index | None:
    """The index in ``segment``'s sidecar, or None (missing, unreadable, malformed)."""
    found = read_sidecar(segment)
    return found.index if found is not None else None


def remove_index(segment: Path) -> bool:
    """Unlink ``segment``'s sidecar (and a temp file a crash left); whether one went."""
    final = index_path(segment)
    _unlink(final.with_name(final.name + ".tmp"))
    return _unlink(final)


def _unlink(path: Path) -> bool:
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False
