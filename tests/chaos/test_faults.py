"""The long faults (``@pytest.mark.chaos``, run by ``make chaos``): kill -9 and restart of
each service in turn, Redis away for 60 s and restarted, PostgreSQL restarted and away for
60 s (a cluster of the test's own), management away for 5 minutes, a camera's network
dropped and restored. The clock step, short, is in test_clock_step.py (`make test`)."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from harness import ChaosStack, fetch
from test_outages import redis_outage

from argus_testkit import stack as kit
from argus_testkit.process import Proc, Ready
from argus_testkit.provision import PG_READY, Servers

pytestmark = [pytest.mark.chaos, pytest.mark.timeout(900)]

LONG_REDIS_S = float(os.environ.get("ARGUS_CHAOS_LONG_REDIS_S", "60"))
LONG_MANAGEMENT_S = float(os.environ.get("ARGUS_CHAOS_LONG_MANAGEMENT_S", "300"))
POSTGRES_OUTAGE_S = float(os.environ.get("ARGUS_CHAOS_POSTGRES_OUTAGE_S", "60"))
CAMERA_OFFLINE_S = 10.0


def test_redis_outage_60s(chaos_stack: ChaosStack) -> None:
    redis_outage(chaos_stack, LONG_REDIS_S, "term")


def test_redis_kill_9_and_restart(chaos_stack: ChaosStack) -> None:
    redis_outage(chaos_stack, 1.0, "kill")


USER_SEES = {
    "management": "the console and API are down for the restart; recording continues",
    "camera-simulator": "the camera's video stops until it is back (stream.down)",
    "recording": "video of the restart is missing (the fragment in flight and the restart)",
}


@pytest.mark.parametrize("service", ["management", "camera-simulator", "recording"])
def test_kill_9_and_restart(chaos_stack: ChaosStack, service: str) -> None:
    s = chaos_stack.up()
    since = datetime.now(UTC)
    t0 = time.time()
    s.kill(service)
    s.restart(service)
    t1 = time.time()
    if service == "management":
        s.login()
    result = s.measure(f"kill -9 {service}, restarted at once", USER_SEES[service], t0, t1,
                       since, note=f"restart took {t1 - t0:.1f} s")
    assert result.rows_missing == 0, result
    if service == "management":
        assert result.video_lost_s == 0, result
    elif service == "recording":
        # The GOP being gathered, the restart, the reconnect: nothing else.
        assert result.video_lost_s <= (t1 - t0) + 4.0, result
    assert not s.recorder_errors()


def test_management_down_5_minutes(chaos_stack: ChaosStack) -> None:
    s = chaos_stack.up()
    since = datetime.now(UTC)
    t0 = time.time()
    s.term("management")
    time.sleep(LONG_MANAGEMENT_S)  # the outage itself
    assert s.status()["recording"] == [s.cam]
    s.restart("management")
    t1 = time.time()
    result = s.measure(f"management down {LONG_MANAGEMENT_S:g} s",
                       "the console is unavailable; recording continues; the index catches up",
                       t0, t1, since)
    assert result.video_lost_s == 0 and result.rows_missing == 0, result


def test_camera_network_dropped_and_restored(chaos_stack: ChaosStack) -> None:
    s = chaos_stack.up()
    since = datetime.now(UTC)
    t0 = time.time()
    resp = httpx.post(f"{s.sim.control}/faults/cam1",
                      json={"offline_s": CAMERA_OFFLINE_S, "drop": True}, timeout=10)
    assert resp.status_code == 200, resp.text
    time.sleep(CAMERA_OFFLINE_S)  # the camera is away this long
    t1 = time.time()
    result = s.measure(f"camera network dropped {CAMERA_OFFLINE_S:g} s",
                       "the camera's video stops (stream.down, camera.offline), then resumes",
                       t0, t1, since)
    assert result.rows_missing == 0, result
    assert result.video_lost_s <= CAMERA_OFFLINE_S + 4.0, result
    assert result.resume_s <= 5.0, result


# -- PostgreSQL: a cluster of the test's own ---------------------------------------------------
@pytest.fixture
def pg_stack(tmp_path: Path, private_postgres: Servers) -> Iterator[tuple[ChaosStack, Servers]]:
    url = private_postgres.pg_dsn.replace("postgresql://", "postgresql+asyncpg://") + "/argus"
    fetch(private_postgres.pg_dsn + "/postgres", "CREATE DATABASE argus")
    from argus_management import migrate

    migrate.upgrade(url)
    stack = ChaosStack(tmp_path / "stack", url, None)
    try:
        yield stack, private_postgres
    finally:
        stack.stop()


def _restart_postgres(servers: Servers, log: Path) -> None:
    old = next(p for p in servers.procs if p.name == "postgresql")
    argv = [str(a) for a in old.proc.args]
    proc = Proc.start("postgresql", argv, env={"PATH": "/usr/bin:/bin", "LC_ALL": "C",
                                               "TZ": "UTC"}, log=log)
    servers.procs[servers.procs.index(old)] = proc
    proc.wait_ready(Ready(line=PG_READY, timeout_s=60))


def _stop_postgres(servers: Servers, kill: bool) -> None:
    import signal

    proc = next(p for p in servers.procs if p.name == "postgresql")
    proc.send(signal.SIGKILL if kill else signal.SIGINT)
    proc.proc.wait(30)
    proc.stop()


@pytest.mark.parametrize("outage", [0.0, POSTGRES_OUTAGE_S])
def test_postgres_restart_and_outage(pg_stack: tuple[ChaosStack, Servers], outage: float,
                                     tmp_path: Path) -> None:
    s, servers = pg_stack
    s.up()
    since = datetime.now(UTC)
    t0 = time.time()
    _stop_postgres(servers, kill=outage == 0)
    time.sleep(outage)
    _restart_postgres(servers, tmp_path / f"pg-{outage:g}.log")
    t1 = time.time()
    name = "kill -9 PostgreSQL, restarted" if not outage else f"PostgreSQL down {outage:g} s"
    result = s.measure(name, "the console and API answer 503; recording continues; the index "
                       "catches up (failed entries retried by their consumer every 0.5-2 s)",
                       t0, t1, since)
    assert result.video_lost_s == 0 and result.rows_missing == 0, result
    kit.drop_namespace(s.namespace, s.redis_url)
