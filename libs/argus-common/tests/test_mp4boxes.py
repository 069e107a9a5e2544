"""``argus_common.mp4boxes``: the box walker inside a buffer and the header fields every
fragmented-MP4 reader takes from it (``mp4read`` and the streaming VOD index)."""

from __future__ import annotations

import struct

import pytest

from argus_common.fmp4 import box, full_box
from argus_common.mp4boxes import (
    MAX_RUN_SAMPLES,
    Mp4Error,
    children,
    decode_time,
    field_after_times,
    find,
    find_all,
    free_box_header,
    handler_type,
    parse_tfhd,
    parse_trex,
    parse_trun,
)


def _large(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I4sQ", 1, kind, 16 + len(body)) + body


def test_children_list_8_and_16_byte_headers_and_size_0() -> None:
    data = box(b"free", b"ab") + _large(b"skip", b"cdef") + struct.pack(">I4s", 0, b"mdat") + b"x"
    assert children(data) == [(b"free", 8, 10), (b"skip", 26, 30), (b"mdat", 38, 39)]
    assert children(data, 10, 30) == [(b"skip", 26, 30)]


def test_a_child_overrunning_its_parent_raises_or_ends_the_list() -> None:
    data = box(b"free", b"ab") + struct.pack(">I4s", 100, b"trak") + bytes(8)
    with pytest.raises(Mp4Error, match="overruns"):
        children(data)
    assert children(data, strict=False) == [(b"free", 8, 10)]
    # A size below the header length is an overrun too; a short tail is ignored.
    assert children(struct.pack(">I4s", 4, b"free") + bytes(4), strict=False) == []
    assert children(box(b"free") + bytes(7)) == [(b"free", 8, 8)]


def test_find_takes_the_first_box_of_each_name_and_find_all_takes_every_one() -> None:
    trak1 = box(b"trak", box(b"mdia", box(b"hdlr", b"1")), box(b"mdia", box(b"hdlr", b"2")))
    trak2 = box(b"trak", box(b"mdia", box(b"hdlr", b"3")))
    data = trak1 + trak2
    span = find(data, 0, len(data), b"trak", b"mdia", b"hdlr")
    assert span is not None and data[span[0]:span[1]] == b"1"
    assert find(data, 0, len(data), b"trak", b"minf") is None
    assert [data[s:e] for s, e in find_all(data, [b"trak", b"mdia", b"hdlr"])] == [
        b"1", b"2", b"3"]
    # Lenient: a broken box ends its level, what came before it is still found.
    broken = trak1 + struct.pack(">I4s", 99, b"trak")
    assert len(find_all(broken, [b"trak", b"mdia", b"hdlr"])) == 2


@pytest.mark.parametrize("version", [0, 1])
def test_header_fields_of_both_versions(version: int) -> None:
    times = bytes(16 if version else 8)
    tkhd = full_box(b"tkhd", version, 3, times, struct.pack(">I", 7), bytes(40))
    mdhd = full_box(b"mdhd", version, 0, times, struct.pack(">I", 90_000), bytes(12))
    tfdt = full_box(b"tfdt", version, 0, struct.pack(">Q" if version else ">I", 123_456))
    for data, reader, value in ((tkhd, field_after_times, 7), (mdhd, field_after_times, 90_000),
                                (tfdt, decode_time, 123_456)):
        assert reader(data, 8) == value
    hdlr = full_box(b"hdlr", 0, 0, struct.pack(">I4s", 0, b"soun"), bytes(12))
    assert handler_type(hdlr, 8) == b"soun"
    trex = full_box(b"trex", 0, 0, struct.pack(">IIIII", 2, 1, 3000, 40, 0x10000))
    tid, defaults = parse_trex(trex, 8)
    assert (tid, defaults.sdi, defaults.duration, defaults.size, defaults.flags) == (
        2, 1, 3000, 40, 0x10000)


def test_tfhd_fields_follow_its_flags() -> None:
    every = full_box(b"tfhd", 0, 0x3B, struct.pack(">IQIIII", 5, 1 << 40, 2, 3000, 99, 7))
    t = parse_tfhd(every, 8)
    assert (t.flags, t.track_id, t.base_data_offset, t.sdi, t.duration, t.size,
            t.sample_flags) == (0x3B, 5, 1 << 40, 2, 3000, 99, 7)
    some = full_box(b"tfhd", 0, 0x020010, struct.pack(">II", 1, 512))
    t = parse_tfhd(some, 8)
    assert (t.flags, t.base_data_offset, t.sdi, t.duration, t.size, t.sample_flags) == (
        0x020010, None, None, None, 512, None)


def test_trun_header_and_sample_layout() -> None:
    trun = full_box(b"trun", 1, 0x000F05, struct.pack(">IiI", 2, -8, 0x2000000),
                    struct.pack(">IIIi", 10, 20, 0, -3), struct.pack(">IIIi", 11, 21, 0, 4))
    h = parse_trun(trun, 8)
    assert (h.version, h.flags, h.count, h.data_offset, h.first_flags) == (
        1, 0x000F05, 2, -8, 0x2000000)
    assert h.has == (True, True, True, True) and h.width == 16 and h.fmt == ">IIIi"
    assert list(struct.iter_unpack(h.fmt, trun[h.samples:])) == [(10, 20, 0, -3), (11, 21, 0, 4)]
    bare = parse_trun(full_box(b"trun", 0, 0x000200, struct.pack(">I", 1), bytes(4)), 8)
    assert (bare.data_offset, bare.first_flags, bare.has, bare.fmt, bare.samples) == (
        None, None, (False, True, False, False), ">I", 16)


def test_a_trun_count_its_box_cannot_hold_raises() -> None:
    """A damaged sample count must not have a reader list billions of samples: a table
    past the buffer, or a run without a table (all defaults) over the bound, is an error."""
    with pytest.raises(Mp4Error):  # two samples of 4 bytes announced, one present
        parse_trun(full_box(b"trun", 0, 0x000100, struct.pack(">I", 2), bytes(4)), 8)
    with pytest.raises(Mp4Error):  # no table: 2**32 - 1 samples by the defaults
        parse_trun(full_box(b"trun", 0, 0, struct.pack(">I", 0xFFFFFFFF)), 8)
    assert parse_trun(full_box(b"trun", 0, 0, struct.pack(">I", MAX_RUN_SAMPLES)), 8).count == (
        MAX_RUN_SAMPLES)


def test_free_box_header_sizes() -> None:
    # A box header that the one box walker reads back as a free box of that size.
    small = free_box_header(1000) + bytes(992)
    assert children(small) == [(b"free", 8, 1000)]
    assert free_box_header(2**32) == struct.pack(">I4sQ", 1, b"free", 2**32)
    with pytest.raises(ValueError):
        free_box_header(7)
