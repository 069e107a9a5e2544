"""The demo cameras of ``make run``: the simulator with two cameras, registered once."""

from __future__ import annotations

import os
import shutil
import time
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from run_stack import Stack

RTSP_PORT = int(os.environ.get("CAMSIM_RTSP_PORT", "8554"))
ONVIF_PORT = int(os.environ.get("CAMSIM_ONVIF_PORT", "8100"))
DEMO = [
    {"name": "Demo camera 1 (PTZ)", "path": "cam1", "onvif_port": ONVIF_PORT, "has_ptz": True},
    {"name": "Demo camera 2", "path": "cam2", "onvif_port": ONVIF_PORT + 1, "has_ptz": False},
]


def register_demo_cameras(
    api: str, username: str, password: str, camera_host: str = "127.0.0.1"
) -> None:
    """Add the demo cameras through the API unless cameras with those names exist."""
    with httpx.Client(base_url=api, timeout=10) as client:
        token = client.post("/api/v1/auth/login", data={"username": username,
                                                        "password": password})
        if token.status_code != 200:
            print("  demo cameras not registered: admin login failed (password changed?)")
            return
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        listing = client.get("/api/v1/cameras", params={"limit": 500}, headers=headers).json()
        existing = {c["name"] for c in listing["items"]}
        for cam in DEMO:
            if cam["name"] in existing:
                continue
            body = {
                "name": cam["name"],
                "stream_url": f"rtsp://{camera_host}:{RTSP_PORT}/{cam['path']}/main",
                "sub_stream_url": f"rtsp://{camera_host}:{RTSP_PORT}/{cam['path']}/sub",
                "onvif_host": camera_host,
                "onvif_port": cam["onvif_port"],
                "has_ptz": cam["has_ptz"],
                "username": "admin",
                "password": "admin",
            }
            resp = client.post("/api/v1/cameras", json=body, headers=headers)
            print(f"  registered {cam['name']}: HTTP {resp.status_code}")


def start_demo_cameras(stack: Stack, env: dict[str, str], api: str) -> None:
    binary = shutil.which("argus-camsim", path=env["PATH"])
    if binary is None:
        print("  camera simulator not installed; no demo cameras")
        return
    stack.start("camera-simulator", [
        binary, "--cameras", "2", "--rtsp-port", str(RTSP_PORT), "--onvif-port", str(ONVIF_PORT),
        "--auth", "digest", "--username", "admin", "--password", "admin",
        "--resolution", "1280x720", "--discovery",
    ], env)
    time.sleep(1.0)
    register_demo_cameras(api, env["ARGUS_ADMIN_USERNAME"], env["ARGUS_ADMIN_PASSWORD"])


def main() -> None:
    """``python scripts/demo.py API CAMERA_HOST``: register the demo cameras (Compose demo
    profile), with the admin credentials from ARGUS_ADMIN_USERNAME / ARGUS_ADMIN_PASSWORD."""
    import sys

    api, host = sys.argv[1], sys.argv[2]
    if not os.environ.get("ARGUS_ADMIN_PASSWORD"):
        sys.exit("set ARGUS_ADMIN_PASSWORD in .env to register the demo cameras")
    for _ in range(60):  # management may still be starting
        try:
            if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(2)
    register_demo_cameras(api, os.environ.get("ARGUS_ADMIN_USERNAME", "admin"),
                          os.environ["ARGUS_ADMIN_PASSWORD"], host)


if __name__ == "__main__":
    main()
