"""RTMP push end to end, every process real (bench/rtmp_stack.py): management on
PostgreSQL, Debian's nginx with the rendered nginx-rtmp template calling management's hooks,
recording-service and streaming-service; pushes from ffmpeg and from PyAV.

- a 720p30 H.264 + AAC ffmpeg push: hook called, camera registered for its owner, the
  emergency alert on /ws/alerts, the audit row, live WHEP frames while pushing, and after
  the push an event recording that decodes;
- a PyAV push carrying a burnt-in clock, seen over WHEP, while a second publisher on the
  same name is refused;
- revoking the key drops a running publisher;
- invalid key, no key, bad names: the pusher is refused and nothing is registered;
- the configuration template: rendered values checked, nginx accepts it, keys stay out.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import av
import httpx
import pytest
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
from rtmp_stack import (
    INTERNAL,
    NGINX,
    RtmpStack,
    StampedPusher,
    ffmpeg_push,
    ffprobe_frames,
    free_port,
    operator_with_key,
    rtmp_stack,
)
from whep_client import whep_close, whep_connect

from argus_camsim.stamp import read_timestamp_ms
from argus_common.service_keys import derive_service_key

pytestmark = pytest.mark.timeout(150)
NGINX_RTMP = Path(__file__).resolve().parents[1] / "nginx-rtmp"


@pytest.fixture(scope="module")
def stack() -> Iterator[RtmpStack]:
    with rtmp_stack() as s:
        yield s


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _until(check: Any, timeout_s: float, what: str) -> Any:
    """Await ``check()`` (a coroutine function) until truthy, bounded in time."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.2)


async def _wait_exit(proc: Any, timeout_s: float) -> int:
    return int(await asyncio.to_thread(proc.wait, timeout_s))


