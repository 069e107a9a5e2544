"""The PostgreSQL point-in-time drill end to end (``make pitr-drill``): WAL archived by
pgBackRest into SeaweedFS over HTTPS, a full backup, rows before and after a target time,
the server lost, a restore to the target into a new cluster. About 40 s on the 2-core
development machine, so it runs with ``make chaos``, not ``make test``."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from pitr_drill import AFTER_TARGET, BEFORE_BACKUP, BEFORE_TARGET, run_drill


@pytest.mark.chaos
def test_restore_to_a_point_in_time() -> None:
    # Not tmp_path: its parents are 0700 root, and the clusters run as `postgres` when root.
    work = Path(tempfile.mkdtemp(prefix="argus-pitr-test-"))
    try:
        result = run_drill(work, say=lambda line: None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert result.problems == []
    assert result.found == {"a-before-backup": BEFORE_BACKUP, "b-before-target": BEFORE_TARGET}
    assert AFTER_TARGET > 0 and result.ok
