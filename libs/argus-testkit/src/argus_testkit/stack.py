"""Stack fixtures for tests and benchmarks: scratch PostgreSQL databases, Redis namespaces,
secrets, and builders that start entries of the service table on free ports.

Typical use (a context manager per resource, processes in a :class:`Launcher`)::

    with scratch_database() as db, redis_namespace() as ns, launched(tmp) as launcher:
        cfg = test_config(tmp)
        env = base_env(SECRETS, ns)
        mgmt = start(launcher, cfg, "management", env, DATABASE_URL=db.url)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from redis.asyncio import ConnectionPool, Redis

from argus_common.bus import RedisBus
from argus_common.redis_conn import cancel_safe
from argus_testkit import redis_acl
from argus_testkit.credentials import service_secrets
from argus_testkit.process import Launcher, Proc, Ready
from argus_testkit.provision import DATABASE_ENV, REDIS_ENV, server_dsn
from argus_testkit.services import StackConfig, StackPorts, service_table

T = TypeVar("T")

# The session's servers: under pytest, argus_testkit.pytest_plugin sets both variables
# before any test module is imported (given servers, or private ones it started). The
# defaults, the machine's usual ports, are only for benchmarks run by hand.
PG_DSN = server_dsn(os.environ.get(DATABASE_ENV) or "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get(REDIS_ENV) or "redis://127.0.0.1:6379/0"
CAMSIM_READY = "argus-camsim ready "


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` to completion from sync code, also while a loop runs in this thread
    (then in a thread of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coro).result(timeout=120)


class Database:
    """A scratch PostgreSQL database (``create``, then ``drop``)."""

    def __init__(self, prefix: str = "argus_test") -> None:
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.url = f"postgresql+asyncpg://{PG_DSN.split('://', 1)[1]}/{self.name}"
        self.dsn = f"{PG_DSN}/{self.name}"

    async def _admin(self, sql: str) -> None:
        conn = await asyncpg.connect(f"{PG_DSN}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    def create(self, migrate: bool = False) -> Database:
        """Create it; ``migrate`` upgrades it to the head schema (management's Alembic)."""
        run_sync(self._admin(f'CREATE DATABASE "{self.name}"'))
        if migrate:
            import argus_management.migrate as alembic

            alembic.upgrade(self.url)
        return self

    def drop(self) -> None:
        """Drop it, closing whatever still holds a connection."""
        run_sync(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))

    def fetch(self, query: str, *args: Any) -> list[dict[str, Any]]:
        """The rows of ``query`` as dicts."""
        async def fetch() -> list[dict[str, Any]]:
            conn = await asyncpg.connect(self.dsn)
            try:
                return [dict(r) for r in await conn.fetch(query, *args)]
            finally:
                await conn.close()

        return run_sync(fetch())

    def execute(self, query: str, *args: Any) -> None:
        """Run one statement."""
        async def execute() -> None:
            conn = await asyncpg.connect(self.dsn)
            try:
                await conn.execute(query, *args)
            finally:
                await conn.close()

        run_sync(execute())


@contextlib.contextmanager
def scratch_database(prefix: str = "argus_test", migrate: bool = False) -> Iterator[Database]:
    """A new database for the block, dropped afterwards."""
    db = Database(prefix).create(migrate)
    try:
        yield db
    finally:
        with contextlib.suppress(Exception):
            db.drop()


def drop_namespace(namespace: str, redis_url: str = REDIS_URL) -> None:
    """Delete every Redis key under ``namespace:``."""
    from redis import Redis

    client = Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match=f"{namespace}:*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@contextlib.contextmanager
def redis_namespace(prefix: str = "argus-test", redis_url: str = REDIS_URL) -> Iterator[str]:
    """A fresh ``ARGUS_REDIS_NAMESPACE``; its keys are deleted afterwards."""
    namespace = f"{prefix}-{uuid.uuid4().hex[:8]}"
    try:
        yield namespace
    finally:
        with contextlib.suppress(Exception):
            drop_namespace(namespace, redis_url)


@contextlib.asynccontextmanager
async def redis_bus(prefix: str = "argus-test") -> AsyncIterator[RedisBus]:
    """A bus on the session's Redis in a namespace of its own (``redis_namespace``: its
    keys are deleted afterwards)."""
    with redis_namespace(prefix) as namespace:
        redis = Redis.from_pool(cancel_safe(ConnectionPool.from_url(REDIS_URL)))
        try:
            yield RedisBus(redis, namespace)
        finally:
            await redis.aclose()


