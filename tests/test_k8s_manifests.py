"""The Kubernetes manifests (deploy/k8s/) render, validate against the Kubernetes schemas and
keep the deployment's invariants; offline, without kubectl, kustomize or a cluster.

The kustomizations use two features only (``resources`` and strategic-merge ``patches``),
rendered here by a small renderer; ``_render`` refuses any other kustomization field, so a
manifest using one fails here instead of being silently mis-rendered.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml  # locked (a dependency of the dev tools): never a skip

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parent.parent
K8S = ROOT / "deploy" / "k8s"
KUBERNETES_VERSION = "1.31.0"
OVERLAYS = ("base", "overlays/single-node", "overlays/gpu")
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
# The HTTP services: port of /healthz (liveness) and /readyz (readiness).
HEALTH_PORTS = {"argus-management": 8000, "argus-streaming": 8080,
                "argus-recording": 9101, "argus-analysis": 9102}
# Compose service -> the Kubernetes workload running the same image.
COMPOSE_TO_K8S = {"management-service": "argus-management", "recording-service": "argus-recording",
                  "streaming-service": "argus-streaming", "ai-analysis-service": "argus-analysis",
                  "web-frontend": "argus-console", "rtmp-server": "argus-rtmp",
                  "redis": "argus-redis"}
Doc = dict[str, Any]


def _merge(base: Any, patch: Any) -> Any:
    """Strategic merge as far as these manifests need it: maps merge key by key, lists of
    named maps (containers, env, volumes, ports) merge by name, other lists are replaced."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base[key], value) if key in base else value
        return out
    named = (isinstance(base, list) and isinstance(patch, list)
             and all(isinstance(i, dict) and "name" in i for i in base + patch))
    if named:
        out_list = list(base)
        index = {item["name"]: n for n, item in enumerate(out_list)}
        for item in patch:
            if item["name"] in index:
                out_list[index[item["name"]]] = _merge(out_list[index[item["name"]]], item)
            else:
                out_list.append(item)
        return out_list
    return patch


