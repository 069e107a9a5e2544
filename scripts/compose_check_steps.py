"""What ``make compose-check`` does against the running Compose stack, from this host and
only through the ports Compose publishes: the console's HTTPS port (login, API, WHEP
signalling), the WebRTC UDP range and RTMP's 1935. scripts/compose_check.py runs these.

Every wait is bounded by a deadline; nothing sleeps where an answer can be awaited.
"""

from __future__ import annotations

import asyncio
import hashlib
import shutil
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
from compose_check_engine import CheckFailed

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "streaming-service" / "tests"))

T = TypeVar("T")
CAMERA_NAME = "compose-check camera"
RTMP_STREAM = "compose-check-phone"


async def wait_for(check: Callable[[], Awaitable[T | None]], what: str, timeout_s: float,
                   interval_s: float = 1.0) -> T:
    """Call ``check`` until it returns something other than None/False, at most
    ``timeout_s`` seconds (connection errors count as 'not yet')."""
    deadline = time.monotonic() + timeout_s
    last: str = ""
    while True:
        try:
            value = await check()
        except (httpx.HTTPError, OSError, KeyError, ValueError) as exc:
            value, last = None, f"{type(exc).__name__}: {exc}"
        if value is not None and value is not False:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout_s:.0f} s waiting for {what}"
                              + (f" (last error: {last})" if last else ""))
        await asyncio.sleep(interval_s)


def certificate_fingerprint(host: str, port: int) -> str:
    """SHA-256 of the certificate the server presents, as openssl prints it (AA:BB:…)."""
    pem = ssl.get_server_certificate((host, port), timeout=5)
    digest = hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


@dataclass
class Console:
    """An API client through the console's published HTTPS port."""

    origin: str
    client: httpx.AsyncClient
    headers: dict[str, str]

    async def get(self, path: str, **params: Any) -> Any:
        resp = await self.client.get(path, headers=self.headers, params=params)
        resp.raise_for_status()
        return resp.json()


async def login(origin: str, username: str, password: str) -> Console:
    """Log in through the console (self-signed certificate: its fingerprint is checked
    against the one the container logged, by the caller)."""
    client = httpx.AsyncClient(base_url=origin, timeout=15, verify=False)  # noqa: S501
    resp = await client.post("/api/v1/auth/login",
                             data={"username": username, "password": password})
    if resp.status_code != 200:
        await client.aclose()
        raise CheckFailed(f"login through the console: HTTP {resp.status_code} {resp.text[:200]}")
    token = resp.json()["access_token"]
    return Console(origin, client, {"Authorization": f"Bearer {token}"})


async def console_redirects(http_origin: str, https_port: int) -> str:
    """The plain HTTP port answers with a redirect to the HTTPS port."""
    async with httpx.AsyncClient(timeout=10) as client:
        resp = await client.get(f"{http_origin}/")
    location = resp.headers.get("location", "")
    if resp.status_code not in (301, 302, 307, 308) or f":{https_port}/" not in location:
        raise CheckFailed(f"HTTP {resp.status_code} from {http_origin}, location {location!r}")
    return location


async def demo_cameras(console: Console, timeout_s: float) -> list[str]:
    """The demo profile's cameras, registered by demo-register."""
    async def names() -> list[str] | None:
        body = await console.get("/api/v1/cameras", limit=500)
        found = [c["name"] for c in body["items"] if c["name"].startswith("Demo camera")]
        return found if len(found) >= 2 else None

    return await wait_for(names, "the demo cameras (demo-register)", timeout_s)


async def add_camera(console: Console) -> int:
    """A camera on the demo simulator's second stream, added through the API."""
    resp = await console.client.post("/api/v1/cameras", headers=console.headers, json={
        "name": CAMERA_NAME,
        "stream_url": "rtsp://camera-simulator:8554/cam2/main",
        "sub_stream_url": "rtsp://camera-simulator:8554/cam2/sub",
        "username": "admin", "password": "admin",
    })
    if resp.status_code != 201:
        raise CheckFailed(f"adding a camera: HTTP {resp.status_code} {resp.text[:300]}")
    return int(resp.json()["id"])


def _public_candidates_only(answer: str, address: str) -> str:
    """The answer without candidates on any other address: the media must come through
    the published UDP range at ``address``, not straight from the container's address."""
    lines = [line for line in answer.splitlines()
             if not line.startswith("a=candidate:") or line.split()[4] == address]
    if not any(line.startswith("a=candidate:") for line in lines):
        raise CheckFailed(f"the WHEP answer has no candidate at {address} "
                          "(STREAMING_PUBLIC_IP)")
    return "\r\n".join(lines) + "\r\n"


async def whep_frame(console: Console, camera_id: int, public_ip: str,
                     port_range: tuple[int, int], timeout_s: float) -> str:
    """One decoded video frame over WebRTC: signalling through the console, media through
    the published UDP range. The client's only host candidate is ``public_ip`` (loopback),
    which the containers cannot reach directly. Returns the ICE pair used."""
    from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

    from argus_streaming.webrtc import compat

    compat.install()
    compat.set_host_addresses([public_ip])

    async def attempt() -> str | None:
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver("video", direction="recvonly")
        track: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        pc.on("track", lambda t: track.done() or track.set_result(t))
        location = None
        try:
            await pc.setLocalDescription(await pc.createOffer())
            resp = await console.client.post(
                f"/whep/{camera_id}", content=pc.localDescription.sdp.encode(),
                headers={**console.headers, "Content-Type": "application/sdp"})
            if resp.status_code != 201:
                return None  # the camera is not live yet
            location = resp.headers["location"]
            await pc.setRemoteDescription(RTCSessionDescription(
                _public_candidates_only(resp.text, public_ip), "answer"))
            async with asyncio.timeout(20):
                await (await track).recv()
            return _nominated(pc, port_range)
        except TimeoutError:
            return None
        finally:
            if location:
                await console.client.delete(location, headers=console.headers)
            await pc.close()

    return await wait_for(attempt, "a WHEP frame", timeout_s, interval_s=3.0)


