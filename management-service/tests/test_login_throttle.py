"""Login throttling by real client address (issue 16, finding 1).

Management sees console users through nginx: the address comes from X-Forwarded-For /
X-Real-IP, believed only from ``ARGUS_TRUSTED_PROXIES``. Throttling is per (account,
address) and per address, so an attacker cannot lock anybody else out; the audit log
records the real address. The last test runs the console's own nginx (its entrypoint and
template) with the attacker on 127.0.0.2 and the admin on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.proxies import client_address, parse_trusted
from argus_management.audit.models import AuditEntry
from argus_management.config import Settings
from argus_management.deps import app_state
from argus_testkit.ports import free_port

from conftest import ADMIN_PASSWORD

LOGIN = "/api/v1/auth/login"
PROXY = "127.0.0.1"  # the TCP peer of every in-process request below: "nginx"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def trusted(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The in-process app trusts 127.0.0.1 as its reverse proxy (what `make run` sets)."""
    settings = app_state(app).settings
    monkeypatch.setattr(settings, "trusted_proxies", PROXY)
    return settings


async def _login(
    client: httpx.AsyncClient, username: str, password: str, via: str | None = None
) -> httpx.Response:
    headers = {"X-Forwarded-For": via, "X-Real-IP": via} if via else {}
    return await client.post(
        LOGIN, data={"username": username, "password": password}, headers=headers
    )


async def _audit(maker: async_sessionmaker[AsyncSession]) -> list[AuditEntry]:
    async with maker() as s:
        return list((await s.scalars(select(AuditEntry).order_by(AuditEntry.id))).all())


async def test_spraying_names_from_one_address_does_not_block_another(
    client: httpx.AsyncClient, trusted: Settings
) -> None:
    attacker, admin = "203.0.113.7", "198.51.100.20"
    for _ in range(50):
        name = f"spray-{secrets.token_hex(4)}"
        resp = await _login(client, name, "wrong-password", via=attacker)
        assert resp.status_code == 401
    # The attacker's address is now blocked, even with the right password ...
    refused = await _login(client, "admin", ADMIN_PASSWORD, via=attacker)
    assert refused.status_code == 429 and "from this address" in refused.json()["detail"]
    # ... and the admin, elsewhere, is not.
    assert (await _login(client, "admin", ADMIN_PASSWORD, via=admin)).status_code == 200


async def test_wrong_passwords_for_admin_do_not_lock_the_admin_out(
    client: httpx.AsyncClient, trusted: Settings
) -> None:
    attacker, admin = "203.0.113.8", "198.51.100.21"
    for _ in range(5):
        assert (await _login(client, "admin", "wrong-password", via=attacker)).status_code == 401
    delayed = await _login(client, "admin", ADMIN_PASSWORD, via=attacker)
    assert delayed.status_code == 429 and "temporarily locked" in delayed.json()["detail"]
    # The owner from another address logs in, and keeps logging in, while the attacker waits.
    for _ in range(2):
        assert (await _login(client, "admin", ADMIN_PASSWORD, via=admin)).status_code == 200
    assert (await _login(client, "admin", ADMIN_PASSWORD, via=attacker)).status_code == 429


async def test_delays_double_for_a_persistent_pair(
    client: httpx.AsyncClient, app: FastAPI, trusted: Settings
) -> None:
    from argus_management.auth.lockout import LoginGuard

    guard = LoginGuard(app_state(app).bus, trusted)
    redis = app_state(app).bus.redis
    attacker = "203.0.113.9"
    seen = []
    for _ in range(8):
        await redis.delete(guard.lock_key("admin", attacker))  # stand-in for waiting
        resp = await _login(client, "admin", "wrong-password", via=attacker)
        assert resp.status_code == 401
        seen.append(await redis.ttl(guard.lock_key("admin", attacker)))
    # Free tries, then 30 s doubling, capped at MANAGEMENT_LOGIN_LOCKOUT_S (900 s).
    assert seen[:4] == [-2, -2, -2, -2]
    assert [round(t, -1) for t in seen[4:]] == [30, 60, 120, 240]
    await redis.set(guard.failures_key("admin", attacker), 40)
    await redis.delete(guard.lock_key("admin", attacker))
    await _login(client, "admin", "wrong-password", via=attacker)
    assert 890 <= await redis.ttl(guard.lock_key("admin", attacker)) <= 900


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch,
    maker: async_sessionmaker[AsyncSession],
) -> None:
    # The peer (127.0.0.1) is not a trusted proxy: a new forged address on every attempt
    # must not give the attacker a fresh (account, address) pair each time.
    monkeypatch.setattr(app_state(app).settings, "trusted_proxies", "10.255.0.1")
    for i in range(5):
        forged = f"192.0.2.{i + 1}"
        assert (await _login(client, "admin", "wrong-password", via=forged)).status_code == 401
    resp = await _login(client, "admin", ADMIN_PASSWORD, via="192.0.2.200")
    assert resp.status_code == 429
    rows = [r for r in await _audit(maker) if r.action == "auth.login_failed"]
    assert {r.ip for r in rows} == {"127.0.0.1"}


