"""schemathesis over management-service's OpenAPI (issue 17), against a real
``argus-management`` process on the default SQLite database with 2 workers.

As an admin: every operation with valid and with invalid input, then the stateful phase
(operations chained through the links schemathesis infers: ``POST /cameras`` then
``GET/PATCH/DELETE /cameras/{id}``, its PTZ routes …). As a viewer: every operation.
A camera whose ONVIF port nobody listens on is registered first, so the routes that
contact devices meet one that does not answer.

Every response must:
- not be a 5xx, except a 502/503/504 that the operation declares (a camera that does not
  answer);
- conform to the schema: a declared status (the error envelope is every operation's
  ``default``), the declared content type, the declared body and headers;
- come within 5 s (a discovery asked to listen for `timeout_s`: that plus 5 s).

The suite runs a bounded number of examples (``ARGUS_FUZZ_EXAMPLES``, 2 per operation and
mode; a few minutes on a 2-CPU machine); ``make fuzz`` runs more and prints the totals.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.generation.stateful.state_machine import StepOutput
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from argus_testkit import stack as kit
from argus_testkit.factories import bearer, create_user, login
from argus_testkit.ports import free_port
from argus_testkit.process import Ready, launched
from argus_testkit.services import StackPorts

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ARGUS_FUZZ_EXAMPLES", "2"))
# A real server on a loaded 2-CPU machine: a few hundred requests per test at 2 examples.
pytestmark = pytest.mark.timeout(300 + 200 * EXAMPLES)
STATEFUL_SCENARIOS = 4 * EXAMPLES
SLOW_S = 5.0
GATEWAY = (502, 503, 504)
ADMIN_PASSWORD = "fuzz-admin-password"
VIEWER_PASSWORD = "fuzz-viewer-password"
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# No shrinking: each example is a request to a real server, and a failure is recorded
# with its request rather than raised.
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Api:
    """The management process under test and who calls it (tokens renewed before their
    15 minutes are up: ``make fuzz`` runs longer)."""

    base_url: str
    admin_id: int
    logins: dict[str, tuple[str, str]]
    dead_camera_id: int
    tokens: dict[str, tuple[float | None, dict[str, str]]] = field(default_factory=dict)

    def headers(self, who: str) -> dict[str, str]:
        # (No token yet is "never issued", not "issued at monotonic 0": on a machine up for
        # less than 10 minutes that would pass for a fresh token.)
        issued, headers = self.tokens.get(who, (None, {}))
        if issued is None or time.monotonic() - issued > 600:
            headers = bearer(login(self.base_url, *self.logins[who]))
            self.tokens[who] = (time.monotonic(), headers)
        return headers


@dataclass
class Tally:
    """Requests per operation and the problems found (one line each)."""

    requests: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def total(self) -> int:
        return sum(self.requests.values())


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    """``argus-management`` on SQLite (as ``make run``: 2 workers), an admin and a viewer."""
    tmp = tmp_path_factory.mktemp("fuzz")
    cfg = kit.test_config(tmp, ports=StackPorts(management=free_port()))
    secrets = kit.Secrets(
        "fuzz-secret-key-0123456789abcdef", "fuzz-internal-key-0123456789", "admin", ADMIN_PASSWORD
    )
    with (
        kit.redis_namespace("argus-fuzz", kit.REDIS_URL) as namespace,
        launched(tmp / "logs", ROOT) as launcher,
    ):
        kit.start(
            launcher,
            cfg,
            "management",
            kit.base_env(secrets, namespace, kit.REDIS_URL),
            ready=Ready(http=f"{cfg.management_url}/readyz", timeout_s=300),
            DATABASE_URL=f"sqlite+aiosqlite:///{tmp / 'argus.db'}",
            MANAGEMENT_WORKERS="2",
            MANAGEMENT_BCRYPT_ROUNDS="4",
            MANAGEMENT_LIVENESS_ENABLED="false",
            MANAGEMENT_ONVIF_EVENTS="false",
        )
        base = cfg.management_url
        token = login(base, "admin", ADMIN_PASSWORD)
        me = httpx.get(f"{base}/api/v1/users/me", headers=bearer(token), timeout=30)
        dead = free_port()  # nothing listens there: the camera does not answer
        made = httpx.post(
            f"{base}/api/v1/cameras",
            headers=bearer(token),
            timeout=30,
            json={"name": "dead ptz camera", "stream_url": f"rtsp://127.0.0.1:{dead}/main"},
        )
        assert made.status_code == 201, made.text
        camera_id = made.json()["id"]
        # Made ONVIF afterwards: registering an ONVIF camera asks the device itself.
        onvif = httpx.patch(
            f"{base}/api/v1/cameras/{camera_id}",
            headers=bearer(token),
            timeout=30,
            json={"onvif_host": "127.0.0.1", "onvif_port": dead, "has_ptz": True},
        )
        assert onvif.status_code == 200, onvif.text
        create_user(base, token, "fuzz-viewer", VIEWER_PASSWORD, ["viewer"], [camera_id])
        yield Api(
            base,
            int(me.json()["id"]),
            {"admin": ("admin", ADMIN_PASSWORD), "viewer": ("fuzz-viewer", VIEWER_PASSWORD)},
            camera_id,
        )


def _declared(case: Case) -> set[int]:
    return {
        int(code) for code in case.operation.definition.raw.get("responses", {}) if code.isdigit()
    }


def _harmless(case: Case, api: Api) -> bool:
    """Whether ``case`` leaves the fuzzing admin able to go on: its own account is not
    edited (a new password or fewer roles would end or narrow its session)."""
    path = case.operation.path
    if path == "/api/v1/users/me/password":
        return False
    own = (
        str(case.path_parameters.get("user_id")) == str(api.admin_id)
        if case.path_parameters
        else False
    )
    return not (own and path.startswith("/api/v1/users/{user_id}") and case.method != "GET")


def _allowed_s(case: Case) -> float:
    """5 s, or longer for a discovery that was asked to listen longer (``timeout_s``) and
    for a probe that was given a longer connect timeout (``connect_timeout_s``: a device
    that does not answer takes that long, by contract)."""
    asked = {
        "/api/v1/cameras/onvif/discover": "timeout_s",
        "/api/v1/cameras/onvif/probe": "connect_timeout_s",
    }.get(case.operation.path)
    if asked is not None and isinstance(case.body, dict):
        seconds = case.body.get(asked)
        if isinstance(seconds, int | float) and not isinstance(seconds, bool):
            return max(SLOW_S, float(seconds) + SLOW_S)
    return SLOW_S


def judge(case: Case, response: Any, elapsed_s: float, tally: Tally, who: str) -> None:
    """Record the problems of one response (none raised: the run goes on)."""
    label = case.operation.label
    tally.requests[label] = tally.requests.get(label, 0) + 1
    where = f"{who} {case.method} {case.formatted_path} query={case.query} body={case.body!r}"
    status = response.status_code
    tally.statuses[status] = tally.statuses.get(status, 0) + 1
    if status >= 500 and not (status in GATEWAY and status in _declared(case)):
        tally.problems.append(f"{status} {where}: {response.text[:300]}")
    if elapsed_s > _allowed_s(case):
        tally.problems.append(f"slow {elapsed_s:.1f} s {where}")
    try:
        case.validate_response(response, checks=CHECKS)
    except Exception as exc:  # schemathesis' FailureGroup: every failed check
        tally.problems.append(f"schema {status} {where}: {str(exc)[:600]}")


def call(case: Case, api: Api, who: str) -> tuple[Any, float]:
    """Send ``case`` as ``who``. Logout gets a session of its own (it would end the one
    the run uses); a 401 makes the next call log in again (a session ended some other way)."""
    if case.operation.path == "/api/v1/auth/logout":
        headers = bearer(login(api.base_url, *api.logins[who]))
    else:
        headers = api.headers(who)
    started = time.monotonic()
    response = case.call(base_url=api.base_url, headers=headers, timeout=30)
    if response.status_code == 401:
        api.tokens.pop(who, None)
    return response, time.monotonic() - started


def run_stateless(api: Api, who: str, modes: tuple[GenerationMode, ...]) -> Tally:
    """Every operation, ``EXAMPLES`` cases per generation mode."""
    schema = schemathesis.openapi.from_url(f"{api.base_url}/api/v1/openapi.json", timeout=60)
    tally = Tally()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in modes:

            @FUZZ
            @given(operation.as_strategy(generation_mode=mode))
            def check(case: Case) -> None:
                if _harmless(case, api):
                    response, elapsed = call(case, api, who)
                    judge(case, response, elapsed, tally, who)

            try:
                check()
            except Unsatisfiable:
                # Nothing of this operation can be made invalid (no parameters, no body).
                assert mode is GenerationMode.NEGATIVE, operation.label
    return tally


def run_stateful(api: Api) -> Tally:
    """Scenarios along the links schemathesis infers between the operations."""
    schema = schemathesis.openapi.from_url(f"{api.base_url}/api/v1/openapi.json", timeout=60)
    tally = Tally()

    class Machine(schema.as_state_machine()):  # type: ignore[misc]
        def step(self, input: Any) -> Any:
            case = input.case
            if not _harmless(case, api):
                return None
            response, elapsed = call(case, api, "admin")
            judge(case, response, elapsed, tally, "admin, stateful")
            return StepOutput(response, case)

    Machine.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=6,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
    )
    return tally


def _report(name: str, tally: Tally) -> None:
    print(
        f"schemathesis {name}: {tally.total()} requests over {len(tally.requests)} "
        f"operations, {len(tally.problems)} problems; statuses {sorted(tally.statuses.items())}"
    )
    for problem in tally.problems[:40]:
        print("  " + problem)


def test_a_dead_camera_is_a_declared_gateway_error(api: Api) -> None:
    """What the fuzzing rarely reaches: PTZ on a camera that does not answer is a 502/504
    in the envelope, and the device routes declare 502 and 504. (First: the fuzzing may
    delete the camera.)"""
    with httpx.Client(base_url=api.base_url, headers=api.headers("admin"), timeout=30) as client:
        ptz = f"/api/v1/cameras/{api.dead_camera_id}/ptz"
        lock = client.post(f"{ptz}/lock")
        assert lock.status_code == 200, lock.text
        moved = client.post(
            f"{ptz}/move",
            json={"mode": "continuous", "pan": 0.5, "tilt": 0, "zoom": 0, "timeout_s": 1},
        )
        client.delete(f"{ptz}/lock")
        spec = client.get("/api/v1/openapi.json").json()["paths"]
    assert moved.status_code in (502, 504), moved.text
    assert set(moved.json()) == {"error", "detail"}
    device_routes = [
        ("/api/v1/cameras/onvif/probe", "post"),
        ("/api/v1/cameras", "post"),
        ("/api/v1/cameras/{camera_id}/ptz/move", "post"),
        ("/api/v1/cameras/{camera_id}/ptz/status", "get"),
        ("/api/v1/cameras/{camera_id}/ptz/presets", "get"),
    ]
    for path, method in device_routes:
        assert {"502", "504"} <= set(spec[path][method]["responses"]), path


def test_admin_every_operation(api: Api) -> None:
    """As an admin, valid and invalid input on every operation: no undeclared 5xx, every
    answer as the schema declares it, none slower than 5 s."""
    tally = run_stateless(api, "admin", (GenerationMode.POSITIVE, GenerationMode.NEGATIVE))
    _report("admin", tally)
    assert len(tally.requests) >= 90
    assert tally.problems == []


def test_admin_stateful_links(api: Api) -> None:
    """As an admin, chains of calls along the inferred links (created ids reused)."""
    tally = run_stateful(api)
    _report("admin, stateful", tally)
    assert tally.total() >= STATEFUL_SCENARIOS
    assert tally.problems == []


def test_viewer_every_operation(api: Api) -> None:
    """As a viewer (most operations are refused): the refusals are declared errors too."""
    tally = run_stateless(api, "viewer", (GenerationMode.POSITIVE,))
    _report("viewer", tally)
    assert len(tally.requests) >= 90
    assert tally.problems == []