def _nominated(pc: Any, port_range: tuple[int, int]) -> str:
    """The ICE pair that carried the media, checked to end in the published range."""
    transport = pc.getTransceivers()[0].receiver.transport.transport
    pairs = list(transport._connection._nominated.values())  # aioice keeps no public view
    if not pairs:
        raise CheckFailed("no nominated ICE pair")
    remote = pairs[0].remote_candidate
    if not port_range[0] <= remote.port <= port_range[1]:
        raise CheckFailed(f"media came from {remote.host}:{remote.port}, outside the range")
    local = pairs[0].local_candidate
    return f"{local.host}:{local.port} <-> {remote.host}:{remote.port}"


async def _first_segment(console: Console, camera_id: int) -> dict[str, Any] | None:
    now = datetime.now(UTC)
    body = await console.get(f"/api/v1/cameras/{camera_id}/timeline",
                             start=(now - timedelta(hours=1)).isoformat(),
                             end=(now + timedelta(minutes=5)).isoformat())
    segments = [s for s in body["segments"] if s["bytes"] > 0]
    return segments[0] if segments else None


async def recorded_segment(console: Console, camera_id: int, timeout_s: float) -> dict[str, Any]:
    """The first segment of the camera in its timeline."""
    return await wait_for(lambda: _first_segment(console, camera_id),
                          "a recorded segment in the timeline", timeout_s, 2.0)


async def rtmp_push(console: Console, rtmp_port: int, push_s: float,
                    timeout_s: float) -> dict[str, Any]:
    """A stream key; ffmpeg publishes ``push_s`` seconds to the published RTMP port with it;
    management sees the push (the key gets its camera) while it lasts; once it ends, the
    recording of that publish (an event recording, closed by the unpublish) is in the
    camera's timeline."""
    ffmpeg = shutil.which("ffmpeg")
    if not ffmpeg:
        raise CheckFailed("ffmpeg is missing (scripts/install-deps.sh run)")
    resp = await console.client.post("/api/v1/rtmp/keys", headers=console.headers,
                                     json={"name": RTMP_STREAM})
    if resp.status_code != 201:
        raise CheckFailed(f"creating a stream key: HTTP {resp.status_code} {resp.text[:200]}")
    key = resp.json()
    url = key["publish_url_with_key"].replace(":1935/", f":{rtmp_port}/")
    proc = await asyncio.create_subprocess_exec(
        ffmpeg, "-hide_banner", "-loglevel", "error", "-re", "-f", "lavfi", "-i",
        "testsrc2=size=640x360:rate=25", "-t", str(push_s), "-c:v", "libx264",
        "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-pix_fmt", "yuv420p",
        "-f", "flv", url,
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE)

    async def failed() -> CheckFailed:
        err = (await proc.stderr.read()).decode(errors="replace") if proc.stderr else ""
        # the key is in ffmpeg's error lines: never print it
        return CheckFailed(f"ffmpeg exited {proc.returncode}: "
                           f"{err.replace(key['key'], '<key>')[-300:]}")

    try:
        async def seen() -> dict[str, Any] | None:
            if proc.returncode is not None:
                raise await failed()
            body = await console.get("/api/v1/rtmp/keys")
            mine = [k for k in body["items"] if k["id"] == key["id"]]
            return mine[0] if mine and mine[0]["camera_id"] and mine[0]["last_used_at"] else None

        used = await wait_for(seen, "management to see the RTMP push", push_s)
        try:
            await asyncio.wait_for(proc.wait(), push_s + 30)
        except TimeoutError:
            raise CheckFailed(f"ffmpeg still publishing after {push_s + 30:.0f} s") from None
        if proc.returncode != 0:
            raise await failed()
    finally:
        if proc.returncode is None:
            proc.terminate()
            try:
                await asyncio.wait_for(proc.wait(), 10)
            except TimeoutError:
                proc.kill()
                await proc.wait()
    segment = await wait_for(lambda: _first_segment(console, int(used["camera_id"])),
                             "the RTMP camera's recording in its timeline", timeout_s, 2.0)
    return {**used, "segment": segment}


async def data_kept(console: Console, expected_cameras: set[str], camera_id: int,
                    segment: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    """After `down` and `up`: the cameras and the segment are still there."""
    body = await console.get("/api/v1/cameras", limit=500)
    names = {c["name"] for c in body["items"]}
    if not expected_cameras <= names:
        raise CheckFailed(f"cameras lost: {sorted(expected_cameras - names)}")

    async def same_segment() -> dict[str, Any] | None:
        start = datetime.fromisoformat(segment["start"])
        found = await console.get(f"/api/v1/cameras/{camera_id}/timeline",
                                  start=(start - timedelta(minutes=1)).isoformat(),
                                  end=(start + timedelta(minutes=10)).isoformat())
        return next((s for s in found["segments"] if s["id"] == segment["id"]), None)

    kept = await wait_for(same_segment, "the earlier segment in the timeline", timeout_s)
    return {"cameras": len(names), "segment": kept["path"], "bytes": kept["bytes"]}
