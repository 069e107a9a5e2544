"""The box walker and the salvage of torn segment files (what a kill -9 leaves)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from recmedia import boxes, count_frames, write_fragmented

from argus_recording.mp4box import walk
from argus_recording.salvage import salvage

START_MS = 1795383000000
REL = f"7/2026-11-22/09/{START_MS}.mp4"


@pytest.fixture(scope="module")
def clean_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("mp4") / "clean.mp4"
    assert write_fragmented(path, count=30, gop=5) == 6
    return path


def _place(root: Path, source: Path, cut: int | None = None) -> Path:
    target = root / REL
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    if cut is not None:
        with target.open("r+b") as f:
            f.truncate(cut)
    return target


def test_clean_file_walks_as_complete(clean_file: Path) -> None:
    layout = walk(clean_file)
    kinds = [b[0] for b in boxes(clean_file)]
    assert kinds[:2] == ["ftyp", "moov"] and kinds[-1] == "mfra"
    assert kinds.count("moof") == 6 == layout.fragments
    assert layout.clean and not layout.torn and layout.playable
    assert layout.valid_end == clean_file.stat().st_size


@pytest.mark.parametrize("where", ["mid_mdat", "after_moof", "mid_moof", "mid_mfra"])
def test_torn_tail_is_cut_to_the_last_complete_fragment(
    tmp_path: Path, clean_file: Path, where: str
) -> None:
    listing = boxes(clean_file)
    moofs = [b for b in listing if b[0] == "moof"]
    mdats = [b for b in listing if b[0] == "mdat"]
    last_moof, last_mdat = moofs[-1], mdats[-1]
    mfra = next(b for b in listing if b[0] == "mfra")
    cut, fragments = {
        "mid_mdat": (last_mdat[1] + last_mdat[2] // 2, 5),
        "after_moof": (last_moof[1] + last_moof[2], 5),
        "mid_moof": (last_moof[1] + 10, 5),
        "mid_mfra": (mfra[1] + 20, 6),
    }[where]
    path = _place(tmp_path, clean_file, cut)
    layout = walk(path)
    assert layout.torn and layout.fragments == fragments
    segment = salvage(tmp_path, REL, 7, "continuous")
    assert segment is not None
    assert path.stat().st_size == layout.valid_end == segment.bytes
    assert count_frames(path) == fragments * 5  # every finished fragment plays
    assert segment.start_ms == START_MS and segment.camera_id == 7
    assert segment.end_ms == START_MS + round(fragments * 5 / 15 * 1000)
    assert (segment.codec, segment.width, segment.height) == ("h264", 64, 48)
    assert segment.kind == "continuous" and not segment.has_audio
    assert walk(path).clean


@pytest.mark.parametrize("cut", [0, 20, "header_only", "first_fragment_torn"])
def test_files_with_nothing_playable_are_removed(
    tmp_path: Path, clean_file: Path, cut: int | str
) -> None:
    listing = boxes(clean_file)
    if cut == "header_only":
        cut = listing[1][1] + listing[1][2]
    elif cut == "first_fragment_torn":
        first_mdat = next(b for b in listing if b[0] == "mdat")
        cut = first_mdat[1] + 30
    assert isinstance(cut, int)
    path = _place(tmp_path, clean_file, cut)
    assert salvage(tmp_path, REL, 7, "continuous") is None
    assert not path.exists()


def test_garbage_is_removed(tmp_path: Path) -> None:
    path = tmp_path / REL
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00\x00\x00\x10junkjunkjunkjunk" * 10)
    assert salvage(tmp_path, REL, 7, "event") is None
    assert not path.exists()
