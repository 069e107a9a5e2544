"""Tiering settings and the local-file step of a move, without a store."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from argus_recording.tiering.config import TieringSettings, parse_camera_hours
from argus_recording.tiering.mover import remove_local


def test_camera_hours_parse_and_refuse_nonsense() -> None:
    assert parse_camera_hours("") == {}
    assert parse_camera_hours("3:2, 7:0.5,") == {3: 2.0, 7: 0.5}
    for bad in ("3", "x:2", "3:-1", "3:abc", ":2"):
        with pytest.raises(ValueError):
            parse_camera_hours(bad)


def test_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECORDING_TIER_CAMERAS", "4:1")
    settings = TieringSettings()
    assert settings.camera_hours == {4: 1.0} and settings.by_age
    assert settings.after_hours is None
    monkeypatch.setenv("RECORDING_TIER_CAMERAS", "")
    assert not TieringSettings().by_age
    monkeypatch.setenv("RECORDING_TIER_AFTER_HOURS", "24")
    assert TieringSettings().by_age
    monkeypatch.setenv("RECORDING_TIER_CAMERAS", "oops")
    with pytest.raises(ValidationError):
        TieringSettings()


def test_remove_local_counts_bytes_and_tolerates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "1.mp4"
    path.write_bytes(b"x" * 10)
    assert remove_local(path, durable=True) == 10
    assert not path.exists()
    assert remove_local(path, durable=True) == 0