async def test_a_client_cannot_prepend_its_own_forwarded_for(
    client: httpx.AsyncClient, trusted: Settings
) -> None:
    # nginx appends the peer to what the client sent ($proxy_add_x_forwarded_for): the
    # right-most untrusted entry is the client, whatever it wrote to the left.
    real = "203.0.113.44"
    for i in range(5):
        chain = f"192.0.2.{i + 1}, {real}"
        resp = await client.post(
            LOGIN, data={"username": "admin", "password": "wrong-password"},
            headers={"X-Forwarded-For": chain},
        )
        assert resp.status_code == 401
    resp = await _login(client, "admin", ADMIN_PASSWORD, via=f"192.0.2.99, {real}")
    assert resp.status_code == 429


async def test_audit_rows_carry_the_forwarded_address(
    client: httpx.AsyncClient, trusted: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    assert (await _login(client, "admin", "wrong-password", via="203.0.113.50")).status_code == 401
    assert (await _login(client, "admin", ADMIN_PASSWORD, via="198.51.100.60")).status_code == 200
    rows = await _audit(maker)
    failed = [r for r in rows if r.action == "auth.login_failed"]
    ok = [r for r in rows if r.action == "auth.login"]
    assert [r.ip for r in failed] == ["203.0.113.50"]
    assert [r.ip for r in ok] == ["198.51.100.60"]


def test_client_address_rules() -> None:
    nets = parse_trusted("127.0.0.1, 10.0.0.0/8, ::1")
    assert client_address("127.0.0.1", "198.51.100.1", None, nets) == "198.51.100.1"
    assert client_address("198.51.100.9", "1.2.3.4", "1.2.3.4", nets) == "198.51.100.9"
    # Trusted hops on the right are skipped; the first untrusted one is the client.
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.2, 10.1.2.3", None, nets) == (
        "198.51.100.2"
    )
    assert client_address("::1", None, "2001:db8::5", nets) == "2001:db8::5"
    assert client_address("::ffff:127.0.0.1", "[2001:db8::7]:443", None, nets) == "2001:db8::7"
    assert client_address("127.0.0.1", "not-an-address", "203.0.113.3", nets) == "203.0.113.3"
    assert client_address("127.0.0.1", None, None, nets) == "127.0.0.1"
    assert client_address("127.0.0.1", "198.51.100.1", None, ()) == "127.0.0.1"
    with pytest.raises(ValueError):
        parse_trusted("10.0.0.0/8, nginx")


def test_a_bad_trusted_proxy_list_fails_at_start() -> None:
    with pytest.raises(ValueError, match="ARGUS_TRUSTED_PROXIES"):
        Settings(ARGUS_TRUSTED_PROXIES="10.0.0.0/33")


@pytest.fixture
async def console(live_server: str, tmp_path: Path) -> AsyncIterator[str]:
    """The console's nginx (its image entrypoint and template) in front of ``live_server``;
    the HTTPS address (a self-signed certificate the entrypoint makes)."""
    port, tls_port = free_port(), free_port()
    run_dir = tmp_path / "console"
    static = tmp_path / "dist"
    static.mkdir()
    (static / "index.html").write_text("<!doctype html><title>ARGUS</title>")
    env = {
        **os.environ,
        "ARGUS_TEMPLATE": str(ROOT / "web-frontend" / "nginx" / "argus.conf.template"),
        "ARGUS_LISTEN": f"127.0.0.1:{port}",
        "ARGUS_TLS_LISTEN": f"127.0.0.1:{tls_port}",
        "ARGUS_STATIC_ROOT": str(static),
        "ARGUS_MANAGEMENT_UPSTREAM": live_server,
        "ARGUS_STREAMING_UPSTREAM": f"127.0.0.1:{free_port()}",
        "ARGUS_RUNTIME_DIR": str(run_dir),
        "ARGUS_ACCESS_LOG": str(run_dir / "access.log"),
        "PATH": f"/usr/sbin:{os.environ.get('PATH', '/usr/bin:/bin')}",
    }
    proc = subprocess.Popen(
        ["/bin/sh", str(ROOT / "web-frontend" / "nginx" / "entrypoint.sh")], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )
    url = f"https://127.0.0.1:{tls_port}"
    try:
        async with httpx.AsyncClient(verify=False) as probe:  # noqa: S501 - self-signed
            for _ in range(200):  # at most ~10 s
                if proc.poll() is not None:
                    raise AssertionError(f"console nginx exited: {proc.stderr.read()!r}")  # type: ignore[union-attr]
                try:
                    if (await probe.get(f"{url}/nginx-healthz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
            else:
                raise AssertionError("console nginx did not become ready")
        yield url
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(5)


def _from(address: str, base_url: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=address, verify=False)
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def test_through_the_console_nginx(
    console: str, trusted: Settings, maker: async_sessionmaker[AsyncSession]
) -> None:
    # The live server shares the settings object: it trusts 127.0.0.1 (nginx) too.
    async with _from("127.0.0.2", console) as attacker, _from("127.0.0.1", console) as owner:
        for _ in range(5):
            resp = await _login(attacker, "admin", "wrong-password")
            assert resp.status_code == 401, resp.text
        # The attacker forges an address too: it is put left of the real one, and ignored.
        forged = await attacker.post(
            LOGIN, data={"username": "admin", "password": ADMIN_PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.77"},
        )
        assert forged.status_code == 429
        assert (await _login(owner, "admin", ADMIN_PASSWORD)).status_code == 200
    rows = await _audit(maker)
    assert {r.ip for r in rows if r.action == "auth.login_failed"} == {"127.0.0.2"}
    assert [r.ip for r in rows if r.action == "auth.login"] == ["127.0.0.1"]