def _load(path: Path) -> list[Doc]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def _render(directory: Path) -> list[Doc]:
    """The objects a kustomization directory yields (resources, patches, namespace)."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    unknown = set(kustomization) - {"apiVersion", "kind", "namespace", "resources", "patches"}
    assert not unknown, f"{directory}: the test's renderer does not implement {unknown}"
    docs: list[Doc] = []
    for resource in kustomization.get("resources", []):
        path = (directory / resource).resolve()
        docs += _render(path) if path.is_dir() else _load(path)
    for patch_ref in kustomization.get("patches", []):
        for patch in _load(directory / patch_ref["path"]):
            key = (patch["kind"], patch["metadata"]["name"])
            matches = [n for n, d in enumerate(docs) if (d["kind"], d["metadata"]["name"]) == key]
            assert len(matches) == 1, f"patch {key} matches {len(matches)} objects"
            docs[matches[0]] = _merge(docs[matches[0]], patch)
    if "namespace" in kustomization:
        for doc in docs:
            if doc["kind"] != "Namespace":
                doc["metadata"]["namespace"] = kustomization["namespace"]
    return docs


@pytest.fixture(scope="module", params=OVERLAYS)
def rendered(request: pytest.FixtureRequest) -> list[Doc]:
    return _render(K8S / request.param)


def _of(docs: list[Doc], *kinds: str) -> dict[str, Doc]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] in kinds}


def _pod_spec(doc: Doc) -> Doc:
    return doc["spec"]["template"]["spec"]


def _pods(docs: list[Doc]) -> dict[str, Doc]:
    """Every pod template: workloads and the migration Job."""
    return {name: _pod_spec(d) for name, d in _of(docs, *WORKLOAD_KINDS, "Job").items()}


def _secret_refs(pod: Doc) -> set[tuple[str, str | None]]:
    """(Secret name, key or None for the whole Secret) a pod refers to."""
    refs: set[tuple[str, str | None]] = set()
    for c in pod["containers"] + pod.get("initContainers", []):
        refs |= {(e["secretRef"]["name"], None) for e in c.get("envFrom", []) if "secretRef" in e}
        for e in c.get("env", []):
            ref = e.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                refs.add((ref["name"], ref["key"]))
    refs |= {(v["secret"]["secretName"], None) for v in pod.get("volumes", []) if "secret" in v}
    return refs


def test_manifests_validate_against_the_kubernetes_schemas() -> None:
    """Every object of the base and the overlays, strict (unknown fields are errors); an
    object the overlays leave untouched is validated once (the schemas are slow to load)."""
    unique: dict[str, Doc] = {}
    for overlay in OVERLAYS:
        for doc in _render(K8S / overlay):
            unique.setdefault(json.dumps(doc, sort_keys=True), doc)
    assert len(unique) > 30
    for doc in unique.values():
        try:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{doc['kind']}/{doc['metadata']['name']}: {exc.message} at {list(exc.path)}")


def test_every_workload_has_probes_on_the_right_paths_and_ports(rendered: list[Doc]) -> None:
    workloads = _of(rendered, *WORKLOAD_KINDS)
    assert set(HEALTH_PORTS) <= set(workloads)
    for name, doc in workloads.items():
        for c in _pod_spec(doc)["containers"]:
            assert "livenessProbe" in c and "readinessProbe" in c, f"{name}/{c['name']}"
            if name in HEALTH_PORTS:
                port = HEALTH_PORTS[name]
                assert c["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
                assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
                assert {"containerPort": port, "name": c["ports"][0]["name"],
                        "protocol": "TCP"} == c["ports"][0], name


def test_every_container_has_resource_requests_and_runs_as_non_root(rendered: list[Doc]) -> None:
    for name, pod in _pods(rendered).items():
        security = pod["securityContext"]
        assert security["runAsNonRoot"] is True and security["runAsUser"] > 0, name
        assert pod.get("hostNetwork") is not True, name
        for c in pod["containers"]:
            requests = c["resources"]["requests"]
            assert {"cpu", "memory"} <= set(requests), f"{name}/{c['name']}"
            assert "memory" in c["resources"]["limits"], f"{name}/{c['name']}"
            assert c["securityContext"]["allowPrivilegeEscalation"] is False, name
            assert c["securityContext"]["capabilities"]["drop"] == ["ALL"], name
            assert c.get("securityContext", {}).get("runAsUser", 1) != 0, name


def test_images_are_the_compose_files() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())["services"]
    workloads = _of(_render(K8S / "base"), *WORKLOAD_KINDS, "Job")
    for service, workload in COMPOSE_TO_K8S.items():
        images = {c["image"] for c in _pod_spec(workloads[workload])["containers"]}
        assert images == {compose[service]["image"]}, workload
    cluster = _load(K8S / "postgres" / "cluster.yaml")[0]
    compose_major = compose["db"]["image"].split(":")[1]
    assert cluster["spec"]["imageName"].rsplit(":", 1)[1].split(".")[0] == compose_major


def test_migration_job_runs_the_management_image_with_migrate(rendered: list[Doc]) -> None:
    job = _of(rendered, "Job")["argus-migrate"]
    management = _pod_spec(_of(rendered, "Deployment")["argus-management"])["containers"][0]
    container = _pod_spec(job)["containers"][0]
    assert container["image"] == management["image"]
    assert container["command"] == ["argus-management", "migrate"]
    env = {e["name"] for e in container["env"]}
    assert "DATABASE_URL" in env and _pod_spec(job)["restartPolicy"] in ("OnFailure", "Never")


def test_referenced_secrets_and_config_maps_exist(rendered: list[Doc]) -> None:
    secrets = _of(rendered, "Secret")
    config_maps = _of(rendered, "ConfigMap")
    for name, pod in _pods(rendered).items():
        for secret, key in _secret_refs(pod):
            assert secret in secrets, f"{name} refers to a missing Secret {secret}"
            if key is not None:
                assert key in secrets[secret]["stringData"], f"{name}: {secret}/{key}"
        for c in pod["containers"]:
            for e in c.get("envFrom", []):
                if "configMapRef" in e:
                    assert e["configMapRef"]["name"] in config_maps, name
            for e in c.get("env", []):
                ref = e.get("valueFrom", {}).get("configMapKeyRef")
                if ref:
                    assert ref["key"] in config_maps[ref["name"]]["data"], name
    cluster = _load(K8S / "postgres" / "cluster.yaml")[0]
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1" and cluster["kind"] == "Cluster"
    owner = cluster["spec"]["bootstrap"]["initdb"]["secret"]["name"]
    assert secrets[owner]["type"] == "kubernetes.io/basic-auth"
    assert secrets[owner]["stringData"]["username"] == cluster["spec"]["bootstrap"]["initdb"]["owner"]
    # No secret value is committed: each is filled in at deploy time.
    for secret in secrets.values():
        for key, value in secret["stringData"].items():
            assert value in ("", "argus") or "<sha256>" in value, f"{secret['metadata']['name']}/{key}"


def test_env_references_resolve(rendered: list[Doc]) -> None:
    """Every $(VAR) in an env value names a variable Kubernetes has at that point (envFrom
    keys or an earlier env entry); an unresolved one would be passed on literally."""
    sources = {d["metadata"]["name"]: set(d.get("data", d.get("stringData", {})))
               for d in rendered if d["kind"] in ("ConfigMap", "Secret")}
    for name, pod in _pods(rendered).items():
        for c in pod["containers"]:
            known: set[str] = set()
            for e in c.get("envFrom", []):
                known |= sources[(e.get("configMapRef") or e["secretRef"])["name"]]
            for e in c.get("env", []):
                for var in re.findall(r"\$\(([A-Z0-9_]+)\)", e.get("value", "")):
                    assert var in known, f"{name}: {e['name']} uses $({var})"
                known.add(e["name"])


def test_the_signing_key_reaches_management_only(rendered: list[Doc]) -> None:
    holders = {name for name, pod in _pods(rendered).items()
               if any(s == "argus-jwt-signing-key" for s, _ in _secret_refs(pod))}
    assert holders == {"argus-management"}
    for name, pod in _pods(rendered).items():
        for c in pod["containers"]:
            env = {e["name"] for e in c.get("env", [])}
            assert "ARGUS_JWT_PRIVATE_KEY" not in env, name
            if name != "argus-management":
                assert "ARGUS_JWT_PRIVATE_KEY_FILE" not in env, name
                # management's own Secret (SECRET_KEY, INTERNAL_API_KEY) stays management's;
                # the migration Job takes the two keys settings validation asks for.
                refs = {s for s, k in _secret_refs(pod) if k is None}
                assert "argus-management" not in refs, name
    streaming = _pod_spec(_of(rendered, "Deployment")["argus-streaming"])["containers"][0]
    assert {"configMapRef": {"name": "argus-jwt-public"}} in streaming["envFrom"]


def _selects(selector: Doc, labels: dict[str, str]) -> bool:
    wanted = selector.get("matchLabels", {})
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def test_every_workload_has_a_pdb_and_a_network_policy(rendered: list[Doc]) -> None:
    pdbs = _of(rendered, "PodDisruptionBudget").values()
    policies = _of(rendered, "NetworkPolicy")
    assert policies["default-deny-ingress"]["spec"]["podSelector"] == {}
    for name, doc in _of(rendered, *WORKLOAD_KINDS).items():
        labels = doc["spec"]["template"]["metadata"]["labels"]
        assert any(_selects(p["spec"]["selector"], labels) for p in pdbs), f"{name}: no PDB"
        assert any(_selects(p["spec"]["podSelector"], labels) for p in policies.values()), \
            f"{name}: no NetworkPolicy"


def test_network_policies_mirror_the_trust_boundaries(rendered: list[Doc]) -> None:
    open_to_all: dict[str, set[str]] = {}
    allowed_from: dict[str, set[str]] = {}
    for policy in _of(rendered, "NetworkPolicy").values():
        target = policy["spec"]["podSelector"].get("matchLabels", {})
        target_name = target.get("app.kubernetes.io/name") or target.get("cnpg.io/cluster", "*")
        for rule in policy["spec"].get("ingress", []):
            if "from" not in rule:
                open_to_all.setdefault(target_name, set()).update(
                    p["protocol"] for p in rule["ports"])
            for peer in rule.get("from", []):
                src = (peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                       or str(peer))
                allowed_from.setdefault(target_name, set()).add(src)
    # Only the console and RTMP from outside; streaming's WebRTC media (UDP) besides.
    assert open_to_all == {"argus-console": {"TCP"}, "argus-rtmp": {"TCP"}, "argus-streaming": {"UDP"}}
    services = {"argus-management", "argus-recording", "argus-streaming", "argus-analysis"}
    assert allowed_from["argus-redis"] == services
    assert {s for s in allowed_from["argus-db"] if s.startswith("argus-")} == {"argus-management", "argus-migrate"}
    assert allowed_from["argus-management"] >= {"argus-console", "argus-streaming", "argus-recording",
                                                "argus-analysis", "argus-rtmp"}
    # Metrics-only services: Prometheus's namespace and nobody else.
    for name in ("argus-recording", "argus-analysis"):
        assert len(allowed_from[name]) == 1 and "monitoring" in next(iter(allowed_from[name]))


def test_streaming_host_ports_are_the_ice_port_range(rendered: list[Doc]) -> None:
    config = _of(rendered, "ConfigMap")["argus-streaming"]["data"]
    low, high = int(config["STREAMING_ICE_PORT_MIN"]), int(config["STREAMING_ICE_PORT_MAX"])
    container = _pod_spec(_of(rendered, "Deployment")["argus-streaming"])["containers"][0]
    udp = sorted(p["containerPort"] for p in container["ports"] if p["protocol"] == "UDP")
    assert udp == list(range(low, high + 1))
    assert all(p["hostPort"] == p["containerPort"] for p in container["ports"] if p["protocol"] == "UDP")
    env = {e["name"]: e for e in container["env"]}
    assert env["STREAMING_PUBLIC_IP"]["valueFrom"]["fieldRef"]["fieldPath"] == "status.hostIP"


def test_recorders_share_one_read_write_many_recordings_volume() -> None:
    base = _render(K8S / "base")
    claim = _of(base, "PersistentVolumeClaim")["argus-recordings"]
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    for name, pod in _pods(base).items():
        claims = {v["persistentVolumeClaim"]["claimName"]: v["persistentVolumeClaim"].get("readOnly", False)
                  for v in pod.get("volumes", []) if "persistentVolumeClaim" in v}
        if name in ("argus-recording", "argus-streaming", "argus-analysis"):
            assert claims["argus-recordings"] is (name != "argus-recording"), name


def test_gpu_overlay_adds_the_gpu_to_analysis_only() -> None:
    for overlay, gpus in (("base", 0), ("overlays/gpu", 1)):
        docs = _render(K8S / overlay)
        for name, pod in _pods(docs).items():
            limits = pod["containers"][0]["resources"]["limits"]
            expected = str(gpus) if name == "argus-analysis" and gpus else None
            assert limits.get("nvidia.com/gpu") == expected, (overlay, name)
        device = _of(docs, "ConfigMap")["argus-analysis"]["data"]["ANALYSIS_DEVICE"]
        assert device == ("cuda" if gpus else "cpu")
