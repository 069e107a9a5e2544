"""The test session's servers (argus_testkit.provision, argus_testkit.pytest_plugin) and the
missing-tool rule (argus_testkit.tools)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from redis import Redis

from argus_testkit import provision as prov
from argus_testkit import stack as kit
from argus_testkit import tools
from argus_testkit.process import Proc


def test_the_session_uses_the_servers_the_plugin_exported() -> None:
    assert kit.PG_DSN == os.environ[prov.DATABASE_ENV]
    assert kit.REDIS_URL == os.environ[prov.REDIS_ENV]
    with kit.scratch_database("argus_prov") as db:
        assert db.fetch("SELECT 1 AS one") == [{"one": 1}]
    assert Redis.from_url(kit.REDIS_URL).ping()


def test_server_dsn_drops_the_driver_and_the_database() -> None:
    assert prov.server_dsn("postgresql+asyncpg://u:p@db:5433/argus") == "postgresql://u:p@db:5433"
    assert (
        prov.server_dsn("postgres://postgres@127.0.0.1:5432")
        == "postgresql://postgres@127.0.0.1:5432"
    )
    with pytest.raises(prov.ProvisionError, match="ARGUS_TEST_DATABASE_URL"):
        prov.server_dsn("mysql://root@127.0.0.1/x")


def test_given_urls_start_nothing() -> None:
    servers = prov.provision(
        {prov.DATABASE_ENV: "postgresql://u@h:1/d", prov.REDIS_ENV: "redis://h:2/0"}
    )
    assert (servers.pg_dsn, servers.redis_url) == ("postgresql://u@h:1", "redis://h:2/0")
    assert servers.procs == [] and servers.tmp is None


def test_private_servers_answer_and_leave_nothing_behind() -> None:
    servers = prov.provision({"PATH": os.environ["PATH"]})
    tmp = servers.tmp
    assert tmp is not None and tmp.is_dir()
    procs: list[Proc] = list(servers.procs)
    try:
        assert servers.provisioned == ["postgresql", "redis"]
        assert ":5432" not in servers.pg_dsn and ":6379" not in servers.redis_url

        async def version() -> str:
            conn = await asyncpg.connect(f"{servers.pg_dsn}/postgres")
            try:
                return str(await conn.fetchval("SHOW server_version"))
            finally:
                await conn.close()

        assert asyncio.run(version())
        assert Redis.from_url(servers.redis_url).ping()
    finally:
        servers.stop()
    assert all(not p.alive for p in procs)
    assert not tmp.exists()
    servers.stop()  # idempotent


def test_a_missing_server_is_one_line_naming_the_package_and_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(prov, "pg_bindir", lambda: None)
    with pytest.raises(prov.ProvisionError) as info:
        prov.provision({"PATH": os.environ["PATH"], prov.REDIS_ENV: "redis://h:2/0"})
    msg = str(info.value)
    assert "\n" not in msg and "postgresql" in msg and prov.DATABASE_ENV in msg
    monkeypatch.setattr(prov, "redis_server", lambda: None)
    with pytest.raises(prov.ProvisionError) as info:
        prov.provision({"PATH": os.environ["PATH"], prov.DATABASE_ENV: "postgresql://u@h:1"})
    msg = str(info.value)
    assert "\n" not in msg and "redis-server" in msg and prov.REDIS_ENV in msg


def test_a_missing_tool_fails_unless_it_is_allow_listed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "find", lambda tool: None)
    with pytest.raises(pytest.fail.Exception, match="install prometheus"):
        tools.require("promtool")
    with pytest.raises(pytest.skip.Exception, match="allow-listed"):
        tools.require("nvidia-smi", "here")
    with pytest.raises(KeyError):
        tools.needs("no-such-tool")


def test_required_tools_are_installed() -> None:
    for tool in tools.TOOLS:
        if tool not in tools.OPTIONAL:
            assert tools.find(tool), f"{tool} missing ({tools.TOOLS[tool][0]})"


def test_skip_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    assert tools.skip_allowed("Skipped: optional tool nvidia-smi missing (allow-listed: x)")
    assert not tools.skip_allowed("Skipped: optional tool chromium missing (allow-listed: x)")
    assert not tools.skip_allowed("meaningful only in a full run")
    monkeypatch.setitem(tools.ALLOWED_SKIPS, "meaningful only", "an example")
    assert tools.skip_allowed("meaningful only in a full run")
    assert not tools.skip_allowed("Skipped: could not import 'cv2': No module named 'cv2'")


def test_a_skip_not_on_the_allow_list_fails_the_run(tmp_path: Path) -> None:
    """A session with the plugin: a skip for another reason fails it (exit 1) and is named at
    the end; an allow-listed skip alone does not. The session's servers are reused (their
    URLs are in the environment)."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_allowed.py").write_text(
        "import pytest\n"
        "def test_ok():\n    pass\n"
        "def test_allowed():\n"
        "    pytest.skip('optional tool nvidia-smi missing (allow-listed: no GPU)')\n"
    )
    (tmp_path / "test_other.py").write_text(
        "import pytest\n"
        "def test_ok():\n    pass\n"
        "def test_hidden():\n    pytest.skip('no chromium, never mind')\n"
    )
    (tmp_path / "test_module.py").write_text(
        "import pytest\npytest.importorskip('no_such_module_argus')\ndef test_never():\n    pass\n"
    )

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        cmd = [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-p",
            "argus_testkit.pytest_plugin",
            *args,
        ]
        return subprocess.run(
            cmd, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False
        )

    allowed = run("test_allowed.py")
    assert allowed.returncode == 0, allowed.stdout + allowed.stderr
    assert "no skip outside this allow-list" in allowed.stdout
    other = run("test_allowed.py", "test_other.py", "test_module.py")
    assert other.returncode == 1, other.stdout + other.stderr
    assert (
        "NOT ALLOWED, the run fails: skipped test_other.py::test_hidden: no chromium"
        in other.stdout
    )
    assert "skipped test_module.py: could not import 'no_such_module_argus'" in other.stdout
