"""Backup metrics, read from the status files at scrape time (so every worker, and the
CLI's runs, report the same): age of the last good backup, the last drill's result."""

from __future__ import annotations

import time
from pathlib import Path

from prometheus_client import Gauge

from argus_management.backup.run import STATUS_FILE, read_json

DRILL_FILE = "drill.json"

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


def _field(path: Path, key: str) -> float:
    data = read_json(path)
    value = data.get(key) if data else None
    return float(value) if isinstance(value, (int, float)) else float("nan")


def install_backup_metrics(backup_dir: str) -> None:
    """Point the gauges at ``backup_dir``'s status files."""
    d = Path(backup_dir)
    BACKUP_AGE.set_function(lambda: time.time() - _field(d / STATUS_FILE, "taken_at"))
    DRILL_OK.set_function(lambda: _field(d / DRILL_FILE, "ok"))
    DRILL_RPO.set_function(lambda: _field(d / DRILL_FILE, "rpo_seconds"))
    DRILL_RTO.set_function(lambda: _field(d / DRILL_FILE, "rto_seconds"))
