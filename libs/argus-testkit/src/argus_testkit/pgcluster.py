"""A throwaway PostgreSQL cluster with a data directory of its own, server options of the
caller's choice and ``psql`` at hand: the point-in-time drill (``make pitr-drill``) runs one
with WAL archiving on and starts another on a restored data directory.

Like :func:`argus_testkit.provision.start_postgres` (same binaries, same user change when
run as root), but ``initdb`` is optional, so a directory written by a restore can be started.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready
from argus_testkit.provision import (
    PG_READY,
    ProvisionError,
    as_server_user,
    pg_bindir,
    server_user,
)


def chown_to(user: str | None, *paths: Path) -> None:
    """Give ``paths`` to ``user`` (the server's user when we are root)."""
    if user is None:
        return
    entry = pwd.getpwnam(user)
    for path in paths:
        os.chown(path, entry.pw_uid, entry.pw_gid)


@dataclass
class Cluster:
    """One cluster: data directory ``data``, socket directory ``socket_dir``."""

    data: Path
    socket_dir: Path
    port: int = field(default_factory=free_port)
    user: str | None = field(default_factory=server_user)
    proc: Proc | None = None

    def __post_init__(self) -> None:
        bindir = pg_bindir()
        if bindir is None:
            raise ProvisionError("PostgreSQL server binaries (initdb, postgres) not found")
        self.bindir = bindir
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}

    def wrap(self, argv: list[str]) -> list[str]:
        """``argv`` run as the server's user."""
        return as_server_user(self.user, argv)

    def prepare_dir(self) -> None:
        """An empty data directory (0700) and the socket directory, owned by the server's
        user (``initdb`` or a restore fills the data directory)."""
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        chown_to(self.user, self.data, self.socket_dir)

    def initdb(self) -> None:
        self.prepare_dir()
        argv = [
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        ]
        done = subprocess.run(  # noqa: S603 - fixed argv
            self.wrap(argv), env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise ProvisionError(f"initdb failed: {(done.stderr or done.stdout).strip()[-500:]}")

    def start(self, options: Sequence[str] = (), timeout_s: float = 120) -> None:
        """Start the server (``-c`` ``options``), wait until it accepts connections (after
        any recovery it was asked to do)."""
        argv = [
            str(self.bindir / "postgres"),
            "-D",
            str(self.data),
            "-p",
            str(self.port),
            "-h",
            "127.0.0.1",
            "-k",
            str(self.socket_dir),
            "-c",
            "log_line_prefix=",
            "-c",
            "max_connections=20",
        ]
        for option in options:
            argv += ["-c", option]
        self.proc = Proc.start(
            f"postgresql-{self.data.name}",
            self.wrap(argv),
            env=self.env,
            log=self.data.parent / f"{self.data.name}.log",
        )
        self.proc.wait_ready(Ready(line=PG_READY, timeout_s=timeout_s))

    def sql(self, query: str) -> str:
        """Run ``query`` with ``psql`` over the socket; its output (unaligned, no header)."""
        argv = [
            str(self.bindir / "psql"),
            "-h",
            str(self.socket_dir),
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-v",
            "ON_ERROR_STOP=1",
            "-qAt",
            "-c",
            query,
        ]
        done = subprocess.run(  # noqa: S603 - fixed argv
            argv, env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        if done.returncode != 0:
            raise RuntimeError(f"psql failed: {done.stderr.strip()[-500:]}")
        return done.stdout.strip()

    def stop(self) -> None:
        """Fast shutdown (SIGINT: the last WAL segment is archived), then the process group.
        Safe to call twice."""
        if self.proc is None:
            return
        if self.proc.alive:
            self.proc.send(signal.SIGINT)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.proc.wait(30)
        self.proc.stop()
        self.proc = None
