"""``argus-management backup run|list|pgbackrest-conf``: take a backup now, list the kept
ones, or write pgBackRest's configuration for the site's PostgreSQL (WAL archiving)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from argus_common.objectstore import ObjectStoreSettings
from argus_management.backup.pgbackrest import (
    STANZA,
    PgBackRestError,
    Repo,
    archive_command,
    render_conf,
    write_conf,
)
from argus_management.backup.run import run_backup
from argus_management.backup.settings import BackupSettings
from argus_management.backup.store import open_store


async def _list(backup_dir: str) -> list[str]:
    async with open_store(backup_dir) as store:
        names = await store.names()
        print(f"backups in {store.where}:")
        return names


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="argus-management backup", description="Backups of management's database."
    )
    parser.add_argument("action", choices=("run", "list", "pgbackrest-conf"))
    conf = parser.add_argument_group("pgbackrest-conf (docs/operations.md)")
    conf.add_argument("--out", help="the file to write (0600; it holds the store's secret)")
    conf.add_argument("--pg-path", help="the server's data directory")
    conf.add_argument("--pg-port", type=int, default=5432)
    conf.add_argument("--pg-socket-path", default="")
    conf.add_argument("--pg-user", default="")
    conf.add_argument("--stanza", default=STANZA)
    conf.add_argument("--endpoint", default="", help="https:// S3 endpoint for pgBackRest")
    conf.add_argument("--ca-file", default="", help="CA that signed the endpoint's cert")
    conf.add_argument("--no-verify-tls", action="store_true")
    conf.add_argument("--owner", default=None, help="owner of --out (e.g. postgres)")
    args = parser.parse_args(argv)
    backup = BackupSettings()
    if args.action == "pgbackrest-conf":
        return _pgbackrest_conf(args, backup.keep_days)
    from argus_management.config import get_settings

    settings = get_settings()
    backup_dir = backup.backup_dir(settings.data_dir)
    if args.action == "list":
        for name in asyncio.run(_list(backup_dir)):
            print(f"  {name}")
        return 0
    result = asyncio.run(run_backup(settings.database_url, backup_dir, backup.keep_days))
    print(
        f"backup {result.name} -> {result.where}: {result.bytes} bytes in "
        f"{result.seconds:.2f} s; deleted {len(result.pruned)} past retention"
    )
    return 0


def _pgbackrest_conf(args: argparse.Namespace, keep_days: float) -> int:
    """Write pgbackrest.conf from ``ARGUS_S3_*``; print the lines for postgresql.conf."""
    if not args.out or not args.pg_path:
        print("pgbackrest-conf needs --out and --pg-path")
        return 2
    try:
        repo = Repo.from_settings(
            ObjectStoreSettings(), args.endpoint, args.ca_file, not args.no_verify_tls
        )
    except PgBackRestError as exc:
        print(f"pgbackrest-conf: {exc}")
        return 2
    text = render_conf(
        repo,
        args.pg_path,
        stanza=args.stanza,
        pg_port=args.pg_port,
        pg_socket_path=args.pg_socket_path,
        pg_user=args.pg_user,
        keep_days=keep_days,
    )
    write_conf(Path(args.out), text, args.owner)
    print(f"wrote {args.out} (repository s3://{repo.bucket}{repo.path}); in postgresql.conf:")
    print("  wal_level = replica")
    print("  archive_mode = on")
    print(f"  archive_command = '{archive_command(Path(args.out), args.stanza)}'")
    print("  archive_timeout = 60")
    print(f"then: pgbackrest --config={args.out} --stanza={args.stanza} stanza-create")
    return 0
