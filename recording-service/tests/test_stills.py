"""Preview stills: made from a segment's keyframes, stored beside it, deleted with it."""

from __future__ import annotations

import io
from pathlib import Path

import av
from recmedia import write_fragmented

from argus_common.stills import remove_stills, still_name, stills_of
from argus_recording.layout import segment_relpath
from argus_recording.management import PurgeItem
from argus_recording.retention import delete_files, remove_local_stills
from argus_recording.stills import StillMaker, make_stills, write_stills
from argus_recording.writer import ClosedSegment


def _segment(root: Path, start_ms: int = 1795384091526) -> tuple[str, Path]:
    rel = segment_relpath(7, start_ms)
    path = root / rel
    path.parent.mkdir(parents=True)
    # 75 frames at 15 fps, a keyframe every 15 frames: keyframes at 0, 1, 2, 3, 4 s.
    write_fragmented(path, count=75, gop=15, size=(320, 240))
    return rel, path


def _decoded_size(jpeg: bytes) -> tuple[int, int]:
    with av.open(io.BytesIO(jpeg), format="image2pipe") as container:
        frame = next(container.decode(video=0))
        return frame.width, frame.height


def test_stills_are_keyframes_interval_apart_and_decode(tmp_path: Path) -> None:
    _, path = _segment(tmp_path)
    stills = make_stills(path, interval_s=2.0, width=160)
    assert [offset for offset, _ in stills] == [0, 2000, 4000]
    for _, jpeg in stills:
        assert jpeg[:2] == b"\xff\xd8" and jpeg[-2:] == b"\xff\xd9"
        assert _decoded_size(jpeg) == (160, 120)
    write_stills(path, stills)
    found = stills_of(path)
    assert [offset for offset, _ in found] == [0, 2000, 4000]
    assert found[1][1].name == still_name(path, 2000) == f"{path.stem}.t2000.jpg"
    assert not [p for p in path.parent.iterdir() if p.name.endswith(".part")]


def test_retention_deletes_stills_with_their_segment(tmp_path: Path) -> None:
    rel, path = _segment(tmp_path)
    other_rel, other = _segment(tmp_path / "x", 1795384151526)
    write_stills(path, make_stills(path, 1.0, 64))
    write_stills(other, make_stills(other, 1.0, 64))
    assert len(stills_of(path)) == 5
    done = delete_files(
        tmp_path, [PurgeItem(1, 7, rel, path.stat().st_size, "continuous")], durable=False
    )
    assert done == [1]
    assert not path.exists() and stills_of(path) == []
    assert not path.parent.exists()  # the emptied hour directory was pruned too
    # A tiered segment: its file is on the object store, its stills are still local.
    other.unlink()
    remove_local_stills(
        tmp_path / "x", [PurgeItem(2, 7, other_rel, 0, "continuous", tier="object", object_key="k")]
    )
    assert stills_of(other) == []
    assert remove_stills(other) == 0


def test_still_maker_thread_makes_stills_of_announced_segments(tmp_path: Path) -> None:
    rel, path = _segment(tmp_path)
    maker = StillMaker(tmp_path, interval_s=3.0, width=96)
    maker.start()
    maker.observe(
        ClosedSegment(
            7,
            rel,
            1795384091526,
            1795384096526,
            path.stat().st_size,
            "continuous",
            "h264",
            320,
            240,
            False,
        )
    )
    assert maker.wait_idle(60.0)
    maker.stop(timeout_s=10.0)
    assert [offset for offset, _ in stills_of(path)] == [0, 3000]
    off = StillMaker(tmp_path, interval_s=0, width=96)
    off.start()
    assert not off.enabled
