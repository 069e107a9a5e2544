"""A clock step of 2 minutes forward, then back, on management and the recorder (one host's
wall clock; `make test` runs it, about 2 minutes). The step is made with libfaketime: its
offset file is changed while the processes run; their monotonic clocks are not touched, as
with a real step (``FAKETIME_DONT_FAKE_MONOTONIC``). Measured on the index: video lost,
rows missing, the timeline's jumps, overlapping and misordered segments, alerts.

libfaketime 0.9.10 makes Python's ``time.sleep`` raise ``EINVAL`` with the monotonic clock
left alone (its ``clock_nanosleep`` wrapper, libfaketime issue #426): the faked processes
load ``faketime_shim/sitecustomize.py``, which sleeps with a ``select`` timeout instead;
the test first checks, in a faked process, that sleeping works and only the wall clock
moved."""

from __future__ import annotations

import itertools
import math
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from harness import SEGMENT_S, ChaosStack, Result, fetch

from argus_testkit import tools

# make chaos (about 2 minutes): keeps make test's run time down.
pytestmark = [pytest.mark.timeout(400), pytest.mark.chaos]

CLOCK_STEP_S = 120.0
SHIM = Path(__file__).resolve().parent / "faketime_shim"

# Run in a faked process: sleeps, and prints how far its wall clock and its monotonic
# clock moved against the real ones (passed in) over the sleep.
_PROBE = """
import sys, time
real_wall, real_mono = float(sys.argv[1]), float(sys.argv[2])
time.sleep(0.2)
threading_ok = __import__("threading").Event().wait(0.05) is False
print(time.time() - real_wall, time.monotonic() - real_mono, threading_ok)
"""


def _faked_clock(env: dict[str, str]) -> tuple[int, int, bool]:
    """(wall offset, monotonic offset, whether a timed wait worked) in a faked process,
    offsets in whole minutes (the process's start and its sleep take a moment)."""
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, repr(time.time()), repr(time.monotonic())],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    ).stdout.split()
    return round(float(out[0]) / 60) * 60, round(float(out[1]) / 60) * 60, out[2] == "True"


def _step_clock(stamp_file: Path, offset_s: float) -> None:
    """libfaketime's offset for every faked process (re-read at each clock read)."""
    tmp = stamp_file.with_suffix(".tmp")
    tmp.write_text(f"{offset_s:+.0f}s\n")
    tmp.replace(stamp_file)


def _timeline(rows: list[dict[str, Any]], steps: list[float]) -> dict[str, Any]:
    """Consecutive segments in the order they were indexed (``id``): a start that moved by
    about a clock step from the previous end is the step itself (``jumps``); any other gap
    is video lost. A segment whose time intersects an earlier one's overlaps it; one that
    starts before an earlier one started is misordered (what a clock stepped back does)."""
    lost, jumps = 0.0, []
    remaining = list(steps)
    for prev, row in itertools.pairwise(rows):
        delta = row["started_at"].timestamp() - prev["ended_at"].timestamp()
        step = next((x for x in remaining if abs(delta - x) < 10.0), None)
        if step is not None:
            remaining.remove(step)
            jumps.append(round(delta, 2))
        elif delta > 0.05:
            lost += delta
    spans = [(r["started_at"].timestamp(), r["ended_at"].timestamp()) for r in rows]
    overlapping = sum(
        1
        for n, (start, end) in enumerate(spans)
        if any(start < e - 0.05 and s < end - 0.05 for s, e in spans[:n])
    )
    misordered = sum(
        1 for n, (start, _) in enumerate(spans) if any(start < s for s, _ in spans[:n])
    )
    return {
        "lost_s": round(lost, 2),
        "jumps": jumps,
        "overlapping": overlapping,
        "misordered": misordered,
    }


def test_clock_step_of_two_minutes(chaos_stack: ChaosStack, tmp_path: Path) -> None:
    """The wall clock of management and the recorder (same host) steps forward 2 minutes,
    then back (libfaketime; their monotonic clocks are not touched, as with a real step).
    Measured on the index, in the order segments were indexed."""
    library = tools.require("libfaketime", "the clock-step fault")
    stamp_file = tmp_path / "faketime"
    _step_clock(stamp_file, 0)
    s = chaos_stack
    s.clock_env = {
        "LD_PRELOAD": library,
        "FAKETIME_TIMESTAMP_FILE": str(stamp_file),
        "FAKETIME_NO_CACHE": "1",
        "FAKETIME_DONT_FAKE_MONOTONIC": "1",
        "PYTHONPATH": str(SHIM),
    }
    # The injector itself: a faked process sleeps, its wall clock follows the offset file,
    # its monotonic clock does not.
    _step_clock(stamp_file, CLOCK_STEP_S)
    assert _faked_clock(s.clock_env) == (CLOCK_STEP_S, 0, True)
    _step_clock(stamp_file, 0)
    assert _faked_clock(s.clock_env) == (0, 0, True)
    s.up()
    since = datetime.now(UTC)
    first = len(s.rows(s.cam)) - 1  # the last segment before the fault

    def indexed_more(n: int) -> Any:
        target = len(s.rows(s.cam)) + n
        return s.wait(
            lambda: len(s.rows(s.cam)) >= target, 60 + 4 * n, f"{n} more segments indexed"
        )

    t0 = time.time()
    _step_clock(stamp_file, CLOCK_STEP_S)  # forward
    indexed_more(5)
    _step_clock(stamp_file, 0)  # and back
    indexed_more(5)
    t1 = time.time()
    s.wait(lambda: not s.unindexed(s.cam), 60, "every file indexed")
    t_indexed = time.time()
    rows = sorted(
        fetch(
            s.db_url,
            "SELECT id, path, started_at, ended_at FROM "
            "recording_segments WHERE camera_id = $1 AND deleted_at IS NULL",
            s.cam,
        ),
        key=lambda r: r["id"],
    )[first:]
    timeline = _timeline(rows, [CLOCK_STEP_S, -CLOCK_STEP_S])
    missing = len(s.rows_missing(s.cam))
    lost = timeline["lost_s"]
    result = Result(
        fault=f"clock step of +{CLOCK_STEP_S:g} s, then -{CLOCK_STEP_S:g} s (management and "
        "recorder)",
        user_sees="recording continues; the timeline follows the clock",
        video_lost_s=lost,
        segments_lost=math.ceil(lost / SEGMENT_S - 0.025),
        rows_missing=missing,
        resume_s=0.0,
        indexed_after_s=round(t_indexed - t1, 1),
        alerts=s.alerts_since(since),
        note=f"timeline jumps {timeline['jumps']} s, overlapping segments "
        f"{timeline['overlapping']}, misordered {timeline['misordered']} "
        f"({len(rows)} segments over {t1 - t0:.0f} s)",
    )
    result.write()
    assert missing == 0, result
    assert lost == 0, result
    # Each step shows once, at a segment boundary (stamps follow the wall clock; durations
    # and jump detection use the monotonic clock, so no segment is cut by a step).
    assert len(timeline["jumps"]) == 2 and timeline["overlapping"] == 0, result
    assert not s.recorder_errors()
