"""The Compose file is valid for Debian's docker-compose, and Dockerfiles match native runs."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from argus_testkit.tools import require

ROOT = Path(__file__).resolve().parent.parent
SECRETS = (
    "SECRET_KEY=ci-secret\nINTERNAL_API_KEY=ci-internal\nPOSTGRES_PASSWORD=ci-db\n"
    "GRAFANA_ADMIN_PASSWORD=ci-grafana\nARGUS_JWT_PRIVATE_KEY=ci-private\n"
    "ARGUS_JWT_PUBLIC_KEYS=ci-public\n"
    + "".join(f"ARGUS_{s}_SERVICE_KEY=ci-{s.lower()}-key\n"
              for s in ("RECORDING", "STREAMING", "ANALYSIS", "RTMP"))
    + "".join(f"REDIS_PASSWORD_{u}=ci-redis-{u.lower()}\n"
              for u in ("MANAGEMENT", "RECORDING", "STREAMING", "ANALYSIS"))
)


def _compose(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    exe = require("docker-compose")
    env_file = tmp_path / "ci.env"
    env_file.write_text(SECRETS)
    return subprocess.run(
        [exe, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
         "--env-file", str(env_file), *args],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
    )


def _port(entry: object) -> dict[str, object]:
    """A published port as docker-compose 1.29's ``config`` writes it: a mapping, or a
    string ``host_ip:published:target/protocol`` when a host address is given."""
    if isinstance(entry, dict):
        return entry
    spec, _, protocol = str(entry).partition("/")
    host_ip, published, target = spec.rsplit(":", 2) if spec.count(":") >= 2 else (
        "", *spec.split(":"))
    return {"host_ip": host_ip, "published": published, "target": target,
            "protocol": protocol or "tcp"}


def test_compose_config_is_valid(tmp_path: Path) -> None:
    result = _compose(tmp_path, "config", "-q")
    assert result.returncode == 0, result.stderr


def test_compose_publishes_the_webrtc_port_range(tmp_path: Path) -> None:
    """streaming-service gets its ICE port range and Compose publishes exactly that (UDP)."""
    result = _compose(tmp_path, "config")
    assert result.returncode == 0, result.stderr
    service = yaml.safe_load(result.stdout)["services"]["streaming-service"]
    env = service["environment"]
    low, high = int(env["STREAMING_ICE_PORT_MIN"]), int(env["STREAMING_ICE_PORT_MAX"])
    assert 0 < low <= high
    udp = sorted(
        (int(p["published"]), int(p["target"]))
        for p in map(_port, service["ports"])
        if p.get("protocol") == "udp"
    )
    assert udp == [(port, port) for port in range(low, high + 1)]


def test_compose_requires_secrets(tmp_path: Path) -> None:
    exe = require("docker-compose")
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = subprocess.run(
        [exe, "-f", str(ROOT / "docker-compose.yml"), "--env-file", str(empty), "config", "-q"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )
    assert result.returncode != 0 and "in .env" in result.stderr


# The Python images: one Dockerfile, a shared builder stage (`build`) and runtime base
# (`runtime`), then per service a `<target>-venv` stage and the final stage `<target>`.
# Images built on Debian's nginx (nginx-rtmp/, web-frontend/) have their own Dockerfiles.
PY_DOCKERFILE = ROOT / "deploy" / "python.Dockerfile"
# target -> the service directory whose package it installs.
PY_TARGETS = {"management": "management-service", "recording": "recording-service",
              "streaming": "streaming-service", "analysis": "ai-analysis-service",
              "camsim": "camera-simulator"}


def _stages() -> dict[str, tuple[str, str]]:
    """The Dockerfile's stages by name: (the image or stage it starts FROM, its text)."""
    parts = re.split(r"^FROM ", PY_DOCKERFILE.read_text(), flags=re.MULTILINE)[1:]
    stages: dict[str, tuple[str, str]] = {}
    for part in parts:
        head, _, body = part.partition("\n")
        base, _, name = head.partition(" AS ")
        assert name and name not in stages, head
        stages[name] = (base, body)
    return stages


