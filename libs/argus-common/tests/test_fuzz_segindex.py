"""Property-based tests of the segment index sidecar (``argus_common.segindex``): the index
of every fragmented MP4 layout (``argus_testkit.mp4build``) survives encode/decode exactly;
any other bytes (random, a valid sidecar with bytes flipped, cut, or re-checksummed after
damage) decode to an index a playlist can rely on or raise ``IndexFormatError``, in bounded
CPU time; the files beside a segment are written, read back, and removed."""

from __future__ import annotations

import struct
import tempfile
import zlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus_common import segindex
from argus_common.mp4index import Fragment, Mp4Error, Mp4Index, index_file
from argus_common.segindex import IndexFormatError, SegmentIndex, decode, encode
from argus_testkit.fuzz import cpu_limit
from argus_testkit.mp4build import Built, files

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=10), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture
def tmp_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


def _sound(found: SegmentIndex) -> None:
    """What the VOD playlist and the byte-range server rely on."""
    idx = found.index
    assert idx.timescale > 0 and 0 <= idx.init_size <= found.file_size
    assert len(idx.fragments) <= segindex.MAX_FRAGMENTS
    after = idx.init_size
    for frag in idx.fragments:
        assert frag.size > 0 and frag.offset >= after
        assert frag.offset + frag.size <= found.file_size
        after = frag.offset + frag.size


def _decode(data: bytes) -> SegmentIndex | None:
    with cpu_limit(2.0):
        try:
            found = decode(data)
        except IndexFormatError:
            return None
    _sound(found)
    return found


def _recrc(data: bytes) -> bytes:
    body = data[:-4]
    return body + struct.pack(">I", zlib.crc32(body))


@FUZZ
@given(built=files())
def test_the_index_of_every_layout_round_trips(built: Built) -> None:
    with tempfile.TemporaryDirectory() as d:  # one per example: no sidecar left from another
        _round_trip(Path(d), built)


def _round_trip(tmp_dir: Path, built: Built) -> None:
    path = tmp_dir / "1700000000000.mp4"
    path.write_bytes(built.data)
    try:
        idx = index_file(path)
    except Mp4Error:
        assert segindex.write_index(path) is None  # nothing to keep: readers fall back
        assert segindex.read_index(path) is None
        return
    assert segindex.write_index(path) == tmp_dir / "1700000000000.idx"
    assert segindex.read_index(path) == idx
    assert decode(encode(idx, len(built.data))) == SegmentIndex(len(built.data), idx)


fragment = st.builds(Fragment, st.integers(0, 2**40), st.integers(0, 2**30),
                     st.integers(0, 2**64), st.integers(0, 2**33))
index = st.builds(Mp4Index, st.integers(0, 2**33), st.integers(0, 2**32),
                  st.lists(fragment, max_size=20))


@FUZZ
@given(idx=index, size=st.integers(0, 2**41))
def test_any_index_round_trips_or_is_refused(idx: Mp4Index, size: int) -> None:
    try:
        data = encode(idx, size)
    except IndexFormatError:
        return
    found = _decode(data)
    assert found == SegmentIndex(size, idx)


@FUZZ
@given(data=st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    _decode(data)
    _decode(segindex.MAGIC + data)
    _decode(_recrc(segindex.MAGIC + b"\x00\x01" + data + b"\0\0\0\0"))


def _valid() -> st.SearchStrategy[bytes]:
    frags = st.lists(st.tuples(st.integers(1, 5000), st.integers(1, 900),
                               st.integers(0, 3000)), min_size=0, max_size=12)

    def build(parts: list[tuple[int, int, int]]) -> bytes:
        out, at, t = [], 700, 0
        for gap, size, dur in parts:
            out.append(Fragment(at + gap, size, t, dur))
            at, t = at + gap + size, t + dur
        return encode(Mp4Index(700, 90_000, out), at + 10)

    return frags.map(build)


@FUZZ
@given(data=_valid(), flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(1, 255)),
                                     min_size=1, max_size=6),
       cut=st.integers(0, 10**6), recrc=st.booleans())
def test_a_damaged_sidecar_is_refused_or_sound(data: bytes, flips: list[tuple[int, int]],
                                                cut: int, recrc: bool) -> None:
    assert _decode(data) is not None
    damaged = bytearray(data)
    for at, bits in flips:
        damaged[at % len(damaged)] ^= bits
    mutated = bytes(damaged)
    if recrc:  # past the checksum: the structural checks alone must hold
        mutated = _recrc(mutated)
    elif len(flips) == 1:
        assert _decode(mutated) is None  # CRC-32 catches every error within 32 bits
    _decode(mutated)
    _decode(data[: cut % len(data)])


def test_bounds_and_versions() -> None:
    idx = Mp4Index(100, 1000, [Fragment(100, 50, 0, 1000)])
    data = encode(idx, 150)
    assert decode(data).index == idx
    bumped = _recrc(data[:6] + struct.pack(">H", 2) + data[8:])
    with pytest.raises(IndexFormatError, match="version"):
        decode(bumped)
    with pytest.raises(IndexFormatError, match="outside"):
        encode(idx, 149)  # the fragment would end past the file
    with pytest.raises(IndexFormatError):
        encode(Mp4Index(0, 1000, [Fragment(i + 1, 1, i, 1) for i in range(
            segindex.MAX_FRAGMENTS + 1)]), 10**9)
    with pytest.raises(IndexFormatError, match="length"):
        decode(b"\0" * (segindex.MAX_BYTES + 1))


def test_remove_takes_the_sidecar_and_a_torn_temp_file(tmp_dir: Path) -> None:
    seg = tmp_dir / "1700000000000.mp4"
    sidecar = tmp_dir / "1700000000000.idx"
    sidecar.write_bytes(encode(Mp4Index(0, 1, []), 0))
    (tmp_dir / "1700000000000.idx.tmp").write_bytes(b"torn")
    other = tmp_dir / "1700000001000.idx"
    other.write_bytes(b"x")
    assert segindex.read_index(seg) == Mp4Index(0, 1, [])
    assert segindex.remove_index(seg) is True
    assert sorted(p.name for p in tmp_dir.iterdir()) == ["1700000001000.idx"]
    assert segindex.remove_index(seg) is False
    assert segindex.read_index(seg) is None
    sidecar.write_bytes(b"garbage that is not an index")
    assert segindex.read_index(seg) is None
