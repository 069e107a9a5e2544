"""Edge recording backfill against real processes: a camera simulator with edge storage
(ONVIF Profile G), management (PostgreSQL, Redis) and a recorder, stopped by PID.

Each case cuts one camera's network (``network_down``: its RTSP and ONVIF stop answering
while it keeps recording on its own storage) for ``OUTAGE_S`` seconds, then checks within
``BOUND_S`` after the camera is back: the timeline has no gap over the outage, the outage
is covered by backfilled segments that decode (ffprobe), whose burnt-in stamps match their
index times within one frame, and that overlap no live segment at either edge. The same
with the recorder killed (-9) halfway through the backfill, and with a second outage
during it; a camera without Profile G keeps its gap. The backfill is held to about twice
real time (``RECORDING_BACKFILL_LINK_MBPS``) so the middle of it can be caught.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from recstack import (
    WATCHED,
    Database,
    Proc,
    _start,
    admin_api,
    burnt_stamps,
    drop_namespace,
    free_port,
    start_management,
    start_recorder,
    wait_until,
)

from argus_testkit import stack as kit
from argus_testkit.process import Ready
from argus_testkit.tools import needs

pytestmark = [pytest.mark.timeout(900), needs("ffprobe")]

FPS = 15
FRAME_MS = 1000 / FPS
OUTAGE_S = float(os.environ.get("ARGUS_BACKFILL_OUTAGE_S", "20"))
BOUND_S = 120.0  # after the camera is back
RECORDER = {
    "RECORDING_SEGMENT_SECONDS": "5", "RECORDING_LEASE_TTL_S": "3",
    "RECORDINGS_MIN_FREE_BYTES": "0", "RECORDING_MIN_FREE_PERCENT": "0",
    "RECORDING_CAMERA_REFRESH_S": "30",
    # ~0.26 Mbit/s streams: a 0.5 Mbit/s cap replays at about twice real time.
    "RECORDING_BACKFILL_LINK_MBPS": os.environ.get("ARGUS_BACKFILL_LINK_MBPS", "1"),
    "RECORDING_BACKFILL_SHARE": "0.5",
}


@dataclass
class Stack:
    db: Database
    namespace: str
    api: httpx.Client
    recordings: Path
    control: str
    management: str
    cameras: dict[str, int]
    recorder: tuple[Proc, str] | None = None
    started: list[Proc] = field(default_factory=list)

    def start_recorder(self) -> None:
        self.recorder = start_recorder(self.namespace, self.management, self.recordings,
                                       "rec-bf", **RECORDER)
        self.started.append(self.recorder[0])
        WATCHED[:] = [self.recorder[0]]

    def status(self) -> dict[str, Any]:
        assert self.recorder is not None
        return dict(httpx.get(f"{self.recorder[1]}/status", timeout=5).json())

    def network(self, cam: str, down: bool) -> None:
        resp = httpx.post(f"{self.control}/faults/{cam}", json={"network_down": down},
                          timeout=10)
        assert resp.status_code == 200, resp.text

    def timeline(self, camera_id: int, start: datetime, end: datetime,
                 resolution_s: float | None = None) -> dict[str, Any]:
        params: dict[str, Any] = {"start": start.isoformat(), "end": end.isoformat()}
        if resolution_s:
            params["resolution_s"] = resolution_s
        resp = self.api.get(f"/api/v1/cameras/{camera_id}/timeline", params=params)
        assert resp.status_code == 200, resp.text
        return dict(resp.json())

    def rows(self, camera_id: int) -> list[dict[str, Any]]:
        return self.db.fetch(
            "SELECT path, started_at, ended_at, backfilled FROM recording_segments "
            "WHERE camera_id = $1 AND deleted_at IS NULL ORDER BY started_at", camera_id)

    def errors(self) -> list[str]:
        return [line for proc in self.started for line in proc.output
                if ('"level": "error"' in line or "Traceback" in line)
                and '"route": "/readyz"' not in line]


def start_simulator(cameras: int) -> tuple[Proc, int, int, dict[str, int]]:
    rtsp, control = free_port(), free_port()
    argv = [str(Path(os.sys.executable).parent / "argus-camsim"), "--cameras", str(cameras),
            "--host", "127.0.0.1", "--rtsp-port", str(rtsp), "--control-port", str(control),
            "--onvif-port", "0", "--resolution", "320x180", "--fps", str(FPS), "--gop", "1",
            "--edge-minutes", str(max(3.0, OUTAGE_S * 3 / 60 + 1)), "--linger", "2"]
    proc = _start("camera-simulator", argv, dict(os.environ),
                  Ready(line=kit.CAMSIM_READY, timeout_s=90))
    info = json.loads(proc.ready_line or "{}")
    return proc, int(info["rtsp_port"]), int(info["control_port"]), info["onvif_ports"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    base = tmp_path_factory.mktemp("backfill")
    namespace = f"argus-bf-{uuid.uuid4().hex[:8]}"
    db = Database()
    db.create()
    procs: list[Proc] = []
    stack: Stack | None = None
    try:
        mgmt, mgmt_url = start_management(db, namespace, base / "data")
        procs.append(mgmt)
        sim, rtsp, control, onvif = start_simulator(4)
        procs.append(sim)
        api = admin_api(mgmt_url)
        cameras = {}
        for n in range(1, 5):
            body: dict[str, Any] = {
                "name": f"cam{n}", "stream_url": f"rtsp://127.0.0.1:{rtsp}/cam{n}/main",
                "recording_mode": "continuous", "connect_timeout_s": 1.5,
                "read_timeout_s": 1.5,
            }
            if n != 4:  # cam4: no ONVIF address, so no Profile G: the gap stays
                body |= {"onvif_host": "127.0.0.1", "onvif_port": onvif[f"cam{n}"]}
            resp = api.post("/api/v1/cameras", json=body)
            assert resp.status_code == 201, resp.text
            cameras[f"cam{n}"] = resp.json()["id"]
        stack = Stack(db, namespace, api, base / "recordings", f"http://127.0.0.1:{control}",
                      mgmt_url, cameras)
        stack.start_recorder()
        yield stack
    finally:
        errors: list[str] = []
        if stack is not None:
            for proc in stack.started:
                proc.stop()
            stack.api.close()
            errors = stack.errors()
        for proc in reversed(procs):
            proc.stop()
        drop_namespace(namespace)
        db.drop()
    assert not errors, "the recorder logged errors:\n" + "\n".join(errors[:20])


def _ms(value: datetime) -> float:
    return value.timestamp() * 1000


def _recording(stack: Stack, camera_id: int, seconds: float) -> None:
    """Wait until the camera has ``seconds`` of live recording indexed."""
    def enough() -> bool:
        rows = stack.rows(camera_id)
        return bool(rows) and _ms(rows[-1]["ended_at"]) - _ms(rows[0]["started_at"]) >= \
            seconds * 1000
    wait_until(enough, 90, 1.0, f"{seconds} s recorded")


def _outage(stack: Stack, cam: str, seconds: float) -> tuple[datetime, datetime]:
    down = datetime.now(UTC)
    stack.network(cam, True)
    time.sleep(seconds)
    stack.network(cam, False)
    return down, datetime.now(UTC)


def _no_gap(stack: Stack, camera_id: int, down: datetime, up: datetime) -> bool:
    """The summary timeline (2 s resolution: a GOP) shows no gap from before the outage
    to after it, and some of it is backfilled."""
    body = stack.timeline(camera_id, down - timedelta(seconds=4), up + timedelta(seconds=4), 2)
    return not body["gaps"] and bool(body["backfilled"]) and len(body["recordings"]) == 1


def _decode(path: Path) -> tuple[int, int | None, int | None]:
    probe = subprocess.run(["ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
                            "-show_entries", "stream=nb_read_frames", "-of", "csv=p=0",
                            str(path)], capture_output=True, text=True, timeout=60)
    assert probe.returncode == 0 and not probe.stderr.strip(), (path, probe.stderr)
    count, first, last = burnt_stamps(path)
    assert count == int(probe.stdout.strip()), (count, probe.stdout)
    return count, first, last


def _check_backfill(stack: Stack, camera_id: int, down: datetime, up: datetime) -> None:
    rows = stack.rows(camera_id)
    filled = [r for r in rows if r["backfilled"]]
    assert filled, "no backfilled segment"
    # No overlap anywhere (live or backfilled), so none at either edge of the outage.
    for before, after in itertools.pairwise(rows):
        assert _ms(before["ended_at"]) <= _ms(after["started_at"]) + 1, (before, after)
    # Each edge: a live segment ends where the first backfilled one (the bridge re-encoded
    # up to the first keyframe in the gap) starts, within a frame, and the live recording
    # resumes where the last one ends.
    first, last = filled[0], filled[-1]
    i, j = rows.index(first), rows.index(last)
    assert i > 0 and not rows[i - 1]["backfilled"]
    assert 0 <= _ms(first["started_at"]) - _ms(rows[i - 1]["ended_at"]) <= FRAME_MS
    assert j + 1 < len(rows) and not rows[j + 1]["backfilled"]
    # The backfill ends with the frame before the live segment's first keyframe (found by
    # its bytes). The live path stamps that keyframe with its capture time from the
    # camera's RTCP sender report, not its arrival (a loaded run received it 1015 ms after
    # its capture), so the index shows no hole: the two meet within a frame (1 ms of
    # rounding either way).
    trailing = _ms(rows[j + 1]["started_at"]) - _ms(last["ended_at"])
    print(f"backfill edges: leading {_ms(first['started_at']) - _ms(rows[i - 1]['ended_at'])}"
          f" ms, trailing {trailing} ms")
    assert -1 <= trailing <= FRAME_MS, (last, rows[j + 1])
    # Frame by frame (burnt-in capture times): the first backfilled frame is the one after
    # the last live frame, the first live frame after the outage the one after the last
    # backfilled frame: none lost, none twice.
    live_before = _decode(stack.recordings / rows[i - 1]["path"])[2]
    live_after = _decode(stack.recordings / rows[j + 1]["path"])[1]
    first_filled = _decode(stack.recordings / first["path"])[1]
    last_filled = _decode(stack.recordings / last["path"])[2]
    assert None not in (live_before, live_after, first_filled, last_filled)
    assert FRAME_MS / 2 < first_filled - live_before < 1.5 * FRAME_MS, (  # type: ignore[operator]
        live_before, first_filled)
    assert FRAME_MS / 2 < live_after - last_filled < 1.5 * FRAME_MS, (  # type: ignore[operator]
        last_filled, live_after)
    for row in filled:
        count, first_stamp, last_stamp = _decode(stack.recordings / row["path"])
        assert count > 0 and first_stamp is not None and last_stamp is not None, row
        assert abs(first_stamp - _ms(row["started_at"])) <= FRAME_MS, (row, first_stamp)
        assert abs(last_stamp + FRAME_MS - _ms(row["ended_at"])) <= FRAME_MS, (row, last_stamp)


def test_outage_is_backfilled_from_the_camera(stack: Stack) -> None:
    cam = stack.cameras["cam1"]
    _recording(stack, cam, 8)
    down, up = _outage(stack, "cam1", OUTAGE_S)
    wait_until(lambda: _no_gap(stack, cam, down, up), BOUND_S, 2.0, "the outage backfilled")
    _check_backfill(stack, cam, down, up)


@pytest.mark.chaos  # make chaos: keeps make test's run time down
def test_backfill_resumes_after_kill_9(stack: Stack) -> None:
    cam = stack.cameras["cam2"]
    _recording(stack, cam, 8)
    down, up = _outage(stack, "cam2", OUTAGE_S)
    # Halfway: the first backfilled segment is on disk, more are to come.
    wait_until(lambda: any(r["backfilled"] for r in stack.rows(cam)), BOUND_S, 0.5,
               "a first backfilled segment")
    assert stack.recorder is not None
    assert str(cam) in stack.status()["backfill"]["pending"]
    stack.recorder[0].kill()
    stack.start_recorder()
    wait_until(lambda: _no_gap(stack, cam, down, up), BOUND_S, 2.0, "the backfill resumed")
    _check_backfill(stack, cam, down, up)


@pytest.mark.chaos  # make chaos: keeps make test's run time down
def test_second_outage_during_backfill(stack: Stack) -> None:
    cam = stack.cameras["cam3"]
    _recording(stack, cam, 8)
    down, _up = _outage(stack, "cam3", OUTAGE_S)
    wait_until(lambda: any(r["backfilled"] for r in stack.rows(cam)), BOUND_S, 0.5,
               "the backfill under way")
    _down2, up2 = _outage(stack, "cam3", OUTAGE_S / 2)
    wait_until(lambda: _no_gap(stack, cam, down, up2), BOUND_S + OUTAGE_S, 2.0,
               "both outages backfilled")
    _check_backfill(stack, cam, down, up2)


def test_camera_without_profile_g_keeps_its_gap(stack: Stack) -> None:
    cam = stack.cameras["cam4"]
    _recording(stack, cam, 8)
    down, up = _outage(stack, "cam4", 6)
    # The live recording resumed and a later segment is indexed: the gap is final.
    wait_until(lambda: _ms(stack.rows(cam)[-1]["started_at"]) > _ms(up), 60, 1.0,
               "live again")
    body = stack.timeline(cam, down - timedelta(seconds=4), up + timedelta(seconds=4), 2)
    assert body["gaps"] and not body["backfilled"]
    assert not any(r["backfilled"] for r in stack.rows(cam))
