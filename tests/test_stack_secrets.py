"""``make run``'s secrets (issue 16, findings 4 and 5), as real processes: the supervisor
(scripts/run_stack.py) with its private Redis and management.

- Redis starts with the generated ACL file: no default user, each service its own user
  that cannot run FLUSHALL/CONFIG/KEYS/ACL or touch keys outside the stack's namespace, and
  management runs as its user;
- the token signing key is generated in <data>/keys (0600) and management signs with it:
  a login's access token carries its kid and verifies with the public key file alone;
- each service's environment holds only its own secrets (from the supervisor's status).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from redis.exceptions import AuthenticationError, NoPermissionError, ResponseError

from argus_common.jwt import JwtCodec
from argus_common.keys import KeySource, verifier_keys
from argus_testkit.credentials import service_secrets
from argus_testkit.ports import free_port
from argus_testkit.redis_acl import USERS, user_url
from argus_testkit.wait import wait_until

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(180)


class Stack:
    """run_stack.py with the services ``redis,management`` in a session of its own."""

    def __init__(self, data: Path) -> None:
        self.data = data
        self.mport, self.rport = free_port(), free_port()
        env = {k: v for k, v in os.environ.items()
               if k not in ("REDIS_URL", "DATABASE_URL", "RECORDINGS_DIR", "INTERNAL_API_KEY",
                            "SECRET_KEY") and not k.startswith("ARGUS_JWT_")}
        env.update({"ARGUS_ENV": "test", "MANAGEMENT_PORT": str(self.mport),
                    "ARGUS_PRIVATE_REDIS_PORT": str(self.rport), "MANAGEMENT_BCRYPT_ROUNDS": "4",
                    "MANAGEMENT_LIVENESS_ENABLED": "false", "LOG_LEVEL": "WARNING",
                    "ARGUS_ADMIN_PASSWORD": "stack-admin-pw-1"})
        data.mkdir(parents=True)
        self.out = (data / "supervisor.out").open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run_stack.py"), "--data-dir", str(data),
             "--services", "redis,management", "--no-demo"],
            env=env, cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT,
            start_new_session=True)

    def details(self) -> str:
        logs = "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                       for p in sorted((self.data / "logs").glob("*.log")))
        return (self.data / "supervisor.out").read_text(errors="replace")[-3000:] + logs

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"supervisor exited early:\n{self.details()}")
        try:
            return httpx.get(f"http://127.0.0.1:{self.mport}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.out.close()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    # make run installs redis-server; a machine without it cannot run this (fails, no skip).
    assert shutil.which("redis-server"), "redis-server is needed (apt-get install redis-server)"
    s = Stack(tmp_path / "data")
    try:
        wait_until(s.ready, 120, "management ready behind the ACL'd Redis", 0.2, s.details)
        yield s
    finally:
        s.stop()


def test_private_redis_has_one_user_per_service_and_no_default(stack: Stack) -> None:
    acl = (stack.data / "redis" / "users.acl").read_text()
    passwords = json.loads((stack.data / "redis" / "passwords.json").read_text())
    assert (stack.data / "redis" / "passwords.json").stat().st_mode & 0o077 == 0
    assert not any(pw in acl for pw in passwords.values())  # only hashes in the ACL file
    with pytest.raises((AuthenticationError, ResponseError)):
        redis.Redis(host="127.0.0.1", port=stack.rport).ping()  # the default user is off
    # A key each user may write (tests/test_redis_acl.py checks the rules key by key).
    own = {"management": "argus:acl-probe", "recording": "argus:recorder:acl-probe",
           "analysis": "argus:analysis:lease:acl-probe"}
    for name in USERS:
        client = redis.Redis.from_url(user_url("127.0.0.1", stack.rport, name, passwords[name]))
        try:
            if name in own:
                assert client.set(own[name], name) and client.get(own[name])
            else:  # streaming only appends to the audit stream
                assert client.xadd("argus:audit", {"data": "{}"})
            for command in (("FLUSHALL",), ("FLUSHDB",), ("CONFIG", "GET", "*"), ("KEYS", "*"),
                            ("ACL", "LIST"), ("SAVE",), ("SHUTDOWN",)):
                with pytest.raises(NoPermissionError):
                    client.execute_command(*command)
            with pytest.raises(NoPermissionError):
                client.set("other-namespace:x", "1")
        finally:
            client.close()
    with pytest.raises(AuthenticationError):
        redis.Redis.from_url(user_url("127.0.0.1", stack.rport, "recording", "wrong")).ping()


def test_management_signs_with_the_generated_key(stack: Stack) -> None:
    keys = stack.data / "keys"
    assert (keys / "jwt-signing.pem").stat().st_mode & 0o077 == 0
    resp = httpx.post(f"http://127.0.0.1:{stack.mport}/api/v1/auth/login", timeout=10,
                      data={"username": "admin", "password": "stack-admin-pw-1"})
    assert resp.status_code == 200, resp.text
    public = verifier_keys("production", KeySource(path=str(keys / "jwt-public.pem")))
    claims = JwtCodec(public, "argus", "argus-api").decode(resp.json()["access_token"], "access")
    assert claims["typ"] == "access"


def test_each_service_gets_only_its_own_secrets(tmp_path: Path) -> None:
    env = {"INTERNAL_API_KEY": "m" * 40, "SECRET_KEY": "s" * 40}
    management = service_secrets("management", env, tmp_path)
    assert set(management) == {"ARGUS_JWT_PRIVATE_KEY_FILE", "ARGUS_JWT_PUBLIC_KEYS_FILE"}
    for name in ("recording", "analysis", "streaming", "rtmp"):
        own = service_secrets(name, env, tmp_path)
        assert own["ARGUS_SERVICE_KEY"].startswith(f"{name}.")
        assert own["INTERNAL_API_KEY"] == "" and own["SECRET_KEY"] == ""  # blanked
        assert "ARGUS_JWT_PRIVATE_KEY_FILE" not in own
    assert "ARGUS_JWT_PUBLIC_KEYS_FILE" in service_secrets("streaming", env, tmp_path)


def test_compose_redis_script_makes_the_same_users(tmp_path: Path) -> None:
    """redis-acl/start-redis.sh (Compose's Redis entrypoint), run natively: users from the
    environment, no default user, the same refusals; a missing password stops it."""
    assert shutil.which("redis-server"), "redis-server is needed (apt-get install redis-server)"
    port = free_port()
    passwords = {name: f"{name}-compose-password-0123" for name in USERS}
    env = {"PATH": os.environ["PATH"], "ARGUS_REDIS_RUN_DIR": str(tmp_path / "run"),
           **{f"REDIS_PASSWORD_{n.upper()}": pw for n, pw in passwords.items()}}
    script = str(ROOT / "redis-acl" / "start-redis.sh")
    missing = subprocess.run(["sh", script], env={**env, "REDIS_PASSWORD_ANALYSIS": ""},
                             capture_output=True, text=True, timeout=30)
    assert missing.returncode == 2 and "REDIS_PASSWORD_ANALYSIS" in missing.stderr
    proc = subprocess.Popen(["sh", script, "--port", str(port), "--bind", "127.0.0.1",
                             "--save", "", "--appendonly", "no"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        client = redis.Redis.from_url(user_url("127.0.0.1", port, "analysis",
                                               passwords["analysis"]))

        def up() -> bool:
            try:
                return bool(client.ping())
            except redis.ConnectionError:
                return False

        wait_until(up, 15, "redis up")
        acl = (tmp_path / "run" / "users.acl").read_text()
        assert acl.count("\nuser ") == len(USERS)
        assert not any(pw in acl for pw in passwords.values())
        assert client.set("argus:analysis:lease:x", "1")
        with pytest.raises(NoPermissionError):
            client.flushall()
        with pytest.raises(NoPermissionError):
            client.set("elsewhere", "1")
        client.close()
        with pytest.raises((AuthenticationError, ResponseError)):
            redis.Redis(host="127.0.0.1", port=port).ping()
    finally:
        proc.terminate()
        proc.wait(10)
