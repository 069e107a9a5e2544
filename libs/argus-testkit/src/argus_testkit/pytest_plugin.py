"""The test session's pytest plugin (``-p argus_testkit.pytest_plugin`` in the root
``pyproject.toml``'s ``addopts``).

- Before any conftest is imported, it provides the session's PostgreSQL and Redis once, for
  every service's tests: the servers named by ``ARGUS_TEST_DATABASE_URL`` /
  ``ARGUS_TEST_REDIS_URL``, or private ones it starts (:mod:`argus_testkit.provision`), and
  exports both URLs in those variables, which the kit (:mod:`argus_testkit.stack`), the
  conftests and the processes tests start read. Private servers are stopped and their
  directory removed when the session ends. When a server can be neither found nor started,
  the run stops with one line saying what is missing and how to provide it.
- ``needs_tool`` markers (:func:`argus_testkit.tools.needs`) fail a test whose tool is
  missing; the allow-list of optional skips, and the ones taken, are printed at the end.
- A skip (of a test or of a whole module) whose reason is not on that allow-list
  (:func:`argus_testkit.tools.skip_allowed`) is listed at the end and fails the run: its
  exit status is 1 even when every test that ran passed. Skips are read from the test
  reports, so this holds under pytest-xdist too (the reports reach the controller).
- Under pytest-xdist (``make pytest`` runs ``-n 2 --dist loadfile``) the session's servers
  are provided once, by the controller: the workers inherit their URLs.
"""

from __future__ import annotations

import ast
import os
import sys
import threading
from typing import Any

import pytest

from argus_testkit import tools
from argus_testkit.provision import ProvisionError, Servers, provision

_servers: Servers | None = None


def _guard_ast_parse() -> None:
    """Python 3.11 before 3.11.8 (Debian 12 has 3.11.2) shares the AST constructor's
    recursion counter between threads (CPython gh-106905): ``ast.parse`` while another
    thread builds an AST (a traceback's carets in a service thread) can raise
    ``SystemError: AST constructor recursion depth mismatch``, and pytest, which parses
    the source of each failure's traceback, then dies with INTERNALERROR and no summary.
    Here ``ast.parse`` is serialized and retried once on that error."""
    original = ast.parse
    lock = threading.RLock()

    def parse(*args: Any, **kwargs: Any) -> Any:
        with lock:
            try:
                return original(*args, **kwargs)
            except SystemError as exc:
                if "recursion depth mismatch" not in str(exc):
                    raise
                return original(*args, **kwargs)

    ast.parse = parse


if (3, 11) <= sys.version_info[:3] < (3, 11, 8):
    _guard_ast_parse()
# Skips not on the allow-list, and allowed ones: (test or module id, reason).
_unexpected_skips: list[tuple[str, str]] = []
_allowed_skips: list[tuple[str, str]] = []


def _wants_servers(config: pytest.Config) -> bool:
    ns = config.known_args_namespace
    return not (getattr(ns, "help", False) or getattr(ns, "version", False))


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> None:
    """Provide the servers before the first conftest reads their URLs."""
    global _servers
    if _servers is not None or not _wants_servers(early_config):
        return
    try:
        _servers = provision()
    except ProvisionError as exc:
        # A usage error is one line, with no traceback (formatting one is where Debian's
        # Python 3.11.2 crashes, gh-106905).
        raise pytest.UsageError(f"argus test servers: {exc}") from None
    _servers.export(os.environ)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "needs_tool(*names): the test fails unless each tool is installed "
        "(argus_testkit.tools; optional tools skip instead)",
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    global _servers
    if _servers is not None:
        _servers.stop()
        _servers = None


def pytest_report_header(config: pytest.Config) -> str | None:
    return f"argus test servers: {_servers.describe()}" if _servers else None


def pytest_runtest_setup(item: pytest.Item) -> None:
    for mark in item.iter_markers("needs_tool"):
        for tool in mark.args:
            tools.require(tool, item.nodeid)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    tupled = isinstance(longrepr, tuple) and len(longrepr) == 3
    reason = str(longrepr[2]) if tupled else str(longrepr)  # type: ignore[index]
    return reason.removeprefix("Skipped: ")


def _note_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped and not hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        found = _allowed_skips if tools.skip_allowed(reason) else _unexpected_skips
        found.append((report.nodeid, reason))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    _note_skip(report)


def pytest_collectreport(report: pytest.CollectReport) -> None:
    _note_skip(report)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A run that skipped what it should have run fails."""
    if _unexpected_skips and session.exitstatus in (
        pytest.ExitCode.OK,
        pytest.ExitCode.NO_TESTS_COLLECTED,
    ):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    """The allow-list of skips, the allowed skips this run took and the others."""
    write = terminalreporter.write_line
    terminalreporter.section("optional tools (argus_testkit.tools.OPTIONAL)", sep="-")
    for tool, why in tools.OPTIONAL.items():
        write(f"allowed to be missing: {tool} - {why}")
    for who, reason in _allowed_skips:
        write(f"allowed skip taken: {who}: {reason}")
    if not _allowed_skips:
        write("no allowed skip was taken")
    for start, why in tools.ALLOWED_SKIPS.items():
        write(f"allowed skip: {start!r}... - {why}")
    for who, reason in _unexpected_skips:
        write(f"NOT ALLOWED, the run fails: skipped {who}: {reason}", red=True)
    if not _unexpected_skips:
        write("no skip outside this allow-list")
