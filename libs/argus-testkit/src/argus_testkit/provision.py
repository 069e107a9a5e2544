"""Throwaway PostgreSQL and Redis servers for a test session.

``make test`` needs a PostgreSQL server (to create scratch databases in) and a Redis server
(scratch namespaces). When their URLs are given (``ARGUS_TEST_DATABASE_URL``,
``ARGUS_TEST_REDIS_URL``) those servers are used; otherwise :func:`provision` starts a
private cluster (``initdb`` into a temporary directory, ``postgres`` on a free port) and a
private ``redis-server`` on a free port, from the distribution's packages, and
:meth:`Servers.stop` stops both and removes the directory. Servers on the machine's fixed
ports are never used unless named, so a run neither depends on nor touches them.

PostgreSQL refuses to run as root: as root, the cluster runs as the ``postgres`` user (the
Debian package creates it), or ``nobody``, through ``setpriv`` (util-linux, always there),
which also re-arms the parent-death signal after the user change.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready
from argus_testkit.tlscerts import CertFiles

DATABASE_ENV = "ARGUS_TEST_DATABASE_URL"
REDIS_ENV = "ARGUS_TEST_REDIS_URL"
# How a missing package is named in the one-line message (Debian and Ubuntu names).
HINT = ("install it (`sudo scripts/install-deps.sh --test`, or apt-get install {pkg}) or give "
        "a server: {env}=...")
PG_READY = "LOG:  database system is ready to accept connections"


class ProvisionError(RuntimeError):
    """A server could not be provided; the message is one line saying what to do."""


def server_dsn(url: str) -> str:
    """``scheme://user@host:port`` of a PostgreSQL URL: the driver suffix (``+asyncpg``) and
    any database path removed (the kit appends ``/postgres`` or a scratch database)."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres") or not parts.netloc:
        raise ProvisionError(f"{DATABASE_ENV}={url!r} is not a postgresql:// server URL")
    return f"postgresql://{parts.netloc}"


def pg_bindir() -> Path | None:
    """The newest installed PostgreSQL server's ``bin`` directory (Debian keeps ``initdb``
    and ``postgres`` under ``/usr/lib/postgresql/<major>/bin``), or one on ``PATH``."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"),
                   key=lambda p: int(Path(p).parent.parent.name) if
                   Path(p).parent.parent.name.isdigit() else 0)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path and (Path(on_path).resolve().parent / "postgres").exists():
        return Path(on_path).resolve().parent
    return None


def _run_as() -> str | None:
    """The user the cluster runs as when we are root (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    hint = HINT.format(pkg="postgresql", env=DATABASE_ENV)
    raise ProvisionError("running as root and neither a `postgres` nor a `nobody` user "
                         f"exists to run PostgreSQL; {hint}")


def _as_user(user: str | None, argv: list[str]) -> list[str]:
    if user is None:
        return argv
    # INT on parent death: PostgreSQL's fast shutdown (TERM would wait for the clients).
    return ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups",
            "--pdeathsig=INT", "--", *argv]


def server_user() -> str | None:
    """The user a throwaway cluster runs as: None unless we are root (then ``postgres`` or
    ``nobody``); other cluster launchers (the point-in-time drill) use this too."""
    return _run_as()


def as_server_user(user: str | None, argv: list[str]) -> list[str]:
    """``argv`` run as ``user`` (through ``setpriv``), or unchanged when ``user`` is None."""
    return _as_user(user, argv)


@dataclass
class Servers:
    """The servers of one test session; ``procs`` are the ones started here."""

    pg_dsn: str
    redis_url: str
    tmp: Path | None = None
    procs: list[Proc] = field(default_factory=list)
    provisioned: list[str] = field(default_factory=list)

    def export(self, env: MutableMapping[str, str]) -> None:
        """Put the URLs where every conftest, the kit and child processes read them."""
        env[DATABASE_ENV] = self.pg_dsn
        env[REDIS_ENV] = self.redis_url

    def describe(self) -> str:
        """One line for the test report header."""
        pg = "private " if "postgresql" in self.provisioned else "given "
        rd = "private " if "redis" in self.provisioned else "given "
        return f"PostgreSQL: {pg}{self.pg_dsn}; Redis: {rd}{self.redis_url}"

    def stop(self) -> None:
        """Stop what was started here (PostgreSQL with its fast shutdown) and remove the
        temporary directory. Safe to call twice."""
        for proc in reversed(self.procs):
            if proc.name == "postgresql" and proc.alive:
                proc.send(signal.SIGINT)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.proc.wait(15)
            proc.stop()
        self.procs.clear()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


def _pg_tls(data: Path, tls: CertFiles, user: str | None) -> list[str]:
    """Copy the certificate into the cluster (PostgreSQL wants its key 0600 and owned by
    the server's user), allow only TLS connections over TCP; the server options."""
    for src, name in ((tls.cert, "server.crt"), (tls.key, "server.key"), (tls.ca, "ca.crt")):
        shutil.copyfile(src, data / name)
        (data / name).chmod(0o600)
        if user is not None:
            entry = pwd.getpwnam(user)
            os.chown(data / name, entry.pw_uid, entry.pw_gid)
    (data / "pg_hba.conf").write_text("local all all trust\n"
                                      "hostssl all all 127.0.0.1/32 trust\n"
                                      "hostnossl all all 127.0.0.1/32 reject\n")
    return ["-c", "ssl=on", "-c", f"ssl_cert_file={data / 'server.crt'}",
            "-c", f"ssl_key_file={data / 'server.key'}", "-c", f"ssl_ca_file={data / 'ca.crt'}"]


