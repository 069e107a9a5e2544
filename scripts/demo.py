"""The demo cameras of ``make run`` and the Compose demo profile: the simulator's cam1 and
cam2, registered in management once. Camera 1 has motion analysis and object detection on,
with a zone ("Doorway") across the path of the simulator's walking person (``--objects``):
each time the person walks in, an ``object.zone_enter`` alert reaches the console."""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

RTSP_PORT = int(os.environ.get("CAMSIM_RTSP_PORT", "8554"))
ONVIF_PORT = int(os.environ.get("CAMSIM_ONVIF_PORT", "8100"))
# The middle of the picture, from above the person's path to the bottom: the person's
# feet (the box's bottom centre) are inside while it crosses x 0.4-0.6.
DOORWAY = [[0.4, 0.3], [0.6, 0.3], [0.6, 1.0], [0.4, 1.0]]
DEMO: list[dict[str, Any]] = [
    {"name": "Demo camera 1 (PTZ)", "path": "cam1", "onvif_offset": 0, "has_ptz": True},
    {"name": "Demo camera 2", "path": "cam2", "onvif_offset": 1, "has_ptz": False},
]


def register_demo_cameras(
    api: str, username: str, password: str, camera_host: str = "127.0.0.1",
    rtsp_port: int = RTSP_PORT, onvif_port: int = ONVIF_PORT, object_detector: str = "auto",
) -> None:
    """Add the demo cameras through the API unless cameras with those names exist
    (the simulator's cam1 has ONVIF at ``onvif_port``, cam2 at the next port).
    ``object_detector``: camera 1's detector (``make run`` passes ``onnx``: the test model
    knows the simulator's drawn people; "auto" is the analyser's default)."""
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
                "stream_url": f"rtsp://{camera_host}:{rtsp_port}/{cam['path']}/main",
                "sub_stream_url": f"rtsp://{camera_host}:{rtsp_port}/{cam['path']}/sub",
                "has_ptz": cam["has_ptz"],
                "username": "admin",
                "password": "admin",
            }
            if cam["path"] == "cam1":
                body["analysis"] = demo_analysis(object_detector)
            if onvif_port:
                body |= {"onvif_host": camera_host,
                         "onvif_port": onvif_port + int(cam["onvif_offset"])}
            resp = client.post("/api/v1/cameras", json=body, headers=headers)
            print(f"  registered {cam['name']}: HTTP {resp.status_code}", flush=True)


def demo_analysis(object_detector: str) -> dict[str, Any]:
    """Motion analysis with objects: people and vehicles, the Doorway zone."""
    return {"enabled": True, "objects": {
        "enabled": True, "detector": object_detector, "labels": ["person", "vehicle"],
        "zones": [{"name": "Doorway", "polygon": DOORWAY, "labels": ["person"]}],
    }}


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
