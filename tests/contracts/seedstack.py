"""The one ARGUS stack the seed contract tests share (``tests/contracts``).

Real processes from the service table (:mod:`argus_testkit.stack`) on free 127.0.0.1 ports,
started when a test first needs them and stopped by PID when the package's tests end:
management (scratch PostgreSQL database, signup on), the camera simulator (Digest auth, one
camera), streaming and the analyser. Every service runs with its default settings except
where a line below says why, so that the values the seeds fix (TTLs, session limits, ping
intervals) are the ones a deployment gets.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from argus_testkit import stack as kit
from argus_testkit.factories import bearer, create_user, login
from argus_testkit.process import Launcher
from argus_testkit.services import ROOT, StackConfig

ADMIN_PASSWORD = "seed-admin-password-1"
USER_PASSWORD = "seed-user-password-1"
SECRETS = kit.Secrets("seed-contract-secret-0123456789abcdef",
                      "seed-contract-internal-0123456789abcdef", "admin", ADMIN_PASSWORD)


@dataclass
class SeedStack:
    """The processes started so far, and what the tests need to reach them."""

    cfg: StackConfig
    launcher: Launcher
    db: kit.Database
    namespace: str
    env: dict[str, str]
    started: set[str] = field(default_factory=set)
    camera_id: int = 0
    users: dict[str, tuple[int, str]] = field(default_factory=dict)  # name: (id, token)

    @property
    def management(self) -> str:
        return self.cfg.management_url

    @property
    def streaming(self) -> str:
        return self.cfg.streaming_url

    def admin_token(self) -> str:
        """A fresh access token of the first admin."""
        return login(self.management, "admin", ADMIN_PASSWORD)

    def user(self, name: str, roles: list[str], cameras: list[int]) -> tuple[int, str]:
        """A user with ``roles`` granted ``cameras`` (made once per name): id and token."""
        if name not in self.users:
            user_id = create_user(self.management, self.admin_token(), name, USER_PASSWORD,
                                  roles, cameras)
            self.users[name] = (user_id, login(self.management, name, USER_PASSWORD))
        return self.users[name]

    def start_management(self) -> None:
        if "management" in self.started:
            return
        kit.start(self.launcher, self.cfg, "management", self.env, DATABASE_URL=self.db.url,
                  **kit.MANAGEMENT_TEST_ENV,
                  # The auth seed's signup: off by default in ARGUS (docs/contracts.md).
                  ARGUS_ALLOW_SIGNUP="true",
                  # Nothing here is about liveness: no probes competing for the 2 cores.
                  MANAGEMENT_LIVENESS_ENABLED="false")
        self.started.add("management")

    def start_camera(self) -> int:
        """The simulator (one camera) registered in management, analysis on."""
        if self.camera_id:
            return self.camera_id
        self.start_management()
        sim = kit.start_simulator(self.launcher, self.cfg, "--cameras", "1", "--no-onvif",
                                  "--sub-resolution", "160x90", "--fps", "15", "--gop", "1",
                                  "--linger", "2", "--log-level", "WARNING")
        resp = httpx.post(f"{self.management}/api/v1/cameras", timeout=15,
                          headers=bearer(self.admin_token()), json={
                              "name": "seed camera", "stream_url": sim.url(1, "main"),
                              "sub_stream_url": sim.url(1, "sub"),
                              "username": self.cfg.camera_user,
                              "password": self.cfg.camera_password,
                              "recording_mode": "off", "analysis": {"enabled": True}})
        assert resp.status_code == 201, resp.text
        self.camera_id = int(resp.json()["id"])
        return self.camera_id

    def start_streaming(self) -> None:
        if "streaming" in self.started:
            return
        self.start_camera()
        kit.start(self.launcher, self.cfg, "streaming", self.env,
                  STREAMING_ICE_ADDRESSES="127.0.0.1")
        self.started.add("streaming")

    def start_analysis(self) -> None:
        if "analysis" in self.started:
            return
        self.start_camera()
        self.cfg.recordings.mkdir(parents=True, exist_ok=True)
        kit.start(self.launcher, self.cfg, "analysis", self.env)
        self.started.add("analysis")


@contextlib.contextmanager
def seed_stack() -> Iterator[SeedStack]:
    """A :class:`SeedStack` with nothing started yet; everything it started is stopped
    and its database, Redis keys and files removed afterwards."""
    run_dir = Path(tempfile.mkdtemp(prefix="argus-contracts-"))
    cfg = kit.test_config(run_dir)
    with kit.scratch_database("argus_contracts") as db, \
            kit.redis_namespace("argus-contracts") as namespace, \
            Launcher(run_dir, ROOT) as launcher:
        yield SeedStack(cfg, launcher, db, namespace, kit.base_env(SECRETS, namespace))
    shutil.rmtree(run_dir, ignore_errors=True)