def start_postgres(tmp: Path, env: Mapping[str, str] = os.environ,
                   tls: CertFiles | None = None) -> tuple[str, Proc]:
    """A private cluster under ``tmp`` on a free port: ``(server DSN, process)``.
    ``tls``: the server's certificate; TCP connections without TLS are then refused."""
    bindir = pg_bindir()
    if bindir is None:
        raise ProvisionError("PostgreSQL server binaries (initdb, postgres) not found; "
                             + HINT.format(pkg="postgresql", env=DATABASE_ENV))
    user = _run_as()
    data = tmp / "pg"
    data.mkdir(mode=0o700)
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(tmp, entry.pw_uid, entry.pw_gid)
        os.chown(data, entry.pw_uid, entry.pw_gid)
    pg_env = {"PATH": env.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "TZ": "UTC"}
    # Trust auth on 127.0.0.1 only; no fsync: a throwaway cluster need not survive a crash.
    init = subprocess.run(  # noqa: S603 - fixed argv
        _as_user(user, [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A",
                        "trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"]),
        env=pg_env, capture_output=True, text=True, timeout=120, check=False)
    if init.returncode != 0:
        last = (init.stderr or init.stdout).strip().splitlines()[-1:] or ["?"]
        raise ProvisionError(f"initdb failed ({last[0]}); give a server: {DATABASE_ENV}=...")
    port = free_port()
    argv = [str(bindir / "postgres"), "-D", str(data), "-p", str(port), "-h", "127.0.0.1",
            "-k", str(tmp), "-c", "fsync=off", "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off", "-c", "max_connections=300",
            "-c", "log_line_prefix="]  # the ready line then starts with "LOG:"
    if tls is not None:
        argv += _pg_tls(data, tls, user)
    proc = Proc.start("postgresql", _as_user(user, argv), env=pg_env, log=tmp / "postgresql.log")
    try:
        proc.wait_ready(Ready(line=PG_READY, timeout_s=60))
    except (RuntimeError, TimeoutError) as exc:
        proc.stop()
        first = str(exc).splitlines()[0]
        raise ProvisionError(f"PostgreSQL did not start: {first}; see {tmp}/postgresql.log "
                             f"or give a server: {DATABASE_ENV}=...") from exc
    return f"postgresql://postgres@127.0.0.1:{port}", proc


def redis_server() -> str | None:
    """The ``redis-server`` executable (``PATH``, then Debian's path), or None."""
    found = shutil.which("redis-server")
    if found:
        return found
    return "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None


def start_redis(tmp: Path, env: Mapping[str, str] = os.environ,
                tls: CertFiles | None = None) -> tuple[str, Proc]:
    """A private ``redis-server`` under ``tmp`` on a free port: ``(URL, process)``.
    ``tls``: TLS only (no plain port; clients need no certificate), the URL ``rediss://``."""
    exe = redis_server()
    if exe is None:
        raise ProvisionError("redis-server not found; "
                             + HINT.format(pkg="redis-server", env=REDIS_ENV))
    port = free_port()
    rdir = tmp / "redis"
    rdir.mkdir()
    listen = ["--port", str(port)]
    if tls is not None:
        listen = ["--port", "0", "--tls-port", str(port), "--tls-cert-file", str(tls.cert),
                  "--tls-key-file", str(tls.key), "--tls-ca-cert-file", str(tls.ca),
                  "--tls-auth-clients", "no"]
    argv = [exe, *listen, "--bind", "127.0.0.1", "--save", "", "--appendonly",
            "no", "--dir", str(rdir), "--maxclients", "4000"]
    proc = Proc.start("redis", argv, env={"PATH": env.get("PATH", "/usr/bin:/bin")},
                      log=tmp / "redis.log")
    try:
        proc.wait_ready(Ready(tcp=port, timeout_s=30))
    except (RuntimeError, TimeoutError) as exc:
        proc.stop()
        first = str(exc).splitlines()[0]
        raise ProvisionError(f"redis-server did not start: {first}; give a server: "
                             f"{REDIS_ENV}=...") from exc
    return f"{'rediss' if tls else 'redis'}://127.0.0.1:{port}/0", proc


def provision(env: Mapping[str, str] | None = None) -> Servers:
    """The session's servers: the given URLs, or private servers started now. Raises
    :class:`ProvisionError` (one line) when one is missing and cannot be started; then
    nothing started here is left running."""
    env = os.environ if env is None else env
    given_pg = env.get(DATABASE_ENV, "").strip()
    given_redis = env.get(REDIS_ENV, "").strip()
    servers = Servers(pg_dsn=server_dsn(given_pg) if given_pg else "",
                      redis_url=given_redis)
    if given_pg and given_redis:
        return servers
    servers.tmp = Path(tempfile.mkdtemp(prefix="argus-test-servers-"))
    servers.tmp.chmod(0o755)
    try:
        if not given_pg:
            servers.pg_dsn, proc = start_postgres(servers.tmp, env)
            servers.procs.append(proc)
            servers.provisioned.append("postgresql")
        if not given_redis:
            servers.redis_url, proc = start_redis(servers.tmp, env)
            servers.procs.append(proc)
            servers.provisioned.append("redis")
    except BaseException:
        servers.stop()
        raise
    return servers
