"""``make compose-check``'s PITR step (also on its own: ``python scripts/compose_check_pitr.py``):
docker-compose.pitr.yml for real on this machine's Podman, as its own Compose project.

The argus-objectstore image (SeaweedFS, deploy/objectstore/Dockerfile) with S3 over HTTPS
(a CA made for the run, a certificate for the name ``objectstore``), PostgreSQL + pgBackRest
(deploy/postgres/Dockerfile; on the Debian stand-in here: docker-compose.standins-pitr.yml)
archiving WAL into it, and ``db-backup``: on the empty store ``db-backup`` creates the bucket,
the stanza and a first full backup, and writes the info JSON that management reads
(MANAGEMENT_PGBACKREST_INFO_FILE; parsed here by management's own code). Through the store's
HTTPS port (published on 127.0.0.1 by the test override only) ARGUS's own S3 client checks
PUT, HEAD, a ranged GET and a GET; then a WAL switch is archived (pg_stat_archiver),
``pgbackrest check`` passes and the backup and WAL objects are listed in the bucket. The
project is removed with its volumes at the end.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from compose_check_engine import PROJECT, CheckFailed, Compose, Podman  # noqa: E402
from compose_secrets import lines as secret_lines  # noqa: E402

PITR_PROJECT = f"{PROJECT}-pitr"
FILES = ("docker-compose.yml", "docker-compose.standins.yml", "docker-compose.pitr.yml",
         "docker-compose.standins-pitr.yml")
SERVICES = ("objectstore", "db", "db-backup")
BUCKET = "argus-pitr-check"
STANDIN = "localhost/argus-standin-postgres:15"
INFO_FILE = "/var/run/postgresql/pgbackrest-info.json"
OBJECTSTORE_UID = 10001  # the image's user, which must read the key


class Steps(Protocol):
    def step(self, name: str) -> Any: ...


def write_files(run_dir: Path, build_ca: str) -> tuple[dict[str, str], Path]:
    """The .env (secrets as a user makes them, the store's credentials, a subnet of its own)
    and the TLS directory (ca.crt, objectstore.crt/.key)."""
    from argus_testkit.ports import free_port
    from argus_testkit.tlscerts import make_ca

    tls = run_dir / "tls"
    ca = make_ca(tls, "ARGUS PITR check CA")
    files = ca.issue(tls, hosts=("objectstore", "localhost", "127.0.0.1"), name="objectstore")
    (tls / "ca.crt").write_bytes(ca.cert.read_bytes())
    os.chown(files.key, OBJECTSTORE_UID, -1)
    env = dict(line.split("=", 1) for line in secret_lines({}))
    env |= {
        "POSTGRES_PASSWORD": secrets.token_urlsafe(24),
        "GRAFANA_ADMIN_PASSWORD": secrets.token_urlsafe(24),
        "ARGUS_S3_BUCKET": BUCKET,
        "ARGUS_S3_ACCESS_KEY_ID": "argus",
        "ARGUS_S3_SECRET_ACCESS_KEY": secrets.token_hex(20),
        "ARGUS_TLS_DIR": str(tls),
        "ARGUS_COMPOSE_SUBNET": "172.29.0.0/16",  # beside the main check's project
        "ARGUS_CHECK_OBJECTSTORE_HTTPS_PORT": str(free_port()),
    }
    if build_ca:
        env["ARGUS_BUILD_CA_B64"] = build_ca
    path = run_dir / "pitr.env"
    path.write_text("".join(f"{k}={v}\n" for k, v in env.items()))
    path.chmod(0o600)
    return env, tls


def pitr_compose(podman: Podman, env_file: Path, log_dir: Path) -> Compose:
    compose = Compose(podman, env_file, log_dir)
    compose.base = ["docker-compose", "-p", PITR_PROJECT, "--project-directory", str(ROOT),
                    "--env-file", str(env_file), "--profile", "objectstore"]
    for f in FILES:
        compose.base += ["-f", str(ROOT / f)]
    return compose


def container(podman: Podman, service: str) -> str:
    got = podman.run("ps", "-q", "--filter", f"label=com.docker.compose.project={PITR_PROJECT}",
                     "--filter", f"label=com.docker.compose.service={service}")
    ids = got.stdout.split()
    if not ids:
        raise CheckFailed(f"{service} is not running")
    return ids[0]


def wait_for(what: str, timeout_s: float, probe: Any) -> Any:
    """``probe()`` until it returns something true, bounded in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        got = probe()
        if got:
            return got
        if time.monotonic() > deadline:
            raise CheckFailed(f"{what}: not within {timeout_s:.0f} s")
        time.sleep(1)


def healthy(podman: Podman, service: str) -> bool:
    try:
        cid = container(podman, service)
    except CheckFailed:
        return False
    got = podman.run("inspect", "--format", "{{.State.Health.Status}}", cid)
    return got.stdout.strip() == "healthy"


def psql(podman: Podman, sql: str) -> str:
    got = podman.run("exec", container(podman, "db"), "psql", "-U", "argus", "-d", "argus",
                     "-qAtX", "-v", "ON_ERROR_STOP=1", "-c", sql)
    if got.returncode != 0:
        raise CheckFailed(f"psql {sql!r}: {got.stderr.strip()[-500:]}")
    return got.stdout.strip()


def store_settings(env: dict[str, str]) -> Any:
    from argus_common.objectstore.settings import ObjectStoreSettings

    return ObjectStoreSettings(
        ARGUS_S3_ENDPOINT_URL=f"https://127.0.0.1:{env['ARGUS_CHECK_OBJECTSTORE_HTTPS_PORT']}",
        ARGUS_S3_BUCKET=BUCKET, ARGUS_S3_ACCESS_KEY_ID=env["ARGUS_S3_ACCESS_KEY_ID"],
        ARGUS_S3_SECRET_ACCESS_KEY=env["ARGUS_S3_SECRET_ACCESS_KEY"], ARGUS_S3_TIMEOUT_S=10)


async def s3_roundtrip(env: dict[str, str], work: Path) -> str:
    """Bucket (retried: the volume server joins a moment after the gateway answers), PUT,
    HEAD, ranged GET and a whole GET, with ARGUS's client over HTTPS."""
    from argus_common.objectstore.client import ObjectStore

    body = os.urandom(3 * 2**20 + 17)
    src, dst = work / "probe.bin", work / "probe.out"
    src.write_bytes(body)
    async with ObjectStore(store_settings(env)) as store:
        deadline = time.monotonic() + 60
        while True:
            try:
                await store.ensure_bucket()
                info = await store.put_file(src, "check/probe.bin")
                break
            except Exception as exc:  # not writable yet: tried again, bounded
                if time.monotonic() > deadline:
                    raise CheckFailed(f"bucket/PUT over HTTPS: {exc!r}") from exc
                await asyncio.sleep(0.5)
        head = await store.head("check/probe.bin")
        part = await store.get_range("check/probe.bin", 1000, 1999)
        await store.download("check/probe.bin", dst, len(body))
        whole = dst.read_bytes()
        await store.delete("check/probe.bin")
    if head is None or head.size != len(body) or part != body[1000:2000] or whole != body:
        raise CheckFailed("the store returned other bytes than were PUT")
    return f"PUT {info.size} B, HEAD, ranged GET 1000-1999, GET: same bytes"


async def repo_objects(env: dict[str, str]) -> tuple[int, int]:
    """(WAL archive objects, backup objects) pgBackRest wrote into the bucket."""
    from argus_common.objectstore.client import ObjectStore

    async with ObjectStore(store_settings(env)) as store:
        keys = [o.key async for o in store.list("backups/pgbackrest/")]
    wal = sum(1 for k in keys if "/archive/argus/" in k and k.endswith(".gz"))
    backup = sum(1 for k in keys if "/backup/argus/" in k)
    return wal, backup


def run_pitr(podman: Podman, report: Steps, run_dir: Path, build_ca: str) -> None:
    """The PITR step; ``podman`` is started. Removes its project (volumes too) at the end."""
    from argus_management.backup.pitr_status import PitrStatus, apply_info

    env, _tls = write_files(run_dir, build_ca)
    os.environ["AWS_CA_BUNDLE"] = str(_tls / "ca.crt")  # botocore: trust the run's CA
    compose = pitr_compose(podman, run_dir / "pitr.env", run_dir)
    podman.projects.append(PITR_PROJECT)
    compose("down", "-v", "--remove-orphans", check=False)  # a run that was cut off
    try:
        with report.step("PITR: build objectstore, PostgreSQL + pgBackRest") as note:
            got = podman.run("build", "-q", "-f", "deploy/standins/postgres.Dockerfile",
                             "-t", STANDIN, str(ROOT), timeout=1800)
            if got.returncode != 0:
                raise CheckFailed(f"stand-in postgres build: {got.stderr[-2000:]}")
            compose("build", "objectstore", "db", timeout=1800)
            sizes = {tag: podman.run("image", "inspect", "--format", "{{.Size}}", tag).stdout
                     for tag in ("argus-objectstore:latest", "argus-postgres-pitr:latest")}
            note.append(", ".join(f"{t} {int(s or 0) / 1e6:.0f} MB" for t, s in sizes.items()))
        with report.step("PITR: up; db-backup makes the bucket, stanza, first full backup") as note:
            compose("up", "-d", *SERVICES, timeout=600)
            wait_for("objectstore healthy", 120, lambda: healthy(podman, "objectstore"))
            backup = container(podman, "db-backup")
            wait_for("db-backup's info JSON", 240, lambda: podman.run(
                "exec", backup, "test", "-s", INFO_FILE).returncode == 0)
            logged = podman.run("logs", backup)
            if f"created bucket {BUCKET}: HTTP 200" not in logged.stdout + logged.stderr:
                raise CheckFailed("db-backup did not log the bucket it created")
            info = json.loads(podman.run("exec", backup, "cat", INFO_FILE).stdout)
            status = PitrStatus(sampled_at=time.time())
            apply_info(status, info, "argus")  # management's reader of the same file
            if status.repo_status != 0 or status.backups < 1 or status.base_backup_type != "full":
                raise CheckFailed(f"info JSON: {status}")
            note.append(f"backup {status.base_backup_label} ({status.repo_message}); info JSON "
                        f"as management reads it")
        with report.step("PITR: S3 over HTTPS with ARGUS's client") as note:
            note.append(asyncio.run(s3_roundtrip(env, run_dir)))
        with report.step("PITR: a WAL switch is archived; pgbackrest check") as note:
            psql(podman, "CREATE TABLE pitr_check AS SELECT generate_series(1, 10000) AS n")
            segment = psql(podman, "SELECT pg_walfile_name(pg_switch_wal())")
            wait_for(f"{segment} archived", 60, lambda: psql(
                podman, "SELECT last_archived_wal FROM pg_stat_archiver") >= segment)
            got = podman.run("exec", backup, "pgbackrest", "--stanza=argus", "check", timeout=120)
            if got.returncode != 0:
                raise CheckFailed(f"pgbackrest check: {(got.stdout + got.stderr)[-1500:]}")
            wal, files = asyncio.run(repo_objects(env))
            if wal < 2 or files < 1:
                raise CheckFailed(f"bucket holds {wal} WAL and {files} backup objects")
            note.append(f"{segment} archived; bucket: {wal} WAL segments, {files} backup objects")
    except CheckFailed:
        (run_dir / "pitr-services.log").write_text(compose.output("logs", "--no-color"))
        print(f"[compose-check] PITR services' log: {run_dir / 'pitr-services.log'}",
              file=sys.stderr)
        raise
    finally:
        podman.projects.remove(PITR_PROJECT)
        compose("down", "-v", "--remove-orphans", check=False, timeout=300)


def main() -> int:
    from compose_check import Report, local_build_ca

    if os.geteuid() != 0:
        sys.exit("compose_check_pitr needs root (podman, debootstrap)")
    report = Report()
    run_dir = Path(tempfile.mkdtemp(prefix="argus-compose-check-pitr."))
    print(f"[compose-check] logs in {run_dir}", flush=True)
    podman = Podman(run_dir)
    ok = False
    try:
        subprocess.run(["bash", str(ROOT / "scripts" / "compose_check_base.sh"), "podman"],
                       env=podman.env, check=True, timeout=1800)
        podman.start()
        run_pitr(podman, report, run_dir, local_build_ca())
        ok = True
    except (CheckFailed, subprocess.SubprocessError) as exc:
        print(f"[compose-check] FAILED: {exc}", file=sys.stderr, flush=True)
    finally:
        podman.stop()
    print("\n" + report.table())
    print(f"[compose-check] PITR {'passed' if ok else 'FAILED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
