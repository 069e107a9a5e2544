"""Backup metrics, read from the status files at scrape time (so every worker, and the
CLI's runs, report the same): age of the last good backup, the last drill's result and, with
PostgreSQL PITR, the newest pgBackRest base backup and the WAL archive (``pitr.json``)."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import Gauge

from argus_management.backup.run import STATUS_FILE, read_json

DRILL_FILE = "drill.json"
PITR_FILE = "pitr.json"  # pitr_status.py writes it

BACKUP_AGE = Gauge(
    "argus_backup_age_seconds",
    "Seconds since the newest good backup of management's database (NaN: none yet)",
)
DRILL_OK = Gauge(
    "argus_backup_drill_success",
    "1 when the last restore drill passed its checks, 0 when it failed (NaN: never run)",
)
DRILL_RPO = Gauge("argus_backup_drill_rpo_seconds", "Age of the backup the last drill restored")
DRILL_RTO = Gauge("argus_backup_drill_rto_seconds", "Seconds the last drill's restore took")
BASE_AGE = Gauge(
    "argus_backup_pitr_base_backup_age_seconds",
    "Seconds since the newest pgBackRest base backup stopped (NaN: none, or PITR not set up)",
)
WAL_AGE = Gauge(
    "argus_backup_wal_archived_age_seconds",
    "Seconds since PostgreSQL last archived a WAL segment (NaN: never)",
)
WAL_PENDING = Gauge(
    "argus_backup_wal_pending_segments",
    "Finished WAL segments that are not archived yet (the archive's lag, in segments)",
)
WAL_FAILING = Gauge(
    "argus_backup_wal_archive_failing",
    "1 when PostgreSQL's latest archive_command attempt failed, else 0",
)
REPO_OK = Gauge("argus_backup_pitr_repo_ok", "1 when pgBackRest reports the stanza ok, else 0")
PITR_SAMPLE_AGE = Gauge(
    "argus_backup_pitr_sample_age_seconds", "Seconds since the PITR state was last sampled"
)


def _field(path: Path, key: str) -> float:
    data = read_json(path)
    value = data.get(key) if data else None
    return float(value) if isinstance(value, (int, float)) else float("nan")


def _age(path: Path, key: str) -> float:
    return time.time() - _field(path, key)


def _flag(path: Path, key: str, true_when: object = True) -> float:
    data = read_json(path)
    if not data or data.get(key) is None:
        return float("nan")
    return 1.0 if data.get(key) == true_when else 0.0


def install_backup_metrics(backup_dir: str) -> None:
    """Point the gauges at ``backup_dir``'s status files."""
    d = Path(backup_dir)
    BACKUP_AGE.set_function(lambda: time.time() - _field(d / STATUS_FILE, "taken_at"))
    DRILL_OK.set_function(lambda: _field(d / DRILL_FILE, "ok"))
    DRILL_RPO.set_function(lambda: _field(d / DRILL_FILE, "rpo_seconds"))
    DRILL_RTO.set_function(lambda: _field(d / DRILL_FILE, "rto_seconds"))
    pitr = d / PITR_FILE
    BASE_AGE.set_function(lambda: _age(pitr, "base_backup_at"))
    WAL_AGE.set_function(lambda: _age(pitr, "last_archived_at"))
    WAL_PENDING.set_function(lambda: _field(pitr, "wal_pending_segments"))
    WAL_FAILING.set_function(lambda: _flag(pitr, "archive_failing"))
    REPO_OK.set_function(lambda: _flag(pitr, "repo_status", 0))
    PITR_SAMPLE_AGE.set_function(lambda: _age(pitr, "sampled_at"))
