"""Fixtures for the recording tests.

``stack``: the scenario of the test_recording_*_e2e modules, one per module. Management
(PostgreSQL, Redis), a camera simulator with four Digest-protected cameras (cam3 records on
events, the others continuously) and recorder rec-a run as real processes on 127.0.0.1 and
are stopped by PID at the end; teardown fails when any recorder logged an error. Modules
with a stack of their own (backfill, tiering) define their own ``stack`` fixture.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from recstack import (
    CAMERA_PASSWORD,
    FPS,
    Database,
    Proc,
    Stack,
    admin_api,
    drop_namespace,
    start_management,
    start_simulator,
)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("recording")
    namespace = f"argus-rec-{uuid.uuid4().hex[:8]}"
    db = Database()
    db.create()
    procs: list[Proc] = []
    stack: Stack | None = None
    try:
        mgmt, mgmt_url = start_management(db, namespace, base / "data")
        procs.append(mgmt)
        sim, rtsp, control = start_simulator(
            4,
            "--resolution",
            "320x180",
            "--fps",
            str(FPS),
            "--gop",
            "1",
            "--audio",
            "--auth",
            "digest",
            "--username",
            "cam admin",
            "--password",
            CAMERA_PASSWORD,
        )
        procs.append(sim)
        api = admin_api(mgmt_url)
        cameras = {}
        for n, mode in ((1, "continuous"), (2, "continuous"), (3, "events"), (4, "continuous")):
            resp = api.post(
                "/api/v1/cameras",
                json={
                    "name": f"cam{n}",
                    "stream_url": f"rtsp://127.0.0.1:{rtsp}/cam{n}/main",
                    "username": "cam admin",
                    "password": CAMERA_PASSWORD,
                    "recording_mode": mode,
                    # Short timeouts only where faults are injected: elsewhere a loaded machine
                    # must not turn into reconnects.
                    "connect_timeout_s": 1.5 if n == 2 else 3.0,
                    "read_timeout_s": 1.0 if n == 2 else 3.0,
                },
            )
            assert resp.status_code == 201, resp.text
            cameras[f"cam{n}"] = resp.json()["id"]
        stack = Stack(
            db,
            namespace,
            api,
            base / "recordings",
            f"http://127.0.0.1:{control}",
            mgmt_url,
            cameras,
        )
        stack.start_recorder("rec-a")
        yield stack
    finally:
        errors: list[str] = []
        if stack is not None:
            for proc in stack.started:  # every recorder ever started here, by PID
                proc.stop()
            stack.api.close()
            errors = stack.errors()
        for proc in reversed(procs):
            proc.stop()
        drop_namespace(namespace)
        db.drop()
    assert not errors, "recorders logged errors:\n" + "\n".join(errors[:20])
