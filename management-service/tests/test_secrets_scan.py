"""The secrets scan (conftest's ``recorder``: no JSON response of the session carried a
camera password or URL userinfo) can fail."""

from __future__ import annotations

from factories.cameras import CAMERA_PASSWORD
from factories.responses import ResponseRecorder


def test_scanner_catches_a_leak() -> None:
    rec = ResponseRecorder()
    rec.bodies.append(("GET /api/v1/cameras", '{"stream_url": "rtsp://a:b@h/"}'))
    rec.bodies.append(("GET /api/v1/cameras/1", f'{{"password": "{CAMERA_PASSWORD}"}}'))
    rec.bodies.append(("GET /internal/cameras/1", f'{{"password": "{CAMERA_PASSWORD}"}}'))
    assert rec.leaks() == [
        ("GET /api/v1/cameras", "userinfo"),
        ("GET /api/v1/cameras/1", CAMERA_PASSWORD),
    ]
