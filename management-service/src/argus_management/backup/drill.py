"""The restore drill (``make restore-drill``): restore the newest backup into a scratch
database, check it, and report RPO (age of the restored point) and RTO (how long the
restore took). The result goes to stdout and ``<backup dir>/drill.json`` (a metric)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from argus_management.audit.verify import verify
from argus_management.backup.metrics import DRILL_FILE
from argus_management.backup.names import parse_name
from argus_management.backup.postgres import (
    create_database,
    drop_database,
    restore_postgres,
    with_database,
)
from argus_management.backup.run import write_json
from argus_management.backup.sqlite import restore_sqlite
from argus_management.backup.store import open_store
from argus_management.db import make_engine

KEY_TABLES = ("users", "cameras", "events", "recording_segments", "audit_log", "alerts")
# The timeline's shape: every camera's kept recordings, their span.
TIMELINE_SQL = sa.text(
    "SELECT camera_id, count(*) AS n, min(started_at) AS first, max(ended_at) AS last "
    "FROM recording_segments WHERE deleted_at IS NULL GROUP BY camera_id ORDER BY camera_id"
)


@dataclass
class DrillResult:
    ok: bool
    backup: str
    where: str
    rpo_seconds: float
    rto_seconds: float
    checked_at: float
    row_counts: dict[str, int] = field(default_factory=dict)
    audit: str = ""
    timeline_cameras: int = 0
    problems: list[str] = field(default_factory=list)


async def check(url: str) -> tuple[dict[str, int], str, int, list[str]]:
    """Row counts of the key tables, the audit chain, a timeline query on ``url``."""
    problems: list[str] = []
    counts: dict[str, int] = {}
    engine = make_engine(url)
    try:
        async with engine.connect() as conn:
            names = set(await conn.run_sync(lambda c: sa.inspect(c).get_table_names()))
            for table in KEY_TABLES:
                if table not in names:
                    problems.append(f"table {table} missing")
                    continue
                query = sa.text(f"SELECT count(*) FROM {table}")  # noqa: S608 (KEY_TABLES)
                counts[table] = int((await conn.execute(query)).scalar_one())
            timeline = (await conn.execute(TIMELINE_SQL)).all()
    finally:
        await engine.dispose()
    report = await verify(url)
    if report.problem is None:
        audit = f"OK: {report.rows} rows; head {report.head_id}"
    else:
        p = report.problem
        audit = f"BROKEN: {p.kind} at row {p.row_id}: {p.detail}"
        problems.append(f"audit chain {audit}")
    return counts, audit, len(timeline), problems


async def run_drill(database_url: str, backup_dir: str, keep: bool = False) -> DrillResult:
    """Restore the newest backup into a scratch database and check it."""
    work = Path(backup_dir)
    await asyncio.to_thread(work.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=work, prefix=".drill-") as tmp:
        started = time.monotonic()
        async with open_store(backup_dir) as store:
            names = await store.names()
            if not names:
                raise RuntimeError(f"no backup in {store.where}")
            name, where = names[-1], store.where
            parsed = parse_name(name)
            assert parsed is not None
            taken_at, kind = parsed
            local = Path(tmp) / name
            await store.fetch(name, local)
        scratch_db: str | None = None
        if kind == "sqlite":
            scratch = (work / "drill.db") if keep else Path(tmp) / "drill.db"
            scratch.unlink(missing_ok=True)
            await asyncio.to_thread(restore_sqlite, local, scratch)
            url = f"sqlite+aiosqlite:///{scratch}"
        else:
            scratch_db = f"argus_drill_{uuid.uuid4().hex[:10]}"
            await asyncio.to_thread(create_database, database_url, scratch_db)
            await asyncio.to_thread(restore_postgres, database_url, local, scratch_db)
            url = with_database(database_url, scratch_db)
        rto = time.monotonic() - started
        try:
            counts, audit, cameras, problems = await check(url)
        finally:
            if scratch_db is not None and not keep:
                await asyncio.to_thread(drop_database, database_url, scratch_db)
    now = time.time()
    result = DrillResult(
        ok=not problems,
        backup=name,
        where=where,
        rpo_seconds=now - taken_at.timestamp(),
        rto_seconds=rto,
        checked_at=now,
        row_counts=counts,
        audit=audit,
        timeline_cameras=cameras,
        problems=problems,
    )
    write_json(work / DRILL_FILE, asdict(result))
    return result


def render(result: DrillResult) -> str:
    lines: list[str] = [
        f"restore drill: {'PASSED' if result.ok else 'FAILED'}",
        f"  backup     {result.backup} ({result.where})",
        "  rows       " + ", ".join(f"{k}={v}" for k, v in result.row_counts.items()),
        f"  audit      {result.audit}",
        f"  timeline   {result.timeline_cameras} cameras with recordings",
        f"  RPO        {result.rpo_seconds:.0f} s (age of the restored backup)",
        f"  RTO        {result.rto_seconds:.2f} s (fetch + restore)",
    ]
    lines += [f"  problem    {p}" for p in result.problems]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``make restore-drill``: 0 when the restored database passes its checks, else 1."""
    parser = argparse.ArgumentParser(prog="restore-drill", description=__doc__)
    parser.add_argument(
        "--keep", action="store_true", help="keep the scratch database (drill.db / argus_drill_*)"
    )
    args = parser.parse_args(argv)
    from argus_management.backup.settings import BackupSettings
    from argus_management.config import get_settings

    settings = get_settings()
    backup_dir = BackupSettings().backup_dir(settings.data_dir)
    try:
        result = asyncio.run(run_drill(settings.database_url, backup_dir, args.keep))
    except Exception as exc:
        failed: dict[str, Any] = {
            "ok": False,
            "checked_at": time.time(),
            "problems": [f"{type(exc).__name__}: {exc}"[:500]],
        }
        write_json(Path(backup_dir) / DRILL_FILE, failed)
        sys.stderr.write(f"restore drill FAILED: {failed['problems'][0]}\n")
        return 1
    print(render(result))
    return 0 if result.ok else 1
