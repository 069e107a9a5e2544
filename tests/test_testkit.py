"""The test kit's process launcher and the supervisor's pure parts (argus_testkit)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest

from argus_testkit.ports import free_port, port_open
from argus_testkit.process import Launcher, Proc, Ready
from argus_testkit.runstate import format_status, pid_alive
from argus_testkit.services import StackConfig, StackPorts, service_table
from argus_testkit.supervisor import Supervisor, _levels
from argus_testkit.wait import WaitTimeout

# A leader that starts a worker ignoring SIGTERM in its group, prints both pids, then waits.
STUBBORN = """
import os, signal, subprocess, sys, time
worker = subprocess.Popen([sys.executable, "-c",
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('up', flush=True); time.sleep(120)"],
    stdout=subprocess.PIPE)
worker.stdout.readline()
print("ready", os.getpid(), worker.pid, flush=True)
time.sleep(120)
"""


def test_stop_reaches_a_worker_that_ignores_sigterm(tmp_path: Path) -> None:
    proc = Proc.start("stubborn", [sys.executable, "-c", STUBBORN], env=os.environ,
                      log=tmp_path / "stubborn.log")
    rest = proc.wait_ready(Ready(line="ready ", timeout_s=30))
    leader, worker = (int(x) for x in rest.split())
    assert leader == proc.pid and pid_alive(worker)
    started = time.monotonic()
    proc.stop(timeout_s=1.0)
    assert not proc.alive and not pid_alive(worker)
    assert time.monotonic() - started < 10
    proc.stop()  # idempotent


def test_wait_ready_reports_an_early_exit_with_the_output(tmp_path: Path) -> None:
    proc = Proc.start("fails", [sys.executable, "-c", "print('bad config'); raise SystemExit(3)"],
                      env=os.environ, log=tmp_path / "fails.log")
    with pytest.raises(RuntimeError, match=r"(?s)exited with 3.*bad config"):
        proc.wait_ready(Ready(tcp=free_port(), timeout_s=30))


def test_wait_ready_is_bounded_and_stops_the_process(tmp_path: Path) -> None:
    with Launcher(tmp_path) as launcher:
        with pytest.raises(WaitTimeout, match="not ready"):
            launcher.start("silent", [sys.executable, "-c", "import time; time.sleep(60)"],
                           os.environ, Ready(http=f"http://127.0.0.1:{free_port()}/",
                                             timeout_s=1))
        assert not launcher.get("silent").alive


def test_tcp_readiness_and_log_per_process(tmp_path: Path) -> None:
    port = free_port()
    server = ("import socket, time; s = socket.socket(); "
              f"s.bind(('127.0.0.1', {port})); s.listen(); print('listening', flush=True); "
              "time.sleep(60)")
    with Launcher(tmp_path) as launcher:
        proc = launcher.start("server", [sys.executable, "-c", server], os.environ,
                              Ready(tcp=port, timeout_s=30))
        assert port_open(port)
        assert (tmp_path / "server.log").exists()
        proc.send(signal.SIGKILL)
        proc.proc.wait(10)
        assert proc.returncode == -signal.SIGKILL


def test_the_table_orders_dependents_after_management(tmp_path: Path) -> None:
    table = service_table(StackConfig(tmp_path, StackPorts()))
    sup = Supervisor(list(table.values()), {}, tmp_path)
    levels = [[u.spec.name for u in level] for level in _levels(sup.units)]
    assert levels[0] == ["redis", "camera-simulator", "console"]
    assert levels[1] == ["management"]
    assert set(levels[2]) == {"streaming", "recording", "analysis", "rtmp"}
    console = table["console"]
    assert console.argv[-1].endswith("web-frontend/nginx/entrypoint.sh")  # envsubst, as in Docker
    assert table["camera-simulator"].ready.tcp == 8554


def test_status_table_lists_pid_state_restarts_uptime() -> None:
    status = {"supervisor_pid": os.getpid(), "stopping": False, "services": [
        {"name": "management", "pid": os.getpid(), "state": "ready", "restarts": 0,
         "started_at": time.time() - 75},
        {"name": "recording", "pid": None, "state": "backoff", "restarts": 3,
         "started_at": None},
    ]}
    text = format_status(status)
    assert "running" in text
    lines = text.splitlines()
    assert lines[2].split()[:4] == ["management", str(os.getpid()), "ready", "0"]
    assert lines[2].endswith("1m15s") or lines[2].endswith("1m16s")
    assert lines[3].split() == ["recording", "-", "backoff", "3", "-"]
    assert "not running" in format_status({**status, "supervisor_pid": 2**22 + 1})
