"""The PostgreSQL point-in-time drill end to end (``make pitr-drill``): WAL archived by
pgBackRest into SeaweedFS over HTTPS, management's migrations, cameras, segments and audit
rows through management's code before and after a full backup and a target time, the server
lost, a restore to the target into a new cluster checked by the restore drill's checks; the
PITR metrics' sampler run against the live repository and server. About 35-40 s on the
2-core development machine, so it runs with ``make chaos``, not ``make test``."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))

from pitr_drill import AFTER_TARGET, BEFORE_BACKUP, BEFORE_TARGET, run_drill
from pitr_drill_data import SEGMENTS_PER_CAMERA


@pytest.mark.chaos
def test_restore_to_a_point_in_time() -> None:
    # Not tmp_path: its parents are 0700 root, and the clusters run as `postgres` when root.
    work = Path(tempfile.mkdtemp(prefix="argus-pitr-test-"))
    try:
        result = run_drill(work, say=lambda line: None)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert result.problems == []
    cameras = BEFORE_BACKUP + BEFORE_TARGET
    segments = cameras * SEGMENTS_PER_CAMERA
    # the rows of the phases before the target; none of the AFTER_TARGET cameras
    assert result.found["cameras"] == cameras and AFTER_TARGET > 0
    assert result.found["recording_segments"] == segments
    assert result.found["audit_log"] == cameras + segments
    assert result.audit == f"OK: {cameras + segments} rows; head {cameras + segments}"
    assert result.timeline_cameras == cameras
    assert result.ok and result.rpo_seconds >= 0 and result.restore_seconds > 0
    # The metrics' sampler on the live repository and server, after `check` archived all.
    status = result.status
    assert status is not None and status.problems == []
    assert status.repo_status == 0 and status.backups == 1
    assert status.base_backup_label == result.info[0]["backup"][-1]["label"]
    assert status.last_archived_wal == status.repo_max_wal
    assert status.wal_pending_segments == 0 and not status.archive_failing
