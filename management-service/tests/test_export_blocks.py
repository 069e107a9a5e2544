"""The export's read-ahead thread (exports/blocks.py): the bytes of the plan's ranges in
order, a yielded block left untouched until the second block after it is asked for, a
short file reported to the consumer, and an early stop that ends the thread."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from argus_management.exports.blocks import BlockReader


def _files(tmp_path: Path) -> list[Path]:
    paths = []
    for n in range(3):
        path = tmp_path / f"{n}.bin"
        path.write_bytes(os.urandom(50_000 + n * 7_001))
        paths.append(path)
    return paths


def test_ranges_come_back_in_order_and_held_blocks_stay_intact(tmp_path: Path) -> None:
    paths = _files(tmp_path)
    data = [p.read_bytes() for p in paths]
    ranges = [(0, 100, 30_000), (0, 40_000, 9_999), (1, 0, 57_001), (2, 5, 1), (2, 9, 60_000)]
    expected = b"".join(data[s][o : o + n] for s, o, n in ranges)
    got = bytearray()
    held: list[tuple[memoryview, bytes]] = []
    # Small blocks and the fewest buffers, so buffers are reused many times over.
    with BlockReader(paths, ranges, block=4_096, buffers=3) as reader:
        for view in reader:
            # The block before this one may still be read by the sink: it must not change.
            for old, copy in held[-1:]:
                assert bytes(old) == copy
            held.append((view, bytes(view)))
            got += view
    assert bytes(got) == expected


def test_a_file_shorter_than_its_range_raises(tmp_path: Path) -> None:
    paths = _files(tmp_path)
    with BlockReader(paths, [(0, 0, 1_000), (1, 50_000, 100_000)], block=4_096) as reader:
        with pytest.raises(OSError, match="ended early"):
            for _view in reader:
                pass


def test_stopping_early_ends_the_thread(tmp_path: Path) -> None:
    paths = _files(tmp_path)
    before = {t.ident for t in threading.enumerate()}
    reader = BlockReader(paths, [(2, 0, 60_000)], block=1_024, buffers=3)
    for n, _view in enumerate(reader):
        if n == 2:
            break
    reader.close()
    assert not [
        t for t in threading.enumerate() if t.ident not in before and t.name == "export-read"
    ]
    with pytest.raises(RuntimeError):
        next(iter(reader))