def _package(service_dir: str) -> str:
    import tomllib

    return str(tomllib.loads((ROOT / service_dir / "pyproject.toml").read_text())
               ["project"]["name"])


def test_python_images_are_targets_of_one_dockerfile(tmp_path: Path) -> None:
    """One way to build a Python image: no per-service Dockerfile is left, every final
    stage starts from the shared runtime base and takes its venv from its own stage built
    on the shared builder, and Compose builds each Python service as a target of it."""
    assert not [p for p in ROOT.glob("*/Dockerfile") if (p.parent / "pyproject.toml").exists()]
    stages = _stages()
    assert stages["build"][0] == "debian:bookworm-slim"
    assert stages["runtime"][0] == "debian:bookworm-slim"
    finals = {name for name, (base, _) in stages.items() if base == "runtime"}
    assert finals == set(PY_TARGETS)
    for target in PY_TARGETS:
        assert stages[f"{target}-venv"][0] == "build", target
    result = _compose(tmp_path, "--profile", "demo", "config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    built = {name: svc["build"] for name, svc in services.items()
             if svc.get("build", {}).get("dockerfile") == "deploy/python.Dockerfile"}
    assert {b["target"] for b in built.values()} == set(PY_TARGETS), built
    assert {"management-service", "demo-register"} <= set(built)


@pytest.mark.parametrize("target", PY_TARGETS)
def test_dockerfile_command_is_the_packages_console_script(target: str) -> None:
    """Every image runs the same console script as the native stack, and it is one the
    package installed into that image's venv defines."""
    _, body = _stages()[target]
    cmd = re.search(r'^CMD \["([^"]+)"', body, re.MULTILINE)
    assert cmd, f"{target}: no exec-form CMD"
    scripts = (ROOT / PY_TARGETS[target] / "pyproject.toml").read_text()
    assert f"{cmd.group(1)} = " in scripts, f"{cmd.group(1)} is not {target}'s console script"
    native = (ROOT / "libs/argus-testkit/src/argus_testkit/services.py").read_text()
    assert f'b / "{cmd.group(1)}"' in native, f"{cmd.group(1)} is not a native command"


@pytest.mark.parametrize("target", PY_TARGETS)
def test_dockerfile_install_step_resolves(target: str, tmp_path: Path) -> None:
    """No Docker engine here: check the image's `uv sync` against the lock instead; the
    venv stage installs the package of its own service."""
    _, body = _stages()[f"{target}-venv"]
    match = re.search(r"uv sync (--frozen --no-dev --package ([\w-]+))", body)
    assert match, f"{target}: expected `uv sync --frozen --no-dev --package <name>`"
    assert match.group(2) == _package(PY_TARGETS[target]), target
    assert f"COPY {PY_TARGETS[target]}/src {PY_TARGETS[target]}/src" in body
    uv = shutil.which("uv")
    assert uv, "uv is required"
    result = subprocess.run(
        [uv, "sync", *match.group(1).split(), "--dry-run"],
        capture_output=True, text=True, timeout=120, cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "HOME": str(Path.home()),
             "UV_PROJECT_ENVIRONMENT": str(tmp_path / "venv")},
    )
    assert result.returncode == 0, result.stderr[-2000:]