async def _events(api: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    """The camera's rtmp.* events (the media services also report stream.up/down)."""
    resp = await api.get("/api/v1/events", params={"limit": 100, **params})
    assert resp.status_code == 200, resp.text
    return [e for e in resp.json()["items"] if e["type"].startswith("rtmp.")]


async def _rtmp_camera(api: httpx.AsyncClient, name: str) -> dict[str, Any] | None:
    """The publisher's camera as its owner sees it (named ``RTMP <stream name>``): found by
    name, since an owner without ``cameras:write`` is not shown the internal stream URL."""
    items = (await api.get("/api/v1/cameras", params={"limit": 500})).json()["items"]
    camera = next((c for c in items if c["kind"] == "rtmp" and c["name"] == f"RTMP {name}"),
                  None)
    assert camera is None or camera["stream_url"] == "", "the internal RTMP URL leaked"
    return camera


async def test_ffmpeg_720p_push_is_announced_live_and_recorded(stack: RtmpStack) -> None:
    owner, key = await asyncio.to_thread(operator_with_key, stack, "phone720")
    ws_url = stack.management.replace("http", "ws") + f"/ws/alerts?token={stack.admin_token}"
    async with connect(ws_url) as ws:
        assert json.loads(await ws.recv())["type"] == "ready"
        pusher = ffmpeg_push(stack.rtmp_url("phone720", key["key"]), seconds=10)
        try:
            async with asyncio.timeout(15):
                while True:
                    alert = json.loads(await ws.recv())
                    if alert["type"] == "alert.rtmp.received":
                        break
        except BaseException:
            pusher.kill()
            raise
    assert alert["severity"] == "critical" and alert["title"] == "RTMP stream received"
    camera_id = alert["camera_id"]
    async with httpx.AsyncClient(base_url=stack.management, headers=_auth(owner),
                                 timeout=10) as api:
        camera = await _rtmp_camera(api, "phone720")
        assert camera is not None and camera["id"] == camera_id
        assert camera["recording_mode"] == "events" and camera["status"] == "online"
        # Live while it is being pushed.
        async with httpx.AsyncClient(base_url=stack.streaming, timeout=15) as streaming:
            resp, viewer = await whep_connect(streaming, f"/whep/{camera_id}", _auth(owner))
            assert resp.status_code == 201, resp.text
            assert viewer is not None
            frames = await viewer.frames(10, 15)
            assert (frames[-1].width, frames[-1].height) == (1280, 720)  # type: ignore[attr-defined]
            await whep_close(streaming, viewer, _auth(owner))
        rc = await _wait_exit(pusher, 30)
        assert rc == 0, pusher.stderr.read().decode() if pusher.stderr else rc

        async def ended() -> list[dict[str, Any]] | None:
            events = await _events(api, camera_id=camera_id)
            types = sorted(e["type"] for e in events)
            return events if types == ["rtmp.publish", "rtmp.unpublish"] else None

        events = await _until(ended, 15, "rtmp.unpublish")
        publish = next(e for e in events if e["type"] == "rtmp.publish")
        unpublish = next(e for e in events if e["type"] == "rtmp.unpublish")
        assert publish["ended_at"] is not None
        assert unpublish["payload"]["publish_event_id"] == publish["id"]
        assert (await api.get(f"/api/v1/cameras/{camera_id}")).json()["status"] == "offline"

        async def recorded() -> list[dict[str, Any]] | None:
            now = datetime.now(UTC)
            resp = await api.get(f"/api/v1/cameras/{camera_id}/timeline", params={
                "start": (now - timedelta(minutes=5)).isoformat(), "end": now.isoformat()})
            segments = [s for s in resp.json().get("segments", []) if s["kind"] == "event"]
            total = sum(s["end"] > s["start"] for s in segments)
            return segments if total and _covers(segments, 6.0) else None

        segments = await _until(recorded, 25, "the event recording")
    with stack.api() as admin:
        audit = admin.get("/api/v1/audit", params={"action": "rtmp.publish"}).json()["items"]
    assert any(a["target_id"] == str(camera_id) and a["result"] == "success" for a in audit)
    assert key["key"] not in json.dumps(audit)
    decoded = 0
    for segment in segments:
        path = stack.recordings / segment["path"]
        with av.open(str(path)) as container:
            for frame in container.decode(video=0):
                assert (frame.width, frame.height) == (1280, 720)
                decoded += 1
        assert ffprobe_frames(path) > 0
    assert decoded >= 150, decoded  # at least 5 s of the 10 s push at 30 fps


def _covers(segments: list[dict[str, Any]], seconds: float) -> bool:
    span = sum((datetime.fromisoformat(s["end"]) - datetime.fromisoformat(s["start"]))
               .total_seconds() for s in segments)
    return span >= seconds


async def test_pyav_push_with_clock_and_a_second_publisher_refused(stack: RtmpStack) -> None:
    owner, key = await asyncio.to_thread(operator_with_key, stack, "pyav-phone")
    url = stack.rtmp_url("pyav-phone", key["key"])
    pusher = StampedPusher(url, seconds=8)
    pusher.start()
    try:
        async with httpx.AsyncClient(base_url=stack.management, headers=_auth(owner),
                                     timeout=10) as api:
            camera = await _until(lambda: _rtmp_camera(api, "pyav-phone"), 10, "the camera")
            second = ffmpeg_push(url, seconds=3, size="320x180", audio=False)
            async with httpx.AsyncClient(base_url=stack.streaming, timeout=15) as streaming:
                resp, viewer = await whep_connect(streaming, f"/whep/{camera['id']}",
                                                  _auth(owner))
                assert resp.status_code == 201, resp.text
                assert viewer is not None
                timed = await viewer.timed_frames(30, 15)
                await whep_close(streaming, viewer, _auth(owner))
            assert await _wait_exit(second, 15) != 0  # "Already publishing"
            stamps = []
            for frame, arrived in timed:
                y = frame.to_ndarray(format="gray")  # type: ignore[attr-defined]
                ms = read_timestamp_ms(y, frame.width, frame.height)  # type: ignore[attr-defined]
                if ms is not None:
                    stamps.append(arrived - ms)
            assert len(stamps) >= 20 and all(0 <= d < 5000 for d in stamps), stamps
            await asyncio.to_thread(pusher.join, 20)
            assert pusher.error is None and pusher.frames_sent >= 200

            async def done() -> list[dict[str, Any]] | None:
                events = await _events(api, camera_id=camera["id"])
                return events if any(e["type"] == "rtmp.unpublish" for e in events) else None

            events = await _until(done, 15, "rtmp.unpublish")
            assert sorted(e["type"] for e in events) == ["rtmp.publish", "rtmp.unpublish"]
    finally:
        pusher.stop_flag.set()


async def test_revoking_the_key_drops_the_publisher(stack: RtmpStack) -> None:
    owner, key = await asyncio.to_thread(operator_with_key, stack, "revoked")
    pusher = ffmpeg_push(stack.rtmp_url("revoked", key["key"]), seconds=30, size="320x180",
                         audio=False)
    try:
        async with httpx.AsyncClient(base_url=stack.management, headers=_auth(owner),
                                     timeout=10) as api:
            await _until(lambda: _rtmp_camera(api, "revoked"), 10, "the camera")
            assert (await api.delete(f"/api/v1/rtmp/keys/{key['id']}")).status_code == 204
            started = time.monotonic()
            # nginx asks on_update every 2 s here: the next one is refused, nginx drops it.
            assert await _wait_exit(pusher, 15) != 0
            assert time.monotonic() - started < 10
    finally:
        if pusher.poll() is None:
            pusher.kill()
            pusher.wait(5)


@pytest.mark.parametrize(("name", "key"), [
    ("phone-x", "not-the-key-not-the-key-not-the-1"),
    ("phone-x", None),
    ("bad.name", "KEY"),
    ("a" * 65, "KEY"),
])
async def test_refused_pushes_register_nothing(
    stack: RtmpStack, name: str, key: str | None
) -> None:
    _, real = await asyncio.to_thread(operator_with_key, stack,
                                      f"phone-x-{time.monotonic_ns() % 10**6}")
    with stack.api() as admin:
        before_cams = admin.get("/api/v1/cameras", params={"limit": 500}).json()["total"]
        before_events = admin.get("/api/v1/events").json()["total"]
    pusher = ffmpeg_push(stack.rtmp_url(name, real["key"] if key == "KEY" else key),
                         seconds=3, size="320x180", audio=False)
    assert await _wait_exit(pusher, 15) != 0
    await asyncio.sleep(0.5)  # anything registered by mistake would show by now
    with stack.api() as admin:
        assert admin.get("/api/v1/cameras", params={"limit": 500}).json()["total"] == before_cams
        assert admin.get("/api/v1/events").json()["total"] == before_events
        denied = admin.get("/api/v1/audit", params={"action": "rtmp.publish"}).json()["items"]
    assert any(a["result"] == "denied" for a in denied)
    hook_key = derive_service_key(INTERNAL, "rtmp")  # the RTMP server's own credential
    encoded = quote(hook_key, safe="")
    for proc in stack.procs:  # nothing logs a stream key, the master or the hook credential
        log = proc.tail(200)
        for secret in (real["key"], INTERNAL, hook_key, encoded, "internal_key"):
            assert secret not in log, (proc.name, secret)
    assert "rtmp_publish_refused" in stack.proc("management").tail(200)


def _render(out: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(NGINX_RTMP / "render-conf.sh"), str(NGINX_RTMP / "nginx.conf.template"),
         str(out)],
        env={"PATH": os.environ["PATH"], **env}, capture_output=True, text=True, timeout=30)


