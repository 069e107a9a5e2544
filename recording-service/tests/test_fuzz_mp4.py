"""Property-based tests of the fragmented MP4 path: what ``argus_common.fmp4`` writes,
``mp4box.walk`` (and a reader written here for ``moof``) reads back; a file cut anywhere
walks to its last complete fragment; corrupted files walk, and salvage, without any
exception but their own and in bounded time.
"""

from __future__ import annotations

import os
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from argus_common.fmp4 import SYNC, AudioTrack, Run, VideoTrack, fragment_header, init_segment
from argus_recording.layout import segment_relpath
from argus_recording.mp4box import walk
from argus_recording.salvage import salvage
from argus_testkit.fuzz import cpu_limit

FUZZ = settings(max_examples=100, deadline=timedelta(seconds=10), database=None,
                suppress_health_check=[HealthCheck.too_slow])

SPS = bytes.fromhex("6764000dacb202833f3c20000003002000000791")  # 320x180 High
PPS = bytes.fromhex("68ebc3cb22c0")


@dataclass
class Written:
    data: bytes
    header_end: int
    fragment_ends: list[int]
    fragments: list[tuple[int, list[Run], list[bytes]]]  # (moof offset, runs, samples)


audio_tracks = st.one_of(
    st.none(),
    st.builds(AudioTrack, st.just("aac"), st.sampled_from([8000, 16000, 44100, 48000]),
              st.integers(1, 2), st.binary(min_size=2, max_size=5)),
    st.builds(AudioTrack, st.just("opus"), st.just(48000), st.integers(1, 2)))


@st.composite
def runs(draw: st.DrawFn, track_id: int) -> tuple[Run, list[bytes]]:
    samples = draw(st.lists(st.binary(min_size=1, max_size=60), min_size=1, max_size=6))
    n = len(samples)
    u32 = st.integers(0, 0xFFFFFFFF)
    offsets = draw(st.one_of(st.none(), st.lists(st.integers(-2**31, 2**31 - 1), min_size=n,
                                                 max_size=n)))
    run = Run(track_id, draw(st.integers(0, 2**64 - 1)),
              draw(st.lists(u32, min_size=n, max_size=n)), [len(s) for s in samples],
              draw(st.lists(st.sampled_from([SYNC, 0x01010000]) | u32, min_size=n, max_size=n)),
              offsets)
    return run, samples


@st.composite
def files(draw: st.DrawFn) -> Written:
    """An init section and fragments (video, and audio when the track has it)."""
    audio = draw(audio_tracks)
    data = bytearray(init_segment(VideoTrack(SPS, PPS), audio, comment=draw(
        st.sampled_from(["", "argus:continuous", "argus:event"]))))
    header_end = len(data)
    ends, frags = [], []
    for seq in range(draw(st.integers(0, 5))):
        parts = [draw(runs(1))] + ([draw(runs(2))] if audio is not None and draw(
            st.booleans()) else [])
        the_runs = [r for r, _ in parts]
        samples = [s for _, ss in parts for s in ss]
        frags.append((len(data), the_runs, samples))
        data += fragment_header(seq + 1, the_runs) + b"".join(samples)
        ends.append(len(data))
    return Written(bytes(data), header_end, ends, frags)


