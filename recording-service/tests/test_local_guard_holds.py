"""The local disk guard (management unreachable) leaves legal holds, kept events and kept
segments alone, from the copy of ``GET /internal/segments/protected`` saved on disk."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from argus_recording.layout import segment_relpath
from argus_recording.management import Protected
from argus_recording.retention import (
    PROTECTED_FILE,
    load_protected,
    local_candidates,
    save_protected,
)
from argus_recording.writer import KIND_TAG

BASE = 1_700_000_000_000


def _segment(root: Path, camera_id: int, start_ms: int, size: int = 1000) -> str:
    rel = segment_relpath(camera_id, start_ms)
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_bytes(f"....moov{KIND_TAG}continuous".encode() + b"\0" * size)
    return rel


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def test_local_guard_skips_held_and_kept_files(tmp_path: Path) -> None:
    # Camera 1: 60 s files at 0, 60, 120, 180, 240 s (the last one is the newest: never).
    files = [_segment(tmp_path, 1, BASE + i * 60_000) for i in range(5)]
    other = _segment(tmp_path, 2, BASE + 30_000)
    _segment(tmp_path, 2, BASE + 300_000)
    # Management's answer: a hold inside the second file, a kept event reaching into the
    # fourth, and the third file kept itself.
    answer = {
        "ranges": [
            {"camera_id": 1, "start": _iso(BASE + 70_000), "end": _iso(BASE + 80_000)},
            {"camera_id": 1, "start": _iso(BASE + 175_000), "end": _iso(BASE + 185_000)},
        ],
        "kept_paths": [files[2]],
    }
    assert load_protected(tmp_path) is None  # never fetched: nothing known
    save_protected(tmp_path, Protected.from_json(answer))
    assert (tmp_path / PROTECTED_FILE).is_file()
    protected = load_protected(tmp_path)
    assert protected is not None and protected.kept_paths == frozenset([files[2]])

    picked = [p for _, p, _ in local_candidates(tmp_path, 10**9, 100, protected)]
    # The kept event (175-185 s) covers the end of the third file and the fourth.
    assert picked == [files[0], other]
    # Without the copy every old file could go (the old behaviour, now only before the
    # first answer from management).
    unprotected = [p for _, p, _ in local_candidates(tmp_path, 10**9, 100)]
    assert unprotected == [files[0], other, files[1], files[2], files[3]]


def test_a_damaged_copy_is_ignored(tmp_path: Path) -> None:
    (tmp_path / PROTECTED_FILE).write_text("{not json")
    assert load_protected(tmp_path) is None