def test_rendered_configuration_is_valid_and_keeps_keys_out_of_logs(tmp_path: Path) -> None:
    out = tmp_path / "nginx.conf"
    result = _render(out, MANAGEMENT_URL="http://127.0.0.1:8001/",
                     ARGUS_SERVICE_KEY="rtmp.k;e y/+\u00e9",
                     RTMP_PORT=str(free_port()), RTMP_PLAY_ALLOW="172.28.0.0/16, 10.0.0.5",
                     RTMP_PID_FILE=str(tmp_path / "nginx.pid"))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600  # it holds the internal key
    text = out.read_text()
    assert re.search(r"\$\{[A-Z_]+\}", text) is None  # every placeholder filled in
    assert "on_publish http://127.0.0.1:8001/internal/rtmp/on_publish?internal_key=" \
           "rtmp.k%3Be%20y%2F%2B%C3%A9;" in text
    for line in ("load_module /usr/lib/nginx/modules/ngx_rtmp_module.so;",
                 "allow play 127.0.0.1;", "allow play 172.28.0.0/16;", "allow play 10.0.0.5;",
                 "deny play all;", "allow publish all;", "error_log stderr notice;",
                 "access_log off;", "drop_idle_publisher 10s;", "notify_update_timeout 10s;"):
        assert line in text, line
    checked = subprocess.run([NGINX, "-t", "-p", f"{tmp_path}/", "-c", str(out), "-e", "stderr"],
                             capture_output=True, text=True, timeout=30)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("bad", [
    {"MANAGEMENT_URL": ""}, {"ARGUS_SERVICE_KEY": ""}, {"MANAGEMENT_URL": "https://m:1"},
    # Only the rtmp credential (its one scope is the hooks), never the master or another's.
    {"ARGUS_SERVICE_KEY": "k" * 32}, {"ARGUS_SERVICE_KEY": "recording." + "k" * 43},
    {"MANAGEMENT_URL": "http://m:1/x;y"}, {"RTMP_PORT": "99999"}, {"RTMP_PORT": "1935;"},
    {"RTMP_PLAY_ALLOW": "all"}, {"RTMP_PLAY_ALLOW": "10.0.0.1; allow publish"},
    {"RTMP_LOG_LEVEL": "info"}, {"RTMP_LOG_LEVEL": "debug"}, {"RTMP_ERROR_LOG": "x y"},
    {"RTMP_UPDATE_INTERVAL_S": "0"},
])
def test_render_refuses_unusable_values(tmp_path: Path, bad: dict[str, str]) -> None:
    env = {"MANAGEMENT_URL": "http://127.0.0.1:8001", "ARGUS_SERVICE_KEY": "rtmp." + "k" * 43,
           **bad}
    result = _render(tmp_path / "nginx.conf", **env)
    assert result.returncode != 0 and not (tmp_path / "nginx.conf").exists()


def test_image_is_debian_nginx_with_debian_rtmp_module() -> None:
    dockerfile = (NGINX_RTMP / "Dockerfile").read_text()
    assert "FROM debian:bookworm-slim" in dockerfile
    assert "apt-get install -y --no-install-recommends nginx libnginx-mod-rtmp" in dockerfile
    assert shutil.which("envsubst"), "gettext-base provides envsubst"
