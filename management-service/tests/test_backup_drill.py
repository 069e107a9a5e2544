"""Backups and the restore drill: rows written before the backup point are in the restored
database and rows written after it are not; the checks (row counts, audit chain, timeline)
pass. SQLite into a real SeaweedFS S3 store, PostgreSQL (pg_dump) into a local directory."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import sqlalchemy as sa

from argus_management import migrate
from argus_management.audit import service as audit
from argus_management.backup.drill import run_drill
from argus_management.backup.names import backup_name, parse_name
from argus_management.backup.run import run_backup
from argus_management.backup.schedule import backup_once_locked, next_run
from argus_management.backup.store import S3_FOLDER
from argus_management.db import make_engine, make_sessionmaker
from argus_management.rbac.principal import Actor
from argus_management.recordings.models import RecordingSegment
from argus_testkit.objectstore import LocalObjectStore

from conftest import PG_DSN

ACTOR = Actor(user_id=1, username="ops", ip="192.0.2.7", user_agent="backup-test")
S3_KEYS = (
    "ARGUS_S3_ENDPOINT_URL",
    "ARGUS_S3_REGION",
    "ARGUS_S3_BUCKET",
    "ARGUS_S3_ACCESS_KEY_ID",
    "ARGUS_S3_SECRET_ACCESS_KEY_FILE",
    "ARGUS_S3_PATH_STYLE",
    "ARGUS_S3_PREFIX",
)


async def _write(url: str, camera_id: int, n: int, tag: str) -> None:
    """``n`` audit rows (chained) and ``n`` recording segments of ``camera_id``."""
    engine = make_engine(url)
    maker = make_sessionmaker(engine)
    start = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
    try:
        for i in range(n):
            async with maker() as s:
                await audit.record(s, ACTOR, "backup.test", "thing", f"{tag}{i}", {"i": i})
                t = start + timedelta(minutes=i)
                s.add(
                    RecordingSegment(
                        camera_id=camera_id,
                        path=f"{camera_id}/{tag}{i}.mp4",
                        started_at=t,
                        ended_at=t + timedelta(seconds=60),
                    )
                )
                await s.commit()
    finally:
        await engine.dispose()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalObjectStore]:
    with LocalObjectStore(tmp_path_factory.mktemp("s3"), bucket="argus-backup-test") as s:
        yield s


@pytest.fixture
def s3_env(store: LocalObjectStore, monkeypatch: pytest.MonkeyPatch) -> LocalObjectStore:
    for key in S3_KEYS:
        monkeypatch.delenv(key, raising=False)
    for key, value in store.env().items():
        monkeypatch.setenv(key, value)
    return store


@pytest.fixture
def no_s3(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in S3_KEYS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("ARGUS_S3_BUCKET", "")


async def test_sqlite_backup_to_object_store_and_drill(
    tmp_path: Path, s3_env: LocalObjectStore
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}"
    await migrate.upgrade_async(url)
    await _write(url, camera_id=3, n=5, tag="before")
    backup_dir = str(tmp_path / "backups")

    result = await run_backup(url, backup_dir, keep_days=7)
    assert result.name.endswith(".sqlite")
    client = s3_env.client()
    try:
        keys = [
            o["Key"]
            for o in client.list_objects_v2(Bucket=s3_env.bucket, Prefix=S3_FOLDER)["Contents"]
        ]
        assert keys == [f"{S3_FOLDER}/{result.name}"]
        # A backup from ten days ago is deleted by the next backup (7-day retention).
        old = backup_name(datetime.now(UTC) - timedelta(days=10), "sqlite")
        client.put_object(Bucket=s3_env.bucket, Key=f"{S3_FOLDER}/{old}", Body=b"old")
    finally:
        client.close()

    await _write(url, camera_id=3, n=2, tag="after")  # past the backup point
    drill = await run_drill(url, backup_dir)
    assert drill.ok, drill.problems
    assert drill.backup == result.name
    assert drill.row_counts["recording_segments"] == 5
    assert drill.row_counts["audit_log"] == 5
    assert drill.audit.startswith("OK: 5 rows")
    assert drill.timeline_cameras == 1
    assert 0 <= drill.rpo_seconds and drill.rto_seconds > 0
    assert (Path(backup_dir) / "drill.json").exists()

    again = await run_backup(url, backup_dir, keep_days=7)
    assert again.pruned == [old]


async def test_postgres_dump_to_local_dir_and_drill(tmp_path: Path, no_s3: None) -> None:
    name = f"argus_bk_{uuid.uuid4().hex[:10]}"
    conn = await asyncpg.connect(f"{PG_DSN}/postgres")
    await conn.execute(f'CREATE DATABASE "{name}"')
    await conn.close()
    url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{name}"
    try:
        await migrate.upgrade_async(url)
        await _write(url, camera_id=8, n=4, tag="before")
        backup_dir = tmp_path / "backups"
        result = await run_backup(url, str(backup_dir), keep_days=7)
        assert result.name.endswith(".pgdump")
        assert (backup_dir / result.name).stat().st_size == result.bytes
        await _write(url, camera_id=9, n=3, tag="after")

        drill = await run_drill(url, str(backup_dir))
        assert drill.ok, drill.problems
        assert drill.row_counts["recording_segments"] == 4
        assert drill.row_counts["audit_log"] == 4
        assert drill.timeline_cameras == 1
        # The scratch database is gone after the drill.
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        left = await conn.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE 'argus_drill_%'"
        )
        await conn.close()
        assert left == []
    finally:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def test_a_broken_audit_chain_fails_the_drill(tmp_path: Path, no_s3: None) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}"
    await migrate.upgrade_async(url)
    await _write(url, camera_id=1, n=3, tag="x")
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(sa.text("DROP TRIGGER IF EXISTS audit_log_no_update"))
        await conn.execute(sa.text("UPDATE audit_log SET action = 'forged' WHERE id = 2"))
    await engine.dispose()
    await run_backup(url, str(tmp_path / "backups"), keep_days=7)
    drill = await run_drill(url, str(tmp_path / "backups"))
    assert not drill.ok
    assert any("audit chain BROKEN" in p for p in drill.problems)


async def test_schedule_takes_one_backup_a_day(tmp_path: Path, no_s3: None) -> None:
    assert next_run(
        datetime(2026, 3, 1, 1, 0, tzinfo=UTC), datetime(2026, 1, 1, 2).time()
    ) == datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
    assert next_run(
        datetime(2026, 3, 1, 2, 0, tzinfo=UTC), datetime(2026, 1, 1, 2).time()
    ) == datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    url = f"sqlite+aiosqlite:///{tmp_path / 'argus.db'}"
    await migrate.upgrade_async(url)
    backups = str(tmp_path / "backups")
    assert await backup_once_locked(url, backups, 7)
    # A second worker waking at the same time finds today's backup taken.
    assert not await backup_once_locked(url, backups, 7)
    assert len([p for p in Path(backups).iterdir() if parse_name(p.name)]) == 1
