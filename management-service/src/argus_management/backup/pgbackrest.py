"""PostgreSQL continuous WAL archiving and point-in-time recovery with pgBackRest.

pgBackRest (Debian's ``pgbackrest`` package) keeps, in the object store under
``<ARGUS_S3_PREFIX>/backups/pgbackrest``, full base backups and every WAL segment
PostgreSQL's ``archive_command`` hands it; ``expire`` (run after each backup) deletes full
backups older than the retention and the WAL only they needed, so any instant of the last
``keep_days`` days can be restored. Its S3 client speaks HTTPS only: the local SeaweedFS
serves S3 over HTTPS on a second port (``WEED_S3_HTTPS_PORT``) with the site's certificate.

This module renders pgBackRest's configuration from the ``ARGUS_S3_*`` settings (one place
for the store's address and credentials) and runs its commands; ``argus-management backup
pgbackrest-conf`` writes the file for the site's server and ``make pitr-drill`` rehearses a
restore with a throwaway cluster (docs/operations.md).
"""

from __future__ import annotations

import math
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from argus_common.objectstore import ObjectStoreSettings, object_key

STANZA = "argus"
REPO_FOLDER = "backups/pgbackrest"


class PgBackRestError(RuntimeError):
    """pgBackRest is missing, misconfigured, or a command failed."""


@dataclass(frozen=True)
class Repo:
    """The pgBackRest repository: a folder of an S3 bucket reached over HTTPS."""

    host: str
    port: int
    bucket: str
    region: str
    path: str
    key: str
    secret: str
    path_style: bool = True
    verify_tls: bool = True
    ca_file: str = ""

    @classmethod
    def from_settings(
        cls,
        s3: ObjectStoreSettings,
        endpoint: str = "",
        ca_file: str = "",
        verify_tls: bool = True,
    ) -> Repo:
        """The repository in ``s3``'s bucket. ``endpoint`` overrides the store's URL (the
        local SeaweedFS: its HTTPS port); it must be ``https://`` (pgBackRest's S3 client
        speaks nothing else)."""
        if not s3.enabled:
            raise PgBackRestError("no object store configured (ARGUS_S3_BUCKET is empty)")
        url = urlsplit(endpoint or s3.endpoint_url or f"https://s3.{s3.region}.amazonaws.com")
        if url.scheme != "https" or not url.hostname:
            raise PgBackRestError(
                f"pgBackRest needs an https:// S3 endpoint, not {url.scheme or '?'}:// "
                "(the local SeaweedFS: set WEED_S3_HTTPS_PORT and pass --endpoint)"
            )
        return cls(
            host=url.hostname,
            port=url.port or 443,
            bucket=s3.bucket,
            region=s3.region,
            path="/" + object_key(s3.prefix, REPO_FOLDER),
            key=s3.access_key_id,
            secret=s3.secret(),
            path_style=s3.path_style,
            verify_tls=verify_tls,
            ca_file=ca_file,
        )


def retention_days(keep_days: float) -> int:
    """pgBackRest counts retention in whole days: at least ``keep_days``."""
    return max(1, math.ceil(keep_days))


def render_conf(
    repo: Repo,
    pg_path: str,
    *,
    stanza: str = STANZA,
    pg_port: int = 5432,
    pg_socket_path: str = "",
    pg_user: str = "",
    keep_days: float = 7.0,
    log_path: str = "",
    lock_path: str = "",
) -> str:
    """``pgbackrest.conf`` for one server and the repository (holds the secret: 0600)."""
    days = retention_days(keep_days)
    lines = [
        "# Written by `argus-management backup pgbackrest-conf` (docs/operations.md).",
        "[global]",
        "repo1-type=s3",
        f"repo1-s3-endpoint={repo.host}",
        f"repo1-storage-port={repo.port}",
        f"repo1-s3-bucket={repo.bucket}",
        f"repo1-s3-region={repo.region}",
        f"repo1-s3-key={repo.key}",
        f"repo1-s3-key-secret={repo.secret}",
        f"repo1-s3-uri-style={'path' if repo.path_style else 'host'}",
        f"repo1-path={repo.path}",
        f"repo1-storage-verify-tls={'y' if repo.verify_tls else 'n'}",
        # Full backups older than the retention go, and the WAL only they needed: every
        # instant of the last `days` days stays restorable.
        "repo1-retention-full-type=time",
        f"repo1-retention-full={days}",
        "start-fast=y",
        "compress-type=gz",
        "log-level-console=warn",
        "log-level-stderr=warn",
    ]
    if repo.ca_file:
        lines.append(f"repo1-storage-ca-file={repo.ca_file}")
    lines += [f"log-path={log_path}"] if log_path else ["log-level-file=off"]
    if lock_path:
        lines.append(f"lock-path={lock_path}")
    lines += ["", f"[{stanza}]", f"pg1-path={pg_path}", f"pg1-port={pg_port}"]
    if pg_socket_path:
        lines.append(f"pg1-socket-path={pg_socket_path}")
    if pg_user:
        lines.append(f"pg1-user={pg_user}")
    return "\n".join(lines) + "\n"


def write_conf(path: Path, text: str, owner: str | None = None) -> None:
    """Write the configuration 0600 (it holds the store's secret), owned by ``owner``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.chmod(path, 0o600)
    if owner is not None:
        shutil.chown(path, owner, owner)


def archive_command(conf: Path, stanza: str = STANZA) -> str:
    """PostgreSQL's ``archive_command`` that pushes each WAL segment to the repository."""
    return f"pgbackrest --config={conf} --stanza={stanza} archive-push %p"


def pgbackrest(
    conf: Path,
    args: Sequence[str],
    *,
    stanza: str = STANZA,
    wrap: Sequence[str] = (),
    timeout_s: float = 3600,
) -> str:
    """Run ``pgbackrest --config=conf --stanza=stanza args...`` (``wrap``: a prefix such as
    ``setpriv`` to run as the server's user); its stdout. Raises on failure."""
    exe = shutil.which("pgbackrest")
    if exe is None:
        raise PgBackRestError("pgbackrest not found (apt-get install pgbackrest)")
    argv = [*wrap, exe, f"--config={conf}", f"--stanza={stanza}", *args]
    try:
        done = subprocess.run(  # noqa: S603 (fixed tool, arguments built here)
            argv, capture_output=True, text=True, timeout=timeout_s, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise PgBackRestError(f"pgbackrest {args[0]} timed out after {timeout_s} s") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()[-2000:]
        raise PgBackRestError(f"pgbackrest {args[0]} failed ({done.returncode}): {detail}")
    return done.stdout
