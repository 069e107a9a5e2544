"""The plan's table copy without a per-sample loop (remux._append_same_scale) makes the
same MP4 header and byte ranges as the per-sample loop, on real segments with B-frames,
audio, segment boundaries and a recorder restart, for ranges cut anywhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from argus_management.exports import remux
from argus_management.exports.remux import SourceSegment, plan_export

from factories.media import write_segments

T0_MS = 1_795_000_000_000


@pytest.mark.parametrize("bframes", [0, 2])
def test_the_fast_table_copy_plans_what_the_loop_plans(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bframes: int
) -> None:
    written = write_segments(
        tmp_path, 7, T0_MS, [3.0, 3.0, 2.0], fps=10, gaps_s=[0.0, 2.0], bframes=bframes
    )
    segments = [SourceSegment(tmp_path / w.relpath, w.start_ms / 1000) for w in written]
    fast_calls: list[bool] = []
    fast = remux._append_same_scale

    def spy(*args: Any) -> bool:
        done = fast(*args)
        fast_calls.append(done)
        return done

    for lo, hi in [(0.0, 10.0), (0.45, 9.35), (2.95, 3.05), (1.2, 7.7)]:
        t0, t1 = T0_MS / 1000 + lo, T0_MS / 1000 + hi
        monkeypatch.setattr(remux, "_append_same_scale", spy)
        planned = plan_export(segments, t0, t1)
        monkeypatch.setattr(remux, "_append_same_scale", lambda *args: False)
        looped = plan_export(segments, t0, t1)
        assert planned.header == looped.header
        assert planned.ranges == looped.ranges
        assert (planned.frames, planned.audio_samples) == (looped.frames, looped.audio_samples)
    assert any(fast_calls)
