"""Prometheus config and rules (promtool), Grafana provisioning and dashboards, and the rule
that every metric a rule or a panel uses is exported by a running ARGUS service.

The services run as real processes on free 127.0.0.1 ports (management on a fresh SQLite
file, recording- and streaming-service pointed at it), each with its own metrics registry:
in-process, every service imported by the test session would share one registry and hide
a missing metric.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from argus_testkit import stack as kit
from argus_testkit.process import Launcher, Ready
from argus_testkit.services import service_table
from argus_testkit.tools import require

ROOT = Path(__file__).resolve().parent.parent
PROM_DIR = ROOT / "prometheus"
DASHBOARDS = sorted((ROOT / "grafana" / "dashboards").glob("*.json"))
DATASOURCES = ROOT / "grafana" / "provisioning" / "datasources" / "prometheus.yml"
REDIS_URL = kit.REDIS_URL

# Metric names used by rules or dashboards that no running service exports yet, and who
# will. Keep it short: every entry here is a name the test cannot check for typos.
NOT_YET_EXPORTED = {
    # recording-service exports the free bytes; the disk-low rule also needs the size.
    "argus_recording_disk_total_bytes": "recording-service",
}
# Series Prometheus makes itself.
PROMETHEUS_BUILTIN = {"up", "ALERTS"}
# Compose services that expose /metrics, and the port Prometheus scrapes.
METRICS_PORTS = {
    "management-service": 8000, "recording-service": 9101, "streaming-service": 8080,
    "ai-analysis-service": 9102,
}


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    exe = require("promtool")
    return subprocess.run([exe, *args], capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_promtool_check_config() -> None:
    result = _promtool("check", "config", str(PROM_DIR / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_check_rules() -> None:
    rules = sorted(str(p) for p in (PROM_DIR / "rules").glob("*.yml"))
    assert rules
    result = _promtool("check", "rules", *rules)
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_rule_unit_tests() -> None:
    tests = sorted(str(p) for p in (PROM_DIR / "tests").glob("*.yml"))
    assert tests
    result = _promtool("test", "rules", *tests)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_compose_service_with_metrics_is_scraped() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    config = yaml.safe_load((PROM_DIR / "prometheus.yml").read_text())
    targets = {
        t for job in config["scrape_configs"] for sc in job.get("static_configs", [])
        for t in sc["targets"]
    }
    services = compose["services"]
    for name in services:
        if name.endswith("-service"):
            assert f"{name}:{METRICS_PORTS[name]}" in targets, f"{name} is not scraped"
    # Prometheus answers on the host's loopback only (its UI has no authentication).
    assert "127.0.0.1:9090:9090" in services["prometheus"]["ports"]
    assert "3001:3000" in services["grafana"]["ports"]
    assert "./prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    assert "GRAFANA_ADMIN_PASSWORD" in services["grafana"]["environment"]["GF_SECURITY_ADMIN_PASSWORD"]


def _datasource_uid() -> str:
    match = re.search(r"^\s*uid:\s*(\S+)\s*$", DATASOURCES.read_text(), re.MULTILINE)
    assert match, "the provisioned datasource has no uid"
    return match.group(1)


def _panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _panels(panel.get("panels", []))  # panels folded into rows


def test_dashboards_are_valid_and_every_panel_has_the_datasource() -> None:
    uid = _datasource_uid()
    assert len(DASHBOARDS) >= 5
    seen_uids = set()
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        assert board["uid"] not in seen_uids and board["title"], path.name
        seen_uids.add(board["uid"])
        panels = list(_panels(board["panels"]))
        assert panels, path.name
        ids = [p["id"] for p in panels]
        assert len(ids) == len(set(ids)), f"{path.name}: duplicate panel ids"
        for panel in panels:
            where = f"{path.name} panel {panel['id']} ({panel.get('title')})"
            if panel["type"] == "row":
                continue
            assert panel.get("datasource", {}).get("uid") == uid, where
            assert {"h", "w", "x", "y"} <= set(panel["gridPos"]), where
            assert panel["targets"], where
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == uid and target["expr"].strip(), where
        for variable in board.get("templating", {}).get("list", []):
            if "datasource" in variable:
                assert variable["datasource"]["uid"] == uid, f"{path.name} ${variable['name']}"


def _exprs() -> list[tuple[str, str]]:
    """Every PromQL expression of the rules and dashboards, with where it comes from."""
    out: list[tuple[str, str]] = []
    for path in sorted((PROM_DIR / "rules").glob("*.yml")):
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                out.append((f"{path.name} {rule.get('alert') or rule.get('record')}", rule["expr"]))
    for path in DASHBOARDS:
        board = json.loads(path.read_text())
        for panel in _panels(board["panels"]):
            for target in panel.get("targets", []):
                out.append((f"{path.name} panel {panel['id']}", target["expr"]))
        for variable in board.get("templating", {}).get("list", []):
            out.append((f"{path.name} ${variable['name']}", variable.get("definition", "")))
    return out


def metric_names(expr: str) -> set[str]:
    """The metric names an expression reads (``argus_*`` and Prometheus's own series)."""
    expr = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # label values are not names
    tokens = set(re.findall(r"(?<![A-Za-z0-9_:$])[A-Za-z_:][A-Za-z0-9_:]*", expr))
    return {t for t in tokens if t.startswith("argus_") or t in PROMETHEUS_BUILTIN}


def test_metric_name_extraction() -> None:
    expr = ('sum by (le) (rate(argus_x_bucket{job="argus_not_a_name"}[5m])) / up '
            'and on() argus_y')
    assert metric_names(expr) == {"argus_x_bucket", "up", "argus_y"}


def _exposed(text: str) -> set[str]:
    """Sample names a ``/metrics`` exposition can produce, from its ``# TYPE`` lines (which
    are there even before a labelled metric has its first sample)."""
    names: set[str] = set()
    for line in text.splitlines():
        parts = line.split()
        if len(parts) < 4 or parts[:2] != ["#", "TYPE"]:
            continue
        name, kind = parts[2], parts[3]
        base = name.removesuffix("_total")
        names |= {name, f"{base}_created"}
        if kind == "counter":
            names.add(f"{base}_total")
        if kind in ("histogram", "summary"):
            names |= {f"{name}_bucket", f"{name}_sum", f"{name}_count"}
    return names


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, set[str]]]:
    """Metric names exposed by each service, started as real processes (the
    service table's entries, by argus_testkit) with a minimal environment."""
    tmp = tmp_path_factory.mktemp("observability")
    cfg = kit.test_config(tmp)
    p = cfg.ports
    plans = {
        "management-service": ("management", f"http://127.0.0.1:{p.management}/metrics", {
            "DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/argus.db", "MANAGEMENT_WORKERS": "1",
            "MANAGEMENT_BCRYPT_ROUNDS": "4", "ARGUS_ADMIN_PASSWORD": "obs-admin-pass-1"}),
        "recording-service": ("recording", f"http://127.0.0.1:{p.recording_metrics}/metrics",
                              {}),
        "streaming-service": ("streaming", f"{cfg.streaming_url}/metrics", {}),
        "ai-analysis-service": ("analysis", f"http://127.0.0.1:{p.analysis_metrics}/metrics",
                                {}),
    }
    table = service_table(cfg)
    found: dict[str, set[str]] = {}
    with kit.redis_namespace("argus-obs") as namespace, Launcher(tmp, tmp) as launcher:
        common = {
            "PATH": os.environ.get("PATH", ""), "HOME": str(tmp), "ARGUS_ENV": "test",
            "SECRET_KEY": "obs-secret-key-0123456789abcdef", "REDIS_URL": REDIS_URL,
            "INTERNAL_API_KEY": "obs-internal-key-0123456789abcdef",
            "ARGUS_REDIS_NAMESPACE": namespace, "LOG_LEVEL": "WARNING",
        }
        started = {}
        for service, (name, url, env) in plans.items():
            spec = table[name]
            # Every service is part of the workspace: one that cannot start fails the test.
            assert spec.available(), f"{service} is not installed ({spec.argv[0]}): uv sync"
            started[service] = (launcher.start(service, spec.argv, {**common, **spec.env,
                                                                    **env}), url)
        for service, (proc, url) in started.items():
            proc.wait_ready(Ready(http=url, timeout_s=45))
            found[service] = _exposed(httpx.get(url, timeout=5).text)
        yield found


def test_every_metric_in_rules_and_dashboards_is_exported(
    exported: dict[str, set[str]],
) -> None:
    assert set(exported) == {"management-service", "recording-service", "streaming-service",
                             "ai-analysis-service"}
    everything = set().union(*exported.values())
    missing = []
    for where, expr in _exprs():
        for name in metric_names(expr):
            if name in everything or name in PROMETHEUS_BUILTIN or name in NOT_YET_EXPORTED:
                continue
            missing.append(f"{where}: {name}")
    assert not missing, "metrics no running service exports:\n" + "\n".join(missing)


def test_management_exports_the_liveness_metrics(exported: dict[str, set[str]]) -> None:
    names = exported["management-service"]
    for name in ("argus_cameras", "argus_camera_up", "argus_liveness_checks_total",
                 "argus_liveness_probe_duration_seconds_bucket", "argus_events_total",
                 "argus_http_request_duration_seconds_bucket", "argus_ws_clients"):
        assert name in names, name
