"""The state of PostgreSQL point-in-time recovery, sampled for the metrics: the newest base
backup in the pgBackRest repository (``pgbackrest info --output=json``) and the WAL archive's
progress (PostgreSQL's ``pg_stat_archiver`` against the WAL segment being written).

With PostgreSQL (and backups enabled) every worker runs :func:`run_pitr_sampler`; the one
holding ``<backup dir>/.pitr.lock`` samples the archiver and, when
``MANAGEMENT_PGBACKREST_CONF`` names a pgBackRest configuration that reaches the repository
(``argus-management backup pgbackrest-conf`` writes one; ``pgbackrest`` must be installed),
the repository (or, with ``MANAGEMENT_PGBACKREST_INFO_FILE``, the ``pgbackrest info`` JSON
that the backup side writes where management can read it: Compose), and writes
``<backup dir>/pitr.json``, which the gauges (``metrics.py``) read at scrape time.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine

from argus_management.backup.locking import try_flock
from argus_management.backup.metrics import PITR_FILE
from argus_management.backup.pgbackrest import STANZA, pgbackrest
from argus_management.backup.run import write_json
from argus_management.backup.settings import BackupSettings

log = structlog.get_logger("argus.backup")
# The backup side rewrites its info file every 10 minutes: an hour without is a stopped writer.
INFO_FILE_MAX_AGE_S = 3600.0

ARCHIVER_SQL = sa.text(
    "SELECT last_archived_wal, extract(epoch FROM last_archived_time) AS last_archived_at, "
    "failed_count, last_failed_wal, extract(epoch FROM last_failed_time) AS last_failed_at, "
    "CASE WHEN pg_is_in_recovery() THEN NULL "
    "ELSE pg_walfile_name(pg_current_wal_lsn()) END AS current_wal, "
    "(SELECT setting::bigint FROM pg_settings WHERE name = 'wal_segment_size') AS seg_bytes "
    "FROM pg_stat_archiver"
)


@dataclass
class PitrStatus:
    sampled_at: float
    # pgBackRest: the stanza's status code (0 ok), the newest backup, the newest WAL held
    repo_status: int | None = None
    repo_message: str = ""
    base_backup_at: float | None = None  # unix time the newest backup stopped
    base_backup_label: str = ""
    base_backup_type: str = ""
    backups: int = 0
    repo_max_wal: str = ""
    # PostgreSQL's archiver
    last_archived_wal: str = ""
    last_archived_at: float | None = None
    last_failed_wal: str = ""
    last_failed_at: float | None = None
    failed_count: int = 0
    current_wal: str = ""
    # finished WAL segments not archived yet (the one being written is not counted)
    wal_pending_segments: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def archive_failing(self) -> bool:
        """The archiver's latest attempt failed (a failure newer than the last success)."""
        if self.last_failed_at is None:
            return False
        return self.last_archived_at is None or self.last_failed_at > self.last_archived_at


