"""Seed: the main design, "Compose services and ports" and "database": the ports of the
Compose file (checked statically, as tests/test_compose.py does: no Docker engine here), the
native stack's defaults, and the tables ``users``, ``roles``, ``user_roles`` and
``analysis_results`` of the running management's database.

Where ARGUS now publishes a port differently on purpose (issue 16, "Trust": the databases
off the network, the APIs on this host only, the console over HTTPS), the test asserts the
ARGUS form; docs/contracts.md ("Seed documents") gives both and why.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml
from seedstack import SeedStack

from argus_testkit.services import ROOT, StackPorts
from argus_testkit.tools import require

# The main design's Compose ports, host → container.
SEED_PORTS = {
    "web-frontend": ("3000", "3000"), "streaming-service": ("8080", "8080"),
    "management-service": ("8001", "8000"), "rtmp-server": ("1935", "1935"),
    "db": ("5433", "5432"), "redis": ("6379", "6379"), "prometheus": ("9090", "9090"),
    "grafana": ("3001", "3000"),
}
# ARGUS's TCP ports per service: (host address, host port, container port); "" = every
# address. db and redis: only with docker-compose.ports.yml (OPT_IN).
ARGUS_PORTS = {
    "web-frontend": {("", "3000", "3000"), ("", "3443", "3443")},
    "streaming-service": {("127.0.0.1", "8080", "8080")},
    "management-service": {("127.0.0.1", "8001", "8000")},
    "rtmp-server": {("", "1935", "1935")},
    "db": set(), "redis": set(),
    "prometheus": {("127.0.0.1", "9090", "9090")},
    "grafana": {("", "3001", "3000")},
}
OPT_IN = {"db": {("127.0.0.1", "5433", "5432")}, "redis": {("127.0.0.1", "6379", "6379")}}
ENV = "".join(f"{k}=contract-{k.lower()}\n" for k in (
    "SECRET_KEY", "INTERNAL_API_KEY", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD",
    "ARGUS_JWT_PRIVATE_KEY", "ARGUS_JWT_PUBLIC_KEYS", "ARGUS_RECORDING_SERVICE_KEY",
    "ARGUS_STREAMING_SERVICE_KEY", "ARGUS_ANALYSIS_SERVICE_KEY", "ARGUS_RTMP_SERVICE_KEY",
    "REDIS_PASSWORD_MANAGEMENT", "REDIS_PASSWORD_RECORDING", "REDIS_PASSWORD_STREAMING",
    "REDIS_PASSWORD_ANALYSIS"))


def _services(tmp_path: Path, *files: str) -> dict[str, Any]:
    """The services of ``docker-compose config`` over ``files``."""
    env = tmp_path / "contract.env"
    env.write_text(ENV)
    args = [a for f in files for a in ("-f", str(ROOT / f))]
    result = subprocess.run(
        [require("docker-compose"), "--project-directory", str(ROOT), *args, "--env-file",
         str(env), "config"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    services: dict[str, Any] = yaml.safe_load(result.stdout)["services"]
    return services


def _tcp(entry: object) -> tuple[str, str, str] | None:
    """(host address, published, target) of a TCP port as docker-compose 1.29 writes it,
    None for UDP."""
    if isinstance(entry, dict):
        if entry.get("protocol", "tcp") != "tcp":
            return None
        return (str(entry.get("host_ip", "")), str(entry["published"]),
                str(entry["target"]))
    spec, _, protocol = str(entry).partition("/")
    if protocol not in ("", "tcp"):
        return None
    parts = spec.split(":")
    return ("", *parts) if len(parts) == 2 else tuple(parts)  # type: ignore[return-value]


def _published(services: dict[str, Any]) -> dict[str, set[tuple[str, str, str]]]:
    return {name: {p for p in map(_tcp, services[name].get("ports", [])) if p}
            for name in SEED_PORTS}


def test_compose_ports(tmp_path: Path) -> None:
    """Main design, "Compose services and ports": web-frontend 3000, streaming 8080,
    management 8001→8000, rtmp 1935, db 5433→5432, redis 6379, prometheus 9090, grafana
    3001→3000. ARGUS keeps every number; it publishes management, streaming and Prometheus
    on 127.0.0.1 only, adds the console's HTTPS port 3443 (3000 redirects to it), and
    publishes PostgreSQL and Redis only with docker-compose.ports.yml."""
    published = _published(_services(tmp_path, "docker-compose.yml"))
    assert published == ARGUS_PORTS
    for name, (host, container) in SEED_PORTS.items():
        numbers = {(h, c) for _, h, c in ARGUS_PORTS[name] | OPT_IN.get(name, set())}
        assert (host, container) in numbers, (name, "the seed's port numbers are kept")
    opt_in = _published(_services(tmp_path, "docker-compose.yml", "docker-compose.ports.yml"))
    assert {name: opt_in[name] for name in OPT_IN} == OPT_IN


def test_native_stack_ports() -> None:
    """Main design, "ports tools rely on": the native run (``make run``) listens where the
    Compose file publishes: management 8001, streaming 8080, the console 3000, RTMP 1935."""
    ports = StackPorts()
    assert (ports.management, ports.streaming, ports.console, ports.rtmp) == (
        8001, 8080, 3000, 1935)


def test_health_and_openapi_of_running_services(streaming: SeedStack) -> None:
    """Main design, "every service": ``/healthz``, ``/readyz``, ``/metrics``; management's
    REST API under ``/api/v1`` with its OpenAPI at ``/api/v1/openapi.json``."""
    for base in (streaming.management, streaming.streaming):
        for path in ("/healthz", "/readyz", "/metrics"):
            assert httpx.get(f"{base}{path}", timeout=10).status_code == 200, (base, path)
    spec = httpx.get(f"{streaming.management}/api/v1/openapi.json", timeout=10).json()
    assert "/api/v1/auth/login" in spec["paths"] and "/api/v1/cameras" in spec["paths"]


def _columns(stack: SeedStack, table: str) -> dict[str, str]:
    rows = stack.db.fetch(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name = $1", table)
    return {r["column_name"]: r["data_type"] for r in rows}


def _indexed(stack: SeedStack, table: str) -> set[str]:
    """Columns that lead an index of ``table``."""
    rows = stack.db.fetch(
        "SELECT a.attname FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = i.indkey[0] "
        "WHERE t.relname = $1", table)
    return {r["attname"] for r in rows}


def test_users_roles_and_user_roles_tables(management: SeedStack) -> None:
    """Main design, "database": ``users`` (username, email, bcrypt password, created_at),
    ``roles``, ``user_roles`` joining them. ARGUS names the password column
    ``password_hash``; the first admin is a row of each."""
    users = _columns(management, "users")
    assert {"id", "username", "email", "password_hash", "created_at"} <= set(users)
    assert users["created_at"].startswith("timestamp")
    assert {"id", "name"} <= set(_columns(management, "roles"))
    assert set(_columns(management, "user_roles")) == {"user_id", "role_id"}
    rows = management.db.fetch(
        "SELECT u.username, u.password_hash, u.created_at, r.name AS role FROM users u "
        "JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id "
        "WHERE u.username = 'admin'")
    assert [r["role"] for r in rows] == ["admin"]
    assert rows[0]["password_hash"].startswith("$2b$") and rows[0]["created_at"]
    roles = {r["name"] for r in management.db.fetch("SELECT name FROM roles")}
    assert {"admin", "operator", "viewer"} <= roles


def test_analysis_results_table(management: SeedStack) -> None:
    """Main design, "database": ``analysis_results`` (``session_id``, ``timestamp``,
    ``event``, ``payload`` JSONB) with indexes on ``session_id`` and ``timestamp`` (its rows
    are checked in test_seed_realtime_analysis.py)."""
    columns = _columns(management, "analysis_results")
    assert {"session_id", "timestamp", "event", "payload"} <= set(columns)
    assert columns["payload"] == "jsonb"
    assert columns["timestamp"] == "timestamp with time zone"
    assert {"session_id", "timestamp"} <= _indexed(management, "analysis_results")