def boxes(data: bytes, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the boxes in ``data[start:end]`` (a test-side
    reader, independent of the writer's size arithmetic)."""
    while start < end:
        size, kind = struct.unpack_from(">I4s", data, start)
        assert size >= 8 and start + size <= end, (kind, size)
        yield kind, start + 8, start + size
        start += size


def read_fragment(data: bytes, moof: int) -> list[tuple[int, int, list[tuple[int, ...]], bytes]]:
    """(track, base time, trun entries, sample bytes) of each traf of the moof at ``moof``."""
    kind, body, end = next(boxes(data, moof, len(data)))
    assert kind == b"moof"
    out = []
    for kind, tstart, tend in boxes(data, body, end):
        if kind != b"traf":
            assert kind == b"mfhd"
            continue
        fields = {k: (s, e) for k, s, e in boxes(data, tstart, tend)}
        track = struct.unpack_from(">I", data, fields[b"tfhd"][0] + 4)[0]
        base = struct.unpack_from(">Q", data, fields[b"tfdt"][0] + 4)[0]
        tr = fields[b"trun"][0]
        version, flags = data[tr], int.from_bytes(data[tr + 1:tr + 4], "big")
        assert flags & 0x701 == 0x701  # data offset, duration, size, flags present
        count, offset = struct.unpack_from(">Ii", data, tr + 4)
        width = 16 if flags & 0x800 else 12  # composition offsets present
        fmt = ">III" + ("" if width == 12 else "i" if version == 1 else "I")
        entries = [struct.unpack_from(fmt, data, tr + 12 + i * width) for i in range(count)]
        size = sum(e[1] for e in entries)
        out.append((track, base, entries, data[moof + offset:moof + offset + size]))
    return out


@FUZZ
@given(files())
def test_what_fmp4_writes_reads_back(written: Written) -> None:
    """The walker sees the header and every fragment, the file clean; each trun holds the
    run's durations, sizes, flags and offsets, and its data offset points at the run's
    samples."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.mp4"
        path.write_bytes(written.data)
        layout = walk(path)
    assert layout.has_header and layout.clean and not layout.torn
    assert layout.fragments == len(written.fragments)
    assert layout.valid_end == len(written.data)
    assert layout.playable == bool(written.fragments)
    for moof, the_runs, samples in written.fragments:
        got = read_fragment(written.data, moof)
        assert [(t, b) for t, b, _, _ in got] == [(r.track_id, r.base_time) for r in the_runs]
        flat = iter(samples)
        for (_, _, entries, blob), run in zip(got, the_runs, strict=True):
            want = list(zip(run.durations, run.sizes, run.flags, strict=True))
            assert [e[:3] for e in entries] == want
            if run.offsets:
                assert [e[3] for e in entries] == run.offsets
            assert blob == b"".join(next(flat) for _ in run.sizes)


@FUZZ
@given(files(), st.floats(0, 1))
def test_a_file_cut_anywhere_walks_to_its_last_whole_fragment(written: Written,
                                                              where: float) -> None:
    """A recorder killed mid-write: the walk ends at the last complete fragment (or the
    header when none), torn exactly when bytes follow it; salvage's cut then walks
    clean."""
    cut = int(where * len(written.data))
    data = written.data[:cut]
    whole = [e for e in written.fragment_ends if e <= cut]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.mp4"
        path.write_bytes(data)
        with cpu_limit(1):
            layout = walk(path)
        if cut < written.header_end:
            assert not layout.has_header and layout.valid_end == 0
            return
        assert layout.fragments == len(whole)
        assert layout.valid_end == (whole[-1] if whole else written.header_end)
        assert layout.torn == (layout.valid_end < cut)
        with path.open("r+b") as f:
            f.truncate(layout.valid_end)
        again = walk(path)
        assert again.clean and again.fragments == len(whole) and not again.torn


@st.composite
def corrupted(draw: st.DrawFn) -> bytes:
    """A written file with bytes overwritten (box sizes and types included), cut, or
    garbage appended."""
    data = bytearray(draw(files()).data)
    for _ in range(draw(st.integers(0, 6))):
        at = draw(st.integers(0, len(data) - 1))
        patch = draw(st.one_of(st.binary(min_size=1, max_size=8),
                               st.sampled_from([b"\0\0\0\0", b"\0\0\0\1", b"\xff\xff\xff\xff",
                                                b"\0\0\0\x08", b"moof", b"mdat", b"moov"])))
        data[at:at + len(patch)] = patch
    if draw(st.booleans()):
        data = data[:draw(st.integers(0, len(data)))]
    return bytes(data) + draw(st.binary(max_size=40))


@FUZZ
@given(st.one_of(corrupted(), st.binary(max_size=300)))
@example(b"\0\0\0\1moof" + b"\0" * 8)  # a 64-bit size of 0
@example(b"\0\0\0\0ftyp")  # a size of 0: to the end of the file
def test_any_file_walks(data: bytes) -> None:
    """Any bytes: a layout within the file, never an exception, bounded."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.mp4"
        path.write_bytes(data)
        with cpu_limit(1):
            layout = walk(path)
    assert 0 <= layout.valid_end <= layout.size == len(data)
    assert layout.fragments >= 0


@settings(FUZZ, max_examples=40, deadline=timedelta(seconds=20))
@given(corrupted())
def test_any_file_salvages_or_goes(data: bytes) -> None:
    """Salvage of a corrupted segment: a described segment (file cut to what plays) or
    None with the file removed; never an exception."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        relpath = segment_relpath(7, 1_700_000_000_000)
        path = root / relpath
        path.parent.mkdir(parents=True)
        path.write_bytes(data)
        with cpu_limit(5):
            segment = salvage(root, relpath, 7, "continuous", durable=False)
        event("dropped" if segment is None else "salvaged")
        if segment is None:
            assert not path.exists()
            return
        assert path.exists() and segment.bytes == os.path.getsize(path) <= len(data)
        assert walk(path).playable
