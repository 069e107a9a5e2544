"""The long edge-recording backfill case (`make chaos` only): a 3-minute network outage of
a camera with edge storage (ONVIF Profile G) is restored from the camera within 2 minutes
of its return. It runs recording-service's end-to-end backfill scenario with
``ARGUS_BACKFILL_OUTAGE_S=180`` (`make test` runs the same scenario with 20 s)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("case", ["outage_is_backfilled", "resumes_after_kill_9",
                                  "second_outage_during_backfill"])
def test_three_minute_outage_is_backfilled(case: str) -> None:
    env = {**os.environ, "ARGUS_BACKFILL_OUTAGE_S": os.environ.get(
        "ARGUS_CHAOS_BACKFILL_OUTAGE_S", "180"),
        # About four times real time: 3 minutes back in under a minute, halfway still seen.
        "ARGUS_BACKFILL_LINK_MBPS": "2"}
    run = subprocess.run(
        # The inner run's default "-m not chaos" would deselect the two chaos-marked cases.
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-m",
         "chaos or not chaos", "-k", case,
         str(ROOT / "recording-service/tests/test_backfill_e2e.py")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1700)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and " failed" not in run.stdout
