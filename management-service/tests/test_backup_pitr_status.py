"""The PITR state behind the backup metrics (backup/pitr_status.py, backup/metrics.py).

``pgbackrest info --output=json`` below was recorded from a real run of the PITR drill
(pgBackRest 2.45, SeaweedFS over HTTPS, 2026-12-06; trimmed of its per-database fields); the
same collector runs against the live repository in the drill itself
(tests/chaos/test_pitr_drill.py). The archiver is sampled from the test kit's real
PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY

from argus_management.backup.metrics import PITR_FILE, install_backup_metrics
from argus_management.backup.pitr_status import (
    PitrStatus,
    apply_info,
    pending_segments,
    sample,
    sample_locked,
)
from argus_management.backup.settings import BackupSettings
from argus_management.config import Settings
from argus_management.db import make_engine

from conftest import PG_DSN

SEG = 16 * 1024 * 1024
RECORDED_INFO: list[dict[str, Any]] = [
    {
        "archive": [
            {
                "database": {"id": 1, "repo-key": 1},
                "id": "15-1",
                "max": "000000010000000000000004",
                "min": "000000010000000000000001",
            }
        ],
        "backup": [
            {
                "archive": {
                    "start": "000000010000000000000003",
                    "stop": "000000010000000000000003",
                },
                "backrest": {"format": 5, "version": "2.45"},
                "database": {"id": 1, "repo-key": 1},
                "error": False,
                "info": {"delta": 32602173, "size": 32602173},
                "label": "20261206-000159F",
                "lsn": {"start": "0/3000028", "stop": "0/3000100"},
                "prior": None,
                "reference": None,
                "timestamp": {"start": 1796515319, "stop": 1796515325},
                "type": "full",
            }
        ],
        "cipher": "none",
        "name": "drill",
        "repo": [{"cipher": "none", "key": 1, "status": {"code": 0, "message": "ok"}}],
        "status": {"code": 0, "lock": {"backup": {"held": False}}, "message": "ok"},
    }
]


def test_newest_base_backup_from_a_real_info() -> None:
    status = PitrStatus(sampled_at=0)
    apply_info(status, RECORDED_INFO, "drill")
    assert status.problems == []
    assert (status.repo_status, status.backups) == (0, 1)
    assert status.base_backup_at == 1796515325.0
    assert (status.base_backup_label, status.base_backup_type) == ("20261206-000159F", "full")
    assert status.repo_max_wal == "000000010000000000000004"


def test_a_stanza_without_backups_or_missing_is_a_problem() -> None:
    empty = [{"name": "argus", "status": {"code": 2, "message": "no valid backups"}, "backup": []}]
    status = PitrStatus(sampled_at=0)
    apply_info(status, empty, "argus")
    assert status.base_backup_at is None and status.backups == 0
    assert status.problems == ["repository: no valid backups"]
    other = PitrStatus(sampled_at=0)
    apply_info(other, RECORDED_INFO, "argus")
    assert other.problems == ["stanza argus not in the repository"]


def test_pending_segments_count_finished_unarchived_ones() -> None:
    assert pending_segments("000000010000000000000004", "000000010000000000000004", SEG) == 0
    assert pending_segments("000000010000000000000005", "000000010000000000000004", SEG) == 0
    assert pending_segments("000000010000000000000009", "000000010000000000000004", SEG) == 4
    # across a log file boundary (256 segments of 16 MiB) and a timeline switch
    assert pending_segments("000000020000000100000001", "0000000100000000000000FF", SEG) == 1
    assert pending_segments("garbage", "000000010000000000000004", SEG) is None


def test_archive_failing_when_the_last_attempt_failed() -> None:
    assert not PitrStatus(sampled_at=0, last_archived_at=10.0).archive_failing
    assert PitrStatus(sampled_at=0, last_archived_at=10.0, last_failed_at=11.0).archive_failing
    assert PitrStatus(sampled_at=0, last_failed_at=11.0).archive_failing
    assert not PitrStatus(sampled_at=0, last_archived_at=12.0, last_failed_at=11.0).archive_failing


async def test_archiver_sampled_from_postgres_and_a_broken_conf_reported(
    tmp_path: Path,
) -> None:
    engine = make_engine(f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/postgres")
    try:
        status = await sample(None, engine)
        assert status.problems == []
        assert len(status.current_wal) == 24
        # the test server does not archive: nothing archived, nothing to compare with
        assert status.last_archived_wal == "" and status.wal_pending_segments is None

        missing = tmp_path / "no-such.conf"
        written = await sample_locked(missing, engine, str(tmp_path / "backups"))
    finally:
        await engine.dispose()
    assert written is not None
    assert any(p.startswith("pgbackrest info:") for p in written.problems)
    data = json.loads((tmp_path / "backups" / PITR_FILE).read_text())
    assert data["base_backup_at"] is None and data["current_wal"] == written.current_wal


def _value(name: str) -> float | None:
    return REGISTRY.get_sample_value(name)


@pytest.mark.usefixtures("_app_metrics_back")
def test_metrics_read_the_pitr_file(tmp_path: Path) -> None:
    now = time.time()
    (tmp_path / PITR_FILE).write_text(
        json.dumps(
            {
                "sampled_at": now - 30,
                "repo_status": 0,
                "base_backup_at": now - 7200,
                "last_archived_at": now - 60,
                "wal_pending_segments": 3,
                "archive_failing": True,
            }
        )
    )
    install_backup_metrics(str(tmp_path))
    base = _value("argus_backup_pitr_base_backup_age_seconds")
    assert base is not None and 7200 <= base < 7200 + 600
    wal = _value("argus_backup_wal_archived_age_seconds")
    assert wal is not None and 60 <= wal < 60 + 600
    assert _value("argus_backup_wal_pending_segments") == 3
    assert _value("argus_backup_wal_archive_failing") == 1
    assert _value("argus_backup_pitr_repo_ok") == 1

    (tmp_path / PITR_FILE).write_text(json.dumps({"sampled_at": now, "repo_status": 2}))
    assert _value("argus_backup_pitr_repo_ok") == 0
    base = _value("argus_backup_pitr_base_backup_age_seconds")
    assert base is not None and base != base  # NaN: no base backup


@pytest.fixture
def _app_metrics_back(settings: Settings) -> Any:
    """The gauges are the process's: point them back where the test app put them."""
    yield
    install_backup_metrics(BackupSettings().backup_dir(settings.data_dir))


