"""``make pitr-drill``: PostgreSQL point-in-time recovery of an ARGUS database rehearsed end
to end, with pgBackRest and an object store, on throwaway servers of its own
(docs/operations.md).

1. starts SeaweedFS with S3 over HTTPS (a CA made for the run) and a PostgreSQL cluster
   (``initdb`` on free ports) whose ``archive_command`` is pgBackRest's ``archive-push``,
   configured by the same code as the site's (``argus_management.backup.pgbackrest``);
2. ``stanza-create``; management's migrations on a database ``argus``; cameras, recording
   segments and audit rows through management's code (``pitr_drill_data.py``); a full base
   backup; more rows; the target noted (with the restore drill's checks of the source at
   that instant: the expected result); more rows; ``check`` makes the last WAL segment
   archived; the PITR state is sampled as management's metrics do (``pitr_status``); the
   server is stopped (it is "lost");
3. ``pgbackrest restore --type=time --target=<target>`` into a new data directory, starts a
   second cluster there and runs the restore drill's checks (``backup.drill.check``: row
   counts, the audit hash chain, a timeline query); the counts must be the target's.

Prints each step, RPO (the server's loss to its last archived WAL segment: what a real
loss would have cost) and RTO (restore + recovery + start); exits 0 when every check passed.
Needs ``pgbackrest`` (Debian's package) and PostgreSQL's server binaries.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pitr_drill_data import migrate_schema, write_phase

from argus_common.objectstore import ObjectStoreSettings
from argus_management.backup.drill import check
from argus_management.backup.pgbackrest import (
    Repo,
    archive_command,
    pgbackrest,
    render_conf,
    write_conf,
)
from argus_management.backup.pitr_status import PitrStatus, sample
from argus_management.db import make_engine
from argus_testkit.objectstore import LocalObjectStore
from argus_testkit.pgcluster import Cluster, chown_to
from argus_testkit.tlscerts import make_ca

STANZA = "drill"
DATABASE = "argus"
# cameras written in each phase (each with its segments and audit rows)
BEFORE_BACKUP, BEFORE_TARGET, AFTER_TARGET = 3, 2, 2


@dataclass
class PitrResult:
    ok: bool
    target: str = ""
    expected: dict[str, int] = field(default_factory=dict)
    found: dict[str, int] = field(default_factory=dict)
    audit: str = ""
    timeline_cameras: int = 0
    backup_seconds: float = 0.0
    restore_seconds: float = 0.0  # RTO: restore + recovery + start
    rpo_seconds: float = float("nan")  # the server's loss to its last archived WAL segment
    total_seconds: float = 0.0
    status: PitrStatus | None = None  # the PITR state sampled before the loss
    info: list[dict[str, object]] = field(default_factory=list)  # pgbackrest info (JSON)
    problems: list[str] = field(default_factory=list)


def _url(cluster: Cluster) -> str:
    return f"postgresql+asyncpg://postgres@127.0.0.1:{cluster.port}/{DATABASE}"


async def _sample(conf: Path, cluster: Cluster) -> PitrStatus:
    engine = make_engine(_url(cluster))
    try:
        return await sample(conf, engine, STANZA)
    finally:
        await engine.dispose()


def run_drill(work: Path, say: Callable[[str], None] = print) -> PitrResult:
    """The drill in ``work`` (an empty directory); stops everything it started."""
    started = time.monotonic()
    result = PitrResult(ok=False)
    work.chmod(0o755)
    ca = make_ca(work / "tls", "ARGUS drill CA")
    store = LocalObjectStore(
        work / "objectstore",
        bucket="argus-drill",
        tls=ca.issue(work / "tls", ("127.0.0.1",), ip_as_dns=True),
    )
    source = Cluster(work / "source", work / "sock-source")
    restored = Cluster(work / "restored", work / "sock-restored")
    chown_to(source.user, work)
    try:
        say("object store: SeaweedFS with S3 over HTTPS ...")
        store.start()
        s3 = ObjectStoreSettings.model_validate(store.env())
        repo = Repo.from_settings(s3, endpoint=store.https_endpoint_url, ca_file=str(ca.cert))
        conf = work / "pgbackrest.conf"
        for d in ("pgbackrest-log", "pgbackrest-lock"):
            (work / d).mkdir()
            chown_to(source.user, work / d)
        write_conf(
            conf,
            render_conf(
                repo,
                str(source.data),
                stanza=STANZA,
                pg_port=source.port,
                pg_socket_path=str(source.socket_dir),
                pg_user="postgres",
                log_path=str(work / "pgbackrest-log"),
                lock_path=str(work / "pgbackrest-lock"),
            ),
            owner=source.user,
        )

        def br(*args: str) -> str:
            return pgbackrest(conf, args, stanza=STANZA, wrap=source.wrap([]), timeout_s=300)

        say(f"source cluster on port {source.port}, archive_command -> pgBackRest ...")
        source.initdb()
        source.start(
            [
                "archive_mode=on",
                f"archive_command={archive_command(conf, STANZA)}",
                "wal_level=replica",
                "max_wal_senders=3",
            ]
        )
        br("stanza-create")
        br("check")
        source.sql(f"CREATE DATABASE {DATABASE}")
        say("management's migrations; cameras, segments, audit rows ...")
        asyncio.run(migrate_schema(_url(source)))
        asyncio.run(write_phase(_url(source), "a-before-backup", BEFORE_BACKUP))
        t0 = time.monotonic()
        say("full base backup ...")
        br("backup", "--type=full")
        result.backup_seconds = time.monotonic() - t0
        # The backup to restore, named: pgBackRest picks one by its stop time in whole
        # seconds, which may be later than a target a moment after it.
        label = json.loads(br("info", "--output=json"))[0]["backup"][-1]["label"]
        asyncio.run(write_phase(_url(source), "b-before-target", BEFORE_TARGET))
        result.expected, _, _, _ = asyncio.run(check(_url(source)))
        result.target = source.sql(
            "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', "
            "'YYYY-MM-DD HH24:MI:SS.US') || '+00'"
        )
        asyncio.run(write_phase(_url(source), "c-after-target", AFTER_TARGET))
        br("check")  # switches WAL and waits until the segment is in the repository
        result.status = asyncio.run(_sample(conf, source))
        result.info = json.loads(br("info", "--output=json"))
        say(f"target {result.target}; rows at the target: {result.expected}; source stopped")
        source.stop()
        lost_at = time.time()
        if result.status.last_archived_at is not None:
            result.rpo_seconds = max(0.0, lost_at - result.status.last_archived_at)

        say("restore to the target into a new data directory ...")
        t0 = time.monotonic()
        restored.prepare_dir()
        br(
            "restore",
            f"--pg1-path={restored.data}",
            f"--set={label}",
            "--type=time",
            f"--target={result.target}",
            "--target-action=promote",
        )
        restored.start(["archive_mode=off"])
        result.restore_seconds = time.monotonic() - t0
        say("the restore drill's checks on the restored database ...")
        found, result.audit, result.timeline_cameras, problems = asyncio.run(check(_url(restored)))
        result.found = found
        result.problems += problems
        if result.found != result.expected:
            result.problems.append(f"rows {result.found}, expected {result.expected}")
        if result.timeline_cameras != BEFORE_BACKUP + BEFORE_TARGET:
            result.problems.append(f"timeline: {result.timeline_cameras} cameras")
        if restored.sql("SELECT pg_is_in_recovery()") != "f":
            result.problems.append("the restored cluster is still in recovery")
        result.ok = not result.problems
    except Exception as exc:  # reported as the drill's result, not a traceback
        result.problems.append(f"{type(exc).__name__}: {exc}"[:2000])
    finally:
        restored.stop()
        source.stop()
        store.stop()
        result.total_seconds = time.monotonic() - started
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="pitr_drill", description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if shutil.which("pgbackrest") is None:
        print("pitr drill: pgbackrest not found (apt-get install pgbackrest)", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="argus-pitr-drill-"))
    try:
        result = run_drill(work)
    finally:
        if args.keep:
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"point-in-time restore to {result.target}")
    print("  rows       " + ", ".join(f"{k}={v}" for k, v in result.found.items()))
    print("  expected   " + ", ".join(f"{k}={v}" for k, v in result.expected.items()))
    print(f"  audit      {result.audit}")
    print(f"  timeline   {result.timeline_cameras} cameras with recordings")
    print(f"  base backup {result.backup_seconds:.1f} s")
    print(f"  RPO        {result.rpo_seconds:.1f} s (server lost -> its last archived WAL)")
    print(f"  RTO        {result.restore_seconds:.1f} s (restore + recovery + start)")
    print(f"  drill      {result.total_seconds:.1f} s")
    print("PITR DRILL " + ("PASSED" if result.ok else "FAILED"))
    for problem in result.problems:
        print(f"  problem: {problem}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
