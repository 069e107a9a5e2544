"""PostgreSQL: a ``pg_dump`` custom-format archive; restored with ``pg_restore``.

The connection comes from ``DATABASE_URL`` and reaches the tools through ``PG*`` environment
variables, so the password never shows in a process listing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url


def is_postgres(database_url: str) -> bool:
    return database_url.startswith("postgresql")


def libpq_env(database_url: str, database: str | None = None) -> dict[str, str]:
    """``PGHOST``/``PGPORT``/``PGUSER``/``PGPASSWORD``/``PGDATABASE`` of ``database_url``."""
    url = make_url(database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", database or url.database),
    ):
        if value is not None:
            env[key] = str(value)
    ssl = url.query.get("ssl") or url.query.get("sslmode")
    if isinstance(ssl, str):
        env["PGSSLMODE"] = ssl
    return env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise RuntimeError(f"{name} not found (the postgresql-client package)")
    return found


def _run(args: list[str], env: dict[str, str], timeout_s: float) -> None:
    done = subprocess.run(  # noqa: S603 (a PostgreSQL tool, fixed arguments)
        args, env=env, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{Path(args[0]).name} failed ({done.returncode}): {done.stderr.strip()[-2000:]}"
        )


def dump_postgres(database_url: str, dest: Path, timeout_s: float = 3600) -> None:
    """``pg_dump --format=custom`` of the database into ``dest`` (one consistent snapshot)."""
    _run(
        [_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dest}"],
        libpq_env(database_url),
        timeout_s,
    )


def create_database(database_url: str, name: str) -> None:
    _run(
        [_tool("psql"), "-v", "ON_ERROR_STOP=1", "-q", "-c", f'CREATE DATABASE "{name}"'],
        libpq_env(database_url, "postgres"),
        120,
    )


def drop_database(database_url: str, name: str) -> None:
    _run(
        [
            _tool("psql"),
            "-v",
            "ON_ERROR_STOP=1",
            "-q",
            "-c",
            f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
        ],
        libpq_env(database_url, "postgres"),
        120,
    )


def restore_postgres(
    database_url: str, backup: Path, database: str, timeout_s: float = 3600
) -> None:
    """``pg_restore`` of ``backup`` into the (empty) database ``database``."""
    _run(
        [
            _tool("pg_restore"),
            "--exit-on-error",
            "--no-owner",
            "--no-privileges",
            f"--dbname={database}",
            str(backup),
        ],
        libpq_env(database_url, database),
        timeout_s,
    )


def with_database(database_url: str, database: str) -> str:
    """``database_url`` pointing at another database of the same server."""
    return make_url(database_url).set(database=database).render_as_string(hide_password=False)
