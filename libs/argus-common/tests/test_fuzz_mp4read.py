"""Property-based tests of ``argus_common.mp4read.read_segment`` (the export and growing-file
reader) on fragmented MP4 files with every ``tfhd``/``trun`` layout (``argus_testkit.mp4build``):
every sample is found with its time, duration, size, file offset, composition offset and
sync flag; a damaged file gives a segment or ``Mp4Error``, in bounded CPU time.
"""

from __future__ import annotations

import struct
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argus_common.mp4read import Mp4Error, read_segment
from argus_testkit.fuzz import cpu_limit
from argus_testkit.mp4build import Built, files

FUZZ = settings(max_examples=150, deadline=timedelta(seconds=10), database=None,
                suppress_health_check=[HealthCheck.too_slow])


def _write(data: bytes) -> Path:
    with tempfile.NamedTemporaryFile(suffix=".mp4", delete=False) as f:
        f.write(data)
    return Path(f.name)


@FUZZ
@given(files())
def test_every_sample_is_found_as_written(built: Built) -> None:
    path = _write(built.data)
    try:
        segment = read_segment(path)
    finally:
        path.unlink()
    assert segment.movie_timescale == 1000
    assert set(segment.tracks) == set(built.samples)
    for tid, samples in built.samples.items():
        track = segment.tracks[tid]
        assert track.timescale == built.timescales[tid]
        got = list(zip(track.dts, track.dur, track.size, track.offset, track.cto,
                       map(bool, track.sync), strict=True))
        assert got == [(s.dts, s.dur, s.size, s.offset, s.cto, s.sync) for s in samples]
        # Samples of one run are contiguous: run ids never go back.
        assert list(track.run) == sorted(track.run)


def _damage(data: bytes, draw: st.DataObject) -> bytes:
    if not data:
        return data
    pos = draw.draw(st.integers(0, len(data) - 1))
    how = draw.draw(st.sampled_from(["cut", "flip", "word"]))
    if how == "cut":
        return data[:pos]
    if how == "flip":
        bit = 1 << draw.draw(st.integers(0, 7))
        return data[:pos] + bytes([data[pos] ^ bit]) + data[pos + 1 :]
    word = draw.draw(st.sampled_from([0, 1, 7, 8, 16, 0x7FFFFFFF, 0xFFFFFFFF]))
    return data[:pos] + struct.pack(">I", word) + data[pos + 4 :]


@FUZZ
@given(files(max_fragments=2), st.data())
def test_a_damaged_file_reads_or_raises_mp4error(built: Built, draw: st.DataObject) -> None:
    data = built.data
    for _ in range(draw.draw(st.integers(1, 3))):
        data = _damage(data, draw)
    path = _write(data)
    try:
        with cpu_limit(2.0):
            segment = read_segment(path)
    except Mp4Error:
        return
    finally:
        path.unlink()
    for track in segment.tracks.values():
        # A torn tail is dropped: the last sample ends within the file (an offset damaged
        # in the middle of a run may still point anywhere).
        assert not len(track) or track.offset[-1] + track.size[-1] <= len(data)
