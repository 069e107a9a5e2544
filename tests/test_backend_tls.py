"""TLS to PostgreSQL and Redis by configuration (issue 16, finding 10).

A PostgreSQL cluster with ``ssl=on`` that refuses plain TCP and a ``redis-server`` with only a
``--tls-port`` are started here (argus_testkit.provision with ``tls=``), with a CA and server
certificate generated for the test. management migrates, starts and answers over them
(``DATABASE_URL`` with ``sslmode=verify-full&sslrootcert=…``, ``rediss://`` with
``REDIS_TLS_CA_FILE``); the media services build their client with the same shared function.
A CA that did not sign the server's certificate is refused with one clear line.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import ssl
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
import pytest
import yaml
from pydantic import ValidationError
from redis.exceptions import NoPermissionError
from sqlalchemy import text

from argus_common.bus import check_redis_tls, redis_client
from argus_common.leases import Leases
from argus_common.service_http import camera_service_problems
from argus_common.settings import ArgusSettings
from argus_common.tls import TlsConfigError, TlsError, client_context
from argus_management.config import Settings
from argus_management.db import make_engine
from argus_management.deps import app_state
from argus_management.main import create_app
from argus_recording.config import Settings as RecordingSettings
from argus_recording.service import RecordingService
from argus_testkit.ports import free_port
from argus_testkit.process import Proc, Ready
from argus_testkit.provision import start_postgres, start_redis
from argus_testkit.redis_acl import USERS
from argus_testkit.tlscerts import CertFiles, make_ca
from argus_testkit.tools import require

pytestmark = pytest.mark.timeout(180)
DB = "argus_tls"
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class TlsServers:
    pg_port: int
    redis_url: str
    ca: Path
    other_ca: Path
    server: CertFiles

    def db_url(self, ca: Path | None = None, mode: str = "verify-full") -> str:
        return (
            f"postgresql+asyncpg://postgres@127.0.0.1:{self.pg_port}/{DB}"
            f"?sslmode={mode}&sslrootcert={ca or self.ca}"
        )


@pytest.fixture(scope="module")
def servers() -> Iterator[TlsServers]:
    # Not under pytest's 0700 base: the cluster's user (postgres, when tests run as root)
    # must reach its files.
    tmp = Path(tempfile.mkdtemp(prefix="argus-tls-"))
    tmp.chmod(0o755)
    ca = make_ca(tmp / "ca")
    other = make_ca(tmp / "other", "Some other CA")
    server = ca.issue(tmp / "server", ("localhost", "127.0.0.1"))
    procs: list[Proc] = []
    try:
        pg_dir, redis_dir = tmp / "pg", tmp / "redis"
        pg_dir.mkdir(mode=0o755)
        redis_dir.mkdir()
        dsn, pg = start_postgres(pg_dir, tls=server)
        procs.append(pg)
        url, redis = start_redis(redis_dir, tls=server)
        procs.append(redis)
        yield TlsServers(int(dsn.rsplit(":", 1)[1]), url, ca.cert, other.cert, server)
    finally:
        for proc in reversed(procs):
            proc.stop()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="module")
async def database(servers: TlsServers) -> AsyncIterator[None]:
    ctx = client_context("verify-full", str(servers.ca))
    conn = await asyncpg.connect(
        host="127.0.0.1", port=servers.pg_port, user="postgres", database="postgres", ssl=ctx
    )
    await conn.execute(f'CREATE DATABASE "{DB}"')
    await conn.close()
    yield


def _settings(servers: TlsServers, tmp: Path, **over: str) -> Settings:
    values = {
        "ARGUS_ENV": "test",
        "DATABASE_URL": servers.db_url(),
        "REDIS_URL": servers.redis_url,
        "REDIS_TLS_CA_FILE": str(servers.ca),
        "ARGUS_REDIS_NAMESPACE": "argus-tls",
        "SECRET_KEY": "test-secret-key-0123456789abcdef",
        "INTERNAL_API_KEY": "test-internal-key-0123456789abcdef",
        "ARGUS_ADMIN_USERNAME": "admin",
        "ARGUS_ADMIN_PASSWORD": "admin-password-123",
        "ARGUS_DATA_DIR": str(tmp),
        "MANAGEMENT_BCRYPT_ROUNDS": "4",
        "MANAGEMENT_LIVENESS_ENABLED": "false",
        **over,
    }
    return Settings(**values)  # type: ignore[arg-type]


async def test_the_servers_refuse_plain_connections(servers: TlsServers, database: None) -> None:
    """Without this, a passing test below would not show that TLS was used."""
    with pytest.raises(asyncpg.InvalidAuthorizationSpecificationError, match="no encryption"):
        await asyncpg.connect(
            host="127.0.0.1", port=servers.pg_port, user="postgres", database=DB, ssl=False
        )
    plain = redis_client(ArgusSettings(REDIS_URL=servers.redis_url.replace("rediss", "redis")))
    with pytest.raises(Exception):  # noqa: B017 - the TLS port closes on a plain client
        await plain.ping()
    await plain.aclose()


async def test_management_runs_over_tls(
    servers: TlsServers, database: None, tmp_path: Path
) -> None:
    app = create_app(_settings(servers, tmp_path))  # migrations run over TLS too
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            login = await client.post(
                "/api/v1/auth/login", data={"username": "admin", "password": "admin-password-123"}
            )
            assert login.status_code == 200, login.text
        state = app_state(app)
        async with state.engine.connect() as conn:
            used = await conn.scalar(
                text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            )
        assert used is True
        assert await state.redis.ping()


async def test_media_services_share_the_tls_client(servers: TlsServers, tmp_path: Path) -> None:
    settings = RecordingSettings(
        ARGUS_ENV="test",
        REDIS_URL=servers.redis_url,
        REDIS_TLS_CA_FILE=str(servers.ca),
        RECORDINGS_DIR=str(tmp_path),
    )  # type: ignore[call-arg]
    service = RecordingService(settings)
    try:
        assert await service.redis.ping()
        assert await camera_service_problems(service.redis, True) == []
    finally:
        await service.redis.aclose()


async def test_a_wrong_ca_stops_management_with_a_clear_error(
    servers: TlsServers, database: None, tmp_path: Path
) -> None:
    app = create_app(_settings(servers, tmp_path, DATABASE_URL=servers.db_url(servers.other_ca)))
    with pytest.raises(TlsError) as refused:
        async with app.router.lifespan_context(app):
            pass
    message = str(refused.value)
    assert message.startswith("PostgreSQL TLS to 127.0.0.1: server certificate not accepted")
    assert "certificate verify failed" in message and "sslrootcert" in message
    # The same for Redis (the database is right this time).
    app = create_app(
        _settings(servers, tmp_path, REDIS_TLS_CA_FILE=str(servers.other_ca)), run_migrations=False
    )
    with pytest.raises(
        TlsError,
        match=r"^redis TLS: server certificate not accepted: "
        r"certificate verify failed.*REDIS_TLS_CA_FILE",
    ):
        async with app.router.lifespan_context(app):
            pass


async def test_a_wrong_ca_is_named_by_the_readiness_checks(servers: TlsServers) -> None:
    settings = ArgusSettings(REDIS_URL=servers.redis_url, REDIS_TLS_CA_FILE=str(servers.other_ca))
    redis = redis_client(settings)
    try:
        problems = await camera_service_problems(redis, True)
        assert len(problems) == 1 and problems[0].startswith(
            "redis TLS: server certificate not accepted: certificate verify failed"
        ), problems
        with pytest.raises(TlsError):
            await check_redis_tls(redis, settings)
    finally:
        await redis.aclose()


async def test_require_encrypts_without_verifying(servers: TlsServers, database: None) -> None:
    engine = make_engine(servers.db_url(servers.other_ca, mode="require"))
    try:
        async with engine.connect() as conn:
            used = await conn.scalar(
                text("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            )
        assert used is True
    finally:
        await engine.dispose()


def test_bad_tls_settings_are_refused_at_start(servers: TlsServers) -> None:
    with pytest.raises(ValidationError, match="REDIS_URL is not rediss://"):
        ArgusSettings(REDIS_URL="redis://127.0.0.1:1/0", REDIS_TLS_CA_FILE=str(servers.ca))
    with pytest.raises(TlsConfigError, match="sslmode must be one of"):
        make_engine(servers.db_url(mode="prefer"))
    with pytest.raises(TlsConfigError, match="CA file"):
        make_engine(servers.db_url(Path("/nonexistent/ca.pem")))
    assert isinstance(client_context("verify-ca", str(servers.ca)), ssl.SSLContext)


def test_compose_tls_override_turns_tls_on_for_every_service(tmp_path: Path) -> None:
    """docker-compose.tls.yml (opt-in) merges with the Compose file: every service's Redis
    URL is rediss:// with the CA, management's database URL verify-full, the servers TLS."""
    exe = require("docker-compose")
    env_file = tmp_path / "ci.env"
    env_file.write_text(
        "SECRET_KEY=s\nINTERNAL_API_KEY=i\nPOSTGRES_PASSWORD=p\n"
        "GRAFANA_ADMIN_PASSWORD=g\nARGUS_JWT_PRIVATE_KEY=k\n"
        "ARGUS_JWT_PUBLIC_KEYS=k\n"
        + "".join(
            f"ARGUS_{s}_SERVICE_KEY=k\n" for s in ("RECORDING", "STREAMING", "ANALYSIS", "RTMP")
        )
        + "".join(f"REDIS_PASSWORD_{u.upper()}=pw-{u}\n" for u in USERS)
    )
    result = subprocess.run(
        [
            exe,
            "--project-directory",
            str(ROOT),
            "-f",
            str(ROOT / "docker-compose.yml"),
            "-f",
            str(ROOT / "docker-compose.tls.yml"),
            "--env-file",
            str(env_file),
            "config",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name, user in (
        ("management-service", "management"),
        ("recording-service", "recording"),
        ("streaming-service", "streaming"),
        ("ai-analysis-service", "analysis"),
    ):
        env = services[name]["environment"]
        assert env["REDIS_URL"] == f"rediss://{user}:pw-{user}@redis:6379/0", name
        assert env["REDIS_TLS_CA_FILE"] == "/run/argus-tls/ca.crt", name
        assert any("/run/argus-tls/ca.crt" in str(v) for v in services[name]["volumes"]), name
    db_url = services["management-service"]["environment"]["DATABASE_URL"]
    assert db_url.endswith("@db:5432/argus?sslmode=verify-full&sslrootcert=/run/argus-tls/ca.crt")
    assert "ssl=on" in services["db"]["command"]
    assert services["redis"]["command"][:4] == ["--port", "0", "--tls-port", "6379"]


def test_compose_redis_script_serves_acl_users_over_tls(
    servers: TlsServers, tmp_path: Path
) -> None:
    """Compose's Redis entrypoint with docker-compose.tls.yml's options, run natively: the
    service users log in over TLS and keep their key restrictions."""
    port = free_port()
    passwords = {name: f"{name}-tls-password-0123" for name in USERS}
    env = {
        "PATH": os.environ["PATH"],
        "ARGUS_REDIS_RUN_DIR": str(tmp_path / "run"),
        **{f"REDIS_PASSWORD_{n.upper()}": pw for n, pw in passwords.items()},
    }
    tls = servers.server
    proc = Proc.start(
        "compose-redis-tls",
        [
            "sh",
            str(ROOT / "redis-acl" / "start-redis.sh"),
            "--port",
            "0",
            "--tls-port",
            str(port),
            "--tls-cert-file",
            str(tls.cert),
            "--tls-key-file",
            str(tls.key),
            "--tls-ca-cert-file",
            str(tls.ca),
            "--tls-auth-clients",
            "no",
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        env=env,
        log=tmp_path / "redis.log",
    )
    try:
        proc.wait_ready(Ready(tcp=port, timeout_s=30))

        async def work() -> None:
            recording = redis_client(
                ArgusSettings(
                    REDIS_URL=f"rediss://recording:{passwords['recording']}@localhost:{port}/0",
                    REDIS_TLS_CA_FILE=str(servers.ca),
                )
            )
            streaming = redis_client(
                ArgusSettings(
                    REDIS_URL=f"rediss://streaming:{passwords['streaming']}@127.0.0.1:{port}/0",
                    REDIS_TLS_CA_FILE=str(servers.ca),
                )
            )
            try:
                assert await Leases(recording, "argus", "recording", "r1", 10).acquire("1")
                with pytest.raises(NoPermissionError):
                    await streaming.set("argus:recording:lease:1", "stolen")
            finally:
                await recording.aclose()
                await streaming.aclose()

        asyncio.run(work())
    finally:
        proc.stop()
