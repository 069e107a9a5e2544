"""Property-based tests of the VOD index (``argus_streaming.media.mp4.index_file``) on
fragmented MP4 files with every ``tfhd``/``trun`` layout (``argus_testkit.mp4build``): each
fragment of the video track is found with its byte range, decode time and duration; a file
cut anywhere indexes its whole fragments; a damaged file gives an index or ``Mp4Error``
(what the VOD cache turns into "unreadable"), in bounded CPU time.
"""

from __future__ import annotations

import struct
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus_streaming.media.mp4 import Fragment, Mp4Error, Mp4Index, index_file
from argus_testkit.fuzz import cpu_limit
from argus_testkit.mp4build import Built, files

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=10), database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture
def tmp_file() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as d:
        yield Path(d) / "segment.mp4"


def _index(path: Path, data: bytes) -> Mp4Index:
    path.write_bytes(data)
    with cpu_limit(2.0):
        return index_file(path)


def _expected(built: Built) -> list[Fragment]:
    return [Fragment(f.offset, f.size, f.start, f.duration) for f in built.fragments]


@FUZZ
@given(built=files())
def test_every_video_fragment_is_indexed(tmp_file: Path, built: Built) -> None:
    if built.video_id is None:
        with pytest.raises(Mp4Error, match="no video track"):
            _index(tmp_file, built.data)
        return
    idx = _index(tmp_file, built.data)
    assert idx.init_size == built.init_size
    assert idx.timescale == built.timescales[built.video_id]
    assert idx.fragments == _expected(built)


@FUZZ
@given(built=files(), cut=st.floats(0, 1))
def test_a_cut_file_indexes_its_whole_fragments(tmp_file: Path, built: Built,
                                                cut: float) -> None:
    end = int(len(built.data) * cut)
    if built.video_id is None or end < built.init_size:
        with pytest.raises(Mp4Error):
            _index(tmp_file, built.data[:end])
        return
    idx = _index(tmp_file, built.data[:end])
    assert idx.fragments == [f for f in _expected(built) if f.offset + f.size <= end]


@FUZZ
@given(built=files(max_fragments=2), draw=st.data())
def test_a_damaged_file_indexes_or_raises_mp4error(tmp_file: Path, built: Built,
                                                   draw: st.DataObject) -> None:
    data = built.data
    for _ in range(draw.draw(st.integers(1, 3))):
        pos = draw.draw(st.integers(0, len(data) - 1))
        word = draw.draw(st.sampled_from([0, 1, 7, 8, 16, 0x7FFFFFFF, 0xFFFFFFFF]))
        data = data[:pos] + struct.pack(">I", word) + data[pos + 4 :]
    try:
        idx = _index(tmp_file, data)
    except Mp4Error:
        return
    assert idx.init_size <= len(data) and idx.timescale >= 0
    assert all(f.offset + f.size <= len(data) for f in idx.fragments)
