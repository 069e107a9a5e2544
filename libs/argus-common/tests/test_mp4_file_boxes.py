"""``mp4read.file_boxes``, the one walker over a file's top-level MP4 boxes (the recorder's
salvage, instant replay, the VOD index and exports all read files through it)."""

from __future__ import annotations

import io
import struct

from argus_common.mp4read import file_boxes


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def _large_box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


def _walk(data: bytes, *, growing: bool = False) -> list[tuple[bytes, int, int, int]]:
    return [(b.kind, b.start, b.header, b.end)
            for b in file_boxes(io.BytesIO(data), len(data), growing=growing)]


def test_boxes_with_32_and_64_bit_sizes_are_listed_in_order() -> None:
    data = _box(b"ftyp", b"isom") + _large_box(b"moov", b"x" * 20) + _box(b"mdat", b"")
    assert _walk(data) == [(b"ftyp", 0, 8, 12), (b"moov", 12, 16, 48), (b"mdat", 48, 8, 56)]


def test_a_box_cut_short_ends_the_walk() -> None:
    whole = _box(b"ftyp", b"isom") + _box(b"moof", b"y" * 30)
    for cut in range(12, len(whole)):
        assert _walk(whole[:cut]) == [(b"ftyp", 0, 8, 12)], cut
    # A 64-bit size whose second half is missing, and a size below the header, end it too.
    assert _walk(_box(b"ftyp", b"isom") + struct.pack(">I4sI", 1, b"mdat", 0)) == [
        (b"ftyp", 0, 8, 12)]
    assert _walk(struct.pack(">I4s", 4, b"free") + b"\0" * 8) == []


def test_size_zero_reaches_the_end_unless_the_file_is_still_growing() -> None:
    data = _box(b"ftyp", b"isom") + struct.pack(">I4s", 0, b"mdat") + b"z" * 100
    assert _walk(data) == [(b"ftyp", 0, 8, 12), (b"mdat", 12, 8, len(data))]
    assert _walk(data, growing=True) == [(b"ftyp", 0, 8, 12)]