@dataclass(frozen=True)
class Secrets:
    """The shared secrets of a test stack (never real ones)."""

    secret_key: str = "test-secret-key-0123456789abcdef"  # noqa: S105 - test value
    internal_key: str = "test-internal-key-0123456789abcdef"
    admin_username: str = "admin"
    admin_password: str = "admin-password-123"  # noqa: S105 - test value


def base_env(secrets: Secrets, namespace: str, redis_url: str = REDIS_URL,
             log_level: str = "WARNING", **extra: str) -> dict[str, str]:
    """The environment every service of a test stack shares."""
    return {
        **os.environ, "ARGUS_ENV": "test", "SECRET_KEY": secrets.secret_key,
        "INTERNAL_API_KEY": secrets.internal_key, "REDIS_URL": redis_url,
        "ARGUS_REDIS_NAMESPACE": namespace, "LOG_LEVEL": log_level,
        "ARGUS_ADMIN_USERNAME": secrets.admin_username,
        "ARGUS_ADMIN_PASSWORD": secrets.admin_password, **extra,
    }


def test_config(data_dir: Path, **fields: Any) -> StackConfig:
    """A :class:`StackConfig` on free ports with ``data_dir`` (no discovery, 320x180, RTMP
    on 127.0.0.1 only)."""
    defaults: dict[str, Any] = {"ports": StackPorts.free(), "resolution": "320x180",
                                "camsim_args": (), "rtmp_listen": "127.0.0.1"}
    return StackConfig(data_dir=data_dir, **{**defaults, **fields})


# Settings that make management quick in tests (cheap bcrypt, one worker).
MANAGEMENT_TEST_ENV = {"MANAGEMENT_BCRYPT_ROUNDS": "4", "MANAGEMENT_WORKERS": "1"}


def start(launcher: Launcher, cfg: StackConfig, name: str, env: Mapping[str, str],
          *, ready: Ready | None = None, argv_extra: tuple[str, ...] = (),
          proc_name: str | None = None, **settings: str) -> Proc:
    """Start service ``name`` of the table for ``cfg`` with ``env`` and ``settings`` on top,
    and wait until it is ready (its table check, or ``ready``)."""
    spec = service_table(cfg)[name]
    if ready is not None:
        spec = replace(spec, ready=ready)
    for d in spec.dirs:
        Path(d).mkdir(parents=True, exist_ok=True)
        Path(d).chmod(0o755)
    # Each service's own credential (test stacks sign tokens with the development key unless
    # a test passes ARGUS_JWT_* itself; make run uses generated key files).
    secrets = service_secrets(name, {**env, **settings}, cfg.data_dir, jwt_keys=False)
    merged = redis_acl.as_service(name, {**env, **spec.env, **secrets, **settings}, REDIS_URL)
    return launcher.start(proc_name or name, (*spec.argv, *argv_extra), merged, spec.ready)


@dataclass
class Simulator:
    """A running camera simulator: its process and the ports from its ready line."""

    proc: Proc
    rtsp_port: int
    control_port: int
    onvif_ports: dict[str, int]

    def url(self, n: int = 1, stream: str = "main", user: str | None = None,
            password: str | None = None) -> str:
        """RTSP URL of ``cam<n>/<stream>``, with credentials when given."""
        cred = f"{user}:{password}@" if user is not None else ""
        return f"rtsp://{cred}127.0.0.1:{self.rtsp_port}/cam{n}/{stream}"

    @property
    def control(self) -> str:
        return f"http://127.0.0.1:{self.control_port}"


def start_simulator(launcher: Launcher, cfg: StackConfig, *extra: str,
                    timeout_s: float = 90, name: str = "camera-simulator") -> Simulator:
    """The table's simulator with ``extra`` arguments (later flags win: ``--auth none``,
    ``--no-onvif``), awaited through its ready line, which gives the ports it bound."""
    spec = service_table(cfg)["camera-simulator"]
    proc = launcher.start(name, [*spec.argv, *extra], {**os.environ, **spec.env},
                          Ready(line=CAMSIM_READY, timeout_s=timeout_s))
    info = json.loads(proc.ready_line or "{}")
    return Simulator(proc, int(info["rtsp_port"]), int(info["control_port"]),
                     dict(info.get("onvif_ports") or {}))
