"""``make run``'s generated admin password and data files (issue 16 finding 11), as real
processes (scripts/run_stack.py with its private Redis and management):

- the password is shown on the first run only, and kept 0600 (for the demo registration);
- every file the stack writes under the data directory is this user's only (0600/0700);
- ``run_stack.py reset-admin`` sets a new password while the stack runs and ends the
  account's sessions.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from argus_testkit.ports import free_port
from argus_testkit.wait import wait_until

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.timeout(300)


class Stack:
    """run_stack.py with ``redis,management`` and no ARGUS_ADMIN_PASSWORD (generated)."""

    def __init__(self, data: Path, run: int) -> None:
        self.data = data
        self.mport, self.rport = free_port(), free_port()
        self.env = {k: v for k, v in os.environ.items()
                    if k not in ("REDIS_URL", "DATABASE_URL", "RECORDINGS_DIR",
                                 "INTERNAL_API_KEY", "SECRET_KEY", "ARGUS_ADMIN_PASSWORD")
                    and not k.startswith("ARGUS_JWT_")}
        self.env.update({"ARGUS_ENV": "test", "MANAGEMENT_PORT": str(self.mport),
                         "ARGUS_PRIVATE_REDIS_PORT": str(self.rport),
                         "MANAGEMENT_BCRYPT_ROUNDS": "4", "MANAGEMENT_LIVENESS_ENABLED": "false",
                         "LOG_LEVEL": "WARNING"})
        self.out_path = data.parent / f"supervisor-{run}.out"
        self.out = self.out_path.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "scripts" / "run_stack.py"), "--data-dir", str(data),
             "--services", "redis,management", "--no-demo"],
            env=self.env, cwd=ROOT, stdout=self.out, stderr=subprocess.STDOUT,
            start_new_session=True)

    def output(self) -> str:
        return self.out_path.read_text(errors="replace")

    def details(self) -> str:
        logs = "".join(f"\n--- {p.name}\n{p.read_text(errors='replace')[-1500:]}"
                       for p in sorted((self.data / "logs").glob("*.log")))
        return self.output()[-3000:] + logs

    def ready(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"supervisor exited early:\n{self.details()}")
        # The banner (printed once management is ready) ends with the status line.
        return "make status" in self.output()

    def login(self, password: str) -> int:
        return httpx.post(f"http://127.0.0.1:{self.mport}/api/v1/auth/login", timeout=10,
                          data={"username": "admin", "password": password}).status_code

    def stop(self) -> None:
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)
        self.out.close()


def _open_to_others(data: Path) -> list[str]:
    """Files and directories under ``data`` that anyone but the owner may use."""
    found = []
    for path in [data, *data.rglob("*")]:
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode) or stat.S_ISSOCK(mode):
            continue
        if mode & 0o077:
            found.append(f"{path.relative_to(data.parent)} {oct(mode & 0o777)}")
    return found


def test_password_shown_once_files_private_and_reset(tmp_path: Path) -> None:
    data = tmp_path / "data"
    first = Stack(data, 1)
    try:
        wait_until(first.ready, 120, "first run ready", 0.2, first.details)
        password = (data / ".admin_password").read_text().strip()[:16]
        assert f"admin / {password}" in first.output()
        assert first.login(password) == 200
        assert _open_to_others(data) == []
        logs = "".join(p.read_text(errors="replace") for p in (data / "logs").glob("*"))
        assert password not in logs
    finally:
        first.stop()

    second = Stack(data, 2)
    try:
        wait_until(second.ready, 120, "second run ready", 0.2, second.details)
        assert password not in second.output()  # shown once only
        assert "reset-admin" in second.output()
        assert second.login(password) == 200  # the same account, the same password
        reset = subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "run_stack.py"), "reset-admin",
             "--data-dir", str(data)],
            env=second.env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
        assert reset.returncode == 0, reset.stdout + reset.stderr
        new = (data / ".admin_password").read_text().strip()
        assert new != password and f"admin / {new}" in reset.stdout
        assert (data / ".admin_password").stat().st_mode & 0o777 == 0o600
        assert second.login(new) == 200 and second.login(password) == 401
        assert _open_to_others(data) == []
    finally:
        second.stop()