async def test_the_app_samples_its_postgres_archiver(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    """The test app runs on PostgreSQL without pgBackRest: its sampler reports the
    archiver (nothing archived, nothing failing) and no base backup."""
    path = Path(BackupSettings().backup_dir(settings.data_dir)) / PITR_FILE
    for _ in range(100):  # sampled at start; bounded wait of 10 s
        if path.exists():
            break
        await asyncio.sleep(0.1)
    data = json.loads(path.read_text())
    assert data["problems"] == [] and data["repo_status"] is None
    assert len(data["current_wal"]) == 24 and data["archive_failing"] is False
    text = (await client.get("/metrics")).text
    assert "argus_backup_wal_archive_failing 0.0" in text
    assert "argus_backup_pitr_base_backup_age_seconds NaN" in text


async def test_info_written_by_the_backup_side_is_read(tmp_path: Path) -> None:
    """Compose: db-backup writes `pgbackrest info --output=json` where management reads it."""
    info = tmp_path / "pgbackrest-info.json"
    info.write_text(json.dumps(RECORDED_INFO))
    status = await sample(None, None, "drill", info_file=info)
    assert status.problems == []
    assert (status.base_backup_at, status.repo_status) == (1796515325.0, 0)
    two_hours_ago = time.time() - 7200
    os.utime(info, (two_hours_ago, two_hours_ago))
    stale = await sample(None, None, "drill", info_file=info)
    assert stale.base_backup_at is None
    assert stale.problems and "writer stopped" in stale.problems[0]
    missing = await sample(None, None, "drill", info_file=tmp_path / "none.json")
    assert missing.problems and missing.problems[0].startswith("pgbackrest info:")