def wal_segno(name: str, seg_bytes: int) -> int | None:
    """A WAL file name's segment number (timeline ignored: numbers go on across timelines)."""
    if len(name) < 24:
        return None
    try:
        log_id, seg = int(name[8:16], 16), int(name[16:24], 16)
    except ValueError:
        return None
    return log_id * (0x100000000 // seg_bytes) + seg


def pending_segments(current: str, archived: str, seg_bytes: int) -> int | None:
    """Finished segments after ``archived`` up to (not including) ``current``."""
    now, done = wal_segno(current, seg_bytes), wal_segno(archived, seg_bytes)
    if now is None or done is None:
        return None
    return max(0, now - done - 1)


def apply_info(status: PitrStatus, info: Sequence[dict[str, Any]], stanza: str) -> None:
    """Fill ``status`` from ``pgbackrest info --output=json`` (a list of stanzas)."""
    entry = next((s for s in info if s.get("name") == stanza), None)
    if entry is None:
        status.problems.append(f"stanza {stanza} not in the repository")
        return
    st = entry.get("status") or {}
    status.repo_status = st.get("code") if isinstance(st.get("code"), int) else None
    status.repo_message = str(st.get("message", ""))
    good = [b for b in entry.get("backup") or [] if not b.get("error")]
    status.backups = len(good)
    if good:
        newest = max(good, key=lambda b: b.get("timestamp", {}).get("stop", 0))
        stop = newest.get("timestamp", {}).get("stop")
        status.base_backup_at = float(stop) if isinstance(stop, (int, float)) else None
        status.base_backup_label = str(newest.get("label", ""))
        status.base_backup_type = str(newest.get("type", ""))
    maxes = [a.get("max") for a in entry.get("archive") or [] if a.get("max")]
    status.repo_max_wal = max(maxes, key=lambda w: w[8:]) if maxes else ""
    if status.repo_status not in (0, None):
        status.problems.append(f"repository: {status.repo_message}")


async def apply_archiver(status: PitrStatus, engine: AsyncEngine) -> None:
    """Fill ``status`` from the server's ``pg_stat_archiver``."""
    async with engine.connect() as conn:
        row = (await conn.execute(ARCHIVER_SQL)).mappings().one()
    status.last_archived_wal = row["last_archived_wal"] or ""
    status.last_failed_wal = row["last_failed_wal"] or ""
    for key in ("last_archived_at", "last_failed_at"):
        value = row[key]
        setattr(status, key, float(value) if value is not None else None)
    status.failed_count = int(row["failed_count"] or 0)
    status.current_wal = row["current_wal"] or ""
    # The server's own record, else what the repository holds (after a restart the
    # archiver's statistics may be gone while the repository still has the segments).
    archived = status.last_archived_wal or status.repo_max_wal
    if status.current_wal and archived:
        status.wal_pending_segments = pending_segments(
            status.current_wal, archived, int(row["seg_bytes"])
        )
    if status.archive_failing:
        status.problems.append(f"archive_command failing (last failed {status.last_failed_wal})")


def read_info_file(path: Path, max_age_s: float = INFO_FILE_MAX_AGE_S) -> str:
    """``pgbackrest info --output=json`` as the backup side wrote it (Compose: the
    ``db-backup`` service, where pgBackRest runs); raises ``ValueError`` when it is older
    than ``max_age_s`` (the writer stopped) and ``OSError`` when it cannot be read."""
    age = time.time() - path.stat().st_mtime
    if age > max_age_s:
        raise ValueError(f"{path.name} is {age:.0f} s old: its writer stopped")
    return path.read_text()


async def sample(
    conf: Path | None,
    engine: AsyncEngine | None,
    stanza: str = STANZA,
    info_file: Path | None = None,
) -> PitrStatus:
    """One sample: the repository (``pgbackrest info`` with ``conf``, or the JSON the backup
    side wrote to ``info_file``), the archiver (when ``engine``)."""
    status = PitrStatus(sampled_at=time.time())
    if conf is not None or info_file is not None:
        try:
            if info_file is not None:
                out = await asyncio.to_thread(read_info_file, info_file)
            else:
                assert conf is not None
                out = await asyncio.to_thread(
                    pgbackrest, conf, ["info", "--output=json"], stanza=stanza, timeout_s=120
                )
            apply_info(status, json.loads(out), stanza)
        except (RuntimeError, ValueError, OSError) as exc:
            status.problems.append(f"pgbackrest info: {exc}"[:500])
    if engine is not None:
        try:
            await apply_archiver(status, engine)
        except (sa.exc.SQLAlchemyError, OSError) as exc:
            status.problems.append(f"pg_stat_archiver: {type(exc).__name__}: {exc}"[:500])
    return status


async def sample_locked(
    conf: Path | None,
    engine: AsyncEngine | None,
    backup_dir: str,
    stanza: str = STANZA,
    info_file: Path | None = None,
) -> PitrStatus | None:
    """Sample and write ``pitr.json`` unless another worker is sampling now."""
    d = Path(backup_dir)
    async with try_flock(d / ".pitr.lock") as mine:
        if not mine:
            return None
        status = await sample(conf, engine, stanza, info_file)
        data = asdict(status)
        data["archive_failing"] = status.archive_failing
        await asyncio.to_thread(write_json, d / PITR_FILE, data)
    if status.problems:
        log.warning("pitr_status_problem", problems=status.problems)
    return status


async def run_pitr_sampler(
    conf: str,
    stanza: str,
    engine: AsyncEngine,
    backup_dir: str,
    every_s: float,
    info_file: str | None = None,
) -> None:
    """Sample every ``every_s`` seconds (until cancelled). ``info_file`` None: the one
    ``MANAGEMENT_PGBACKREST_INFO_FILE`` names; ``conf`` and it empty: the archiver only."""
    if info_file is None:
        info_file = BackupSettings().pgbackrest_info_file
    while True:
        try:
            await sample_locked(
                Path(conf) if conf else None,
                engine,
                backup_dir,
                stanza,
                Path(info_file) if info_file else None,
            )
        except Exception as exc:  # logged, tried again next time (the stale-sample alert)
            log.error("pitr_status_failed", error=str(exc)[:500], exc_type=type(exc).__name__)
        await asyncio.sleep(every_s)
