"""The multi-host bed's PostgreSQL (scripts/multihost.py): a throwaway cluster run as the
``postgres`` user inside h1's namespace, listening on h1's address and trusting the bed's LAN
(it holds nothing but test data). Every command is bounded."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from multihost_net import HOSTS, NET

from argus_testkit.pgcluster import Cluster

PG_PORT = 5432
USER = "postgres"
AS_USER = ("setpriv", f"--reuid={USER}", f"--regid={USER}", "--clear-groups", "--")


def pg_env() -> dict[str, str]:
    """The environment of every PostgreSQL command and of the server."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}


def init_cluster(bindir: Path, pg_dir: Path) -> Path:
    """A new cluster in ``pg_dir``/pg, owned by the server's user, that trusts the bed's LAN;
    its data directory. ``initdb`` is the test kit's (argus_testkit.pgcluster, as ``USER``):
    it runs on the host, only the server runs inside h1's namespace."""
    data = pg_dir / "pg"
    cluster = Cluster(data=data, socket_dir=pg_dir, port=PG_PORT, user=USER)
    cluster.bindir = bindir  # the caller's binaries (the server runs from them too)
    cluster.initdb()  # data (0700) and pg_dir, given to USER first
    with (data / "pg_hba.conf").open("a") as f:
        f.write(f"host all all {NET}.0/24 trust\n")
    return data


def server_argv(bindir: Path, data: Path, ns: str) -> list[str]:
    """The server on ``data`` inside namespace ``ns`` (h1's), on h1's address and loopback."""
    return [
        "ip",
        "netns",
        "exec",
        ns,
        *AS_USER,
        str(bindir / "postgres"),
        "-D",
        str(data),
        "-p",
        str(PG_PORT),
        "-h",
        f"127.0.0.1,{HOSTS['h1']}",
        "-k",
        str(data),
        "-c",
        "fsync=off",
        "-c",
        "synchronous_commit=off",
        "-c",
        "max_connections=300",
        "-c",
        "log_line_prefix=",
    ]


def create_database(bindir: Path) -> None:
    """The ``argus`` database on the running server, over h1's address."""
    subprocess.run(
        [
            *AS_USER,
            str(bindir / "createdb"),
            "-h",
            HOSTS["h1"],
            "-p",
            str(PG_PORT),
            "-U",
            "postgres",
            "argus",
        ],
        env=pg_env(),
        capture_output=True,
        timeout=60,
        check=True,
    )
