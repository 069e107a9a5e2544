"""``argus-management backup run|list``: take a backup now, or list the kept ones."""

from __future__ import annotations

import argparse
import asyncio

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
    parser.add_argument("action", choices=("run", "list"))
    args = parser.parse_args(argv)
    from argus_management.config import get_settings

    settings = get_settings()
    backup = BackupSettings()
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
