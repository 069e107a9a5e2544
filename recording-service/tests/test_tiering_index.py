"""Retention removes a segment's fragment index (``<start-ms>.idx``, written when it was
tiered) the way it removes its preview stills: with a local segment's file, and alone for a
segment that lives on the object store."""

from __future__ import annotations

from pathlib import Path

from argus_common.mp4index import Mp4Index
from argus_common.segindex import encode, index_path
from argus_common.stills import still_name
from argus_recording.management import PurgeItem
from argus_recording.retention import delete_files, remove_local_stills


def _segment(root: Path, start_ms: int) -> tuple[str, Path]:
    rel = f"7/2026-12-06/03/{start_ms}.mp4"
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 64)
    index_path(path).write_bytes(encode(Mp4Index(0, 90_000, []), 64))
    (path.parent / still_name(path, 0)).write_bytes(b"jpg")
    return rel, path


def _item(n: int, rel: str, tier: str) -> PurgeItem:
    return PurgeItem(id=n, camera_id=7, path=rel, bytes=64, kind="continuous", tier=tier,
                     object_key=rel if tier == "object" else None)


def test_a_purged_local_segment_takes_its_index_along(tmp_path: Path) -> None:
    rel, path = _segment(tmp_path, 1765000000000)
    keep_rel, keep = _segment(tmp_path, 1765000003000)
    assert delete_files(tmp_path, [_item(1, rel, "local")], durable=False) == [1]
    assert not path.exists() and not index_path(path).exists()
    assert sorted(p.name for p in path.parent.iterdir()) == [
        "1765000003000.idx", "1765000003000.mp4", "1765000003000.t0.jpg"]
    assert keep.exists() and keep_rel


def test_a_purged_tiered_segment_leaves_nothing_local(tmp_path: Path) -> None:
    rel, path = _segment(tmp_path, 1765000000000)
    path.unlink()  # tiered: only the stills and the index are local
    remove_local_stills(tmp_path, [_item(1, rel, "object")])
    assert list(path.parent.iterdir()) == []