def test_compose_keeps_metrics_and_apis_off_the_network(tmp_path: Path) -> None:
    """Only the console (HTTP redirect, HTTPS) faces the network; the services' APIs and
    /metrics, and Prometheus, are published on this host's loopback at most (issue 16,
    findings 10 and 11)."""
    result = _compose(tmp_path, "config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name in ("management-service", "streaming-service", "prometheus"):
        for port in map(_port, services[name].get("ports", [])):
            if port.get("protocol") == "udp":
                continue  # WebRTC media (DTLS-SRTP)
            assert port.get("host_ip") == "127.0.0.1", (name, port)
    for name in ("recording-service", "ai-analysis-service"):  # metrics ports 9101/9102
        assert not services[name].get("ports"), name
    console = services["web-frontend"]
    published = sorted(int(str(_port(p)["target"])) for p in console["ports"])
    assert published == [3000, 3443]
    assert "console_tls" in str(console["volumes"])


def test_compose_keeps_databases_private_and_secrets_per_service(tmp_path: Path) -> None:
    """Neither PostgreSQL nor Redis is published unless docker-compose.ports.yml is added
    (and then on 127.0.0.1 only); each service holds only its own secrets and connects to
    Redis as its own user (issue 16, findings 4 and 5)."""
    result = _compose(tmp_path, "config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    assert not services["db"].get("ports") and not services["redis"].get("ports")
    assert "start-redis.sh" in str(services["redis"]["entrypoint"])
    management_only = ("SECRET_KEY", "INTERNAL_API_KEY", "ARGUS_JWT_PRIVATE_KEY")
    for name, user, credential in (
        ("management-service", "management", None),
        ("recording-service", "recording", "ci-recording-key"),
        ("streaming-service", "streaming", "ci-streaming-key"),
        ("ai-analysis-service", "analysis", "ci-analysis-key"),
        ("rtmp-server", None, "ci-rtmp-key"),
    ):
        env = services[name]["environment"]
        held = [k for k in management_only if env.get(k)]
        assert held == (list(management_only) if credential is None else []), name
        assert env.get("ARGUS_SERVICE_KEY") == credential, name
        if user:
            assert env["REDIS_URL"].startswith(f"redis://{user}:ci-redis-{user}@redis:"), name
    assert services["streaming-service"]["environment"]["ARGUS_JWT_PUBLIC_KEYS"] == "ci-public"
    exe = require("docker-compose")
    env_file = tmp_path / "ci.env"
    opt_in = subprocess.run(
        [exe, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
         "-f", str(ROOT / "docker-compose.ports.yml"), "--env-file", str(env_file), "config"],
        capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert opt_in.returncode == 0, opt_in.stderr
    published = yaml.safe_load(opt_in.stdout)["services"]
    for name in ("db", "redis"):
        ports = [_port(p) for p in published[name]["ports"]]
        assert ports and all(p["host_ip"] == "127.0.0.1" for p in ports), (name, ports)


def _workspace_members() -> list[str]:
    import tomllib

    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    return list(root["tool"]["uv"]["workspace"]["members"])


@pytest.mark.parametrize("target", PY_TARGETS)
def test_dockerfile_gives_uv_the_whole_workspace(target: str) -> None:
    """The builder stage copies the lock and every member's pyproject (uv resolves the whole
    workspace even for one package), the venv stage installs non-editable, and the image
    takes only the venv, runs as uid 10001 and keeps the build CA out: a member added to
    the workspace but not to the Dockerfile breaks the build."""
    stages = _stages()
    build = stages["build"][1]
    assert "COPY pyproject.toml uv.lock ./" in build
    for member in _workspace_members():
        assert f"COPY {member}/pyproject.toml {member}/" in build, member
    assert "ARG ARGUS_BUILD_CA_B64" in build
    venv = stages[f"{target}-venv"][1]
    assert re.search(r"uv sync --frozen --no-dev --package [\w-]+ --no-editable", venv)
    runtime = stages["runtime"][1] + stages[target][1]
    assert f"COPY --from={target}-venv /app/.venv /app/.venv" in runtime
    assert "uv" not in re.sub(r"\.venv|#.*", "", runtime).split(), "uv left in the image"
    assert "ARGUS_BUILD_CA" not in runtime
    assert "useradd --system --uid 10001 " in stages["runtime"][1]
    assert re.search(r"^USER argus$", stages[target][1], re.MULTILINE), "runs as root"
    assert re.search(r"^HEALTHCHECK .*\n  CMD python -c .*/healthz", stages[target][1],
                     re.MULTILINE), target


def test_compose_builds_tagged_images_with_build_args(tmp_path: Path) -> None:
    """Each built service names its image (the tags `make images` gives), passes the
    build-CA argument, and every long-running service has a healthcheck in the Compose
    file itself (Podman builds OCI images, which drop the Dockerfiles' HEALTHCHECK)."""
    result = _compose(tmp_path, "--profile", "demo", "config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    images_sh = (ROOT / "scripts" / "images.sh").read_text()
    for name, svc in services.items():
        if "build" not in svc:
            continue
        image = svc["image"]
        assert image.startswith("argus-") and image.endswith(":latest"), (name, image)
        build = svc["build"]
        entry = f"|{build['dockerfile']}|{build.get('target', '')}|{image.removesuffix(':latest')}\""
        assert entry in images_sh, (name, entry)
        assert "ARGUS_BUILD_CA_B64" in svc["build"].get("args", {}), name
    for name, svc in services.items():
        if name in ("demo-register", "grafana"):
            continue  # one-shot; third-party image with its own
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_standins_override_is_test_only_and_merges(tmp_path: Path) -> None:
    """docker-compose.standins.yml (machines without Docker Hub) only swaps the third-party
    images for Debian-built stand-ins and leaves Grafana out; everything else is the base."""
    text = (ROOT / "docker-compose.standins.yml").read_text()
    assert text.startswith("# TEST-ONLY OVERRIDE FOR MACHINES WITHOUT DOCKER HUB")
    override = yaml.safe_load(text)["services"]
    assert set(override) == {"db", "redis", "prometheus", "grafana"}
    exe = require("docker-compose")
    env_file = tmp_path / "ci.env"
    env_file.write_text(SECRETS)
    merged = subprocess.run(
        [exe, "--project-directory", str(ROOT), "-f", str(ROOT / "docker-compose.yml"),
         "-f", str(ROOT / "docker-compose.standins.yml"), "--env-file", str(env_file),
         "config"], capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert merged.returncode == 0, merged.stderr
    services = yaml.safe_load(merged.stdout)["services"]
    for name in ("db", "redis", "prometheus"):
        assert services[name]["image"].startswith("localhost/argus-standin-"), name
        dockerfile = ROOT / services[name]["build"]["dockerfile"]
        assert dockerfile.read_text().startswith("# TEST-ONLY"), dockerfile
    assert services["grafana"]["profiles"] == ["dockerhub"]
    assert services["redis"]["entrypoint"] == ["/bin/sh", "/argus/start-redis.sh"]


def test_every_image_mounting_a_volume_owns_its_mount_point(tmp_path: Path) -> None:
    """A named volume takes the owner of the mount point in the image of the first container
    that mounts it (Docker and Podman alike): every ARGUS image that mounts one (even
    read-only) creates that directory for its unprivileged user, so the volume is writable
    for its writer whichever container starts first."""
    result = _compose(tmp_path, "--profile", "demo", "config")
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    for name, svc in services.items():
        if "build" not in svc:
            continue
        if "target" in svc["build"]:  # deploy/python.Dockerfile: that target's stage
            runtime = _stages()[svc["build"]["target"]][1]
        else:
            text = (ROOT / svc["build"]["dockerfile"]).read_text()
            runtime = re.split(r"^FROM ", text, flags=re.MULTILINE)[-1]
        for volume in svc.get("volumes", []):
            spec = volume if isinstance(volume, str) else f"{volume['source']}:{volume['target']}"
            source, target = spec.split(":")[:2]
            if source.startswith((".", "/")):
                continue  # a bind mount of the checkout
            assert re.search(rf"mkdir -p [^\n]*{re.escape(target)}\b", runtime) and re.search(
                rf"chown \w+ [^\n]*{re.escape(target)}\b", runtime), (name, target)
