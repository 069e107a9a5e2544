"""Runs last: no JSON response of the whole run carried a camera password or URL userinfo."""

from __future__ import annotations

import re

import pytest

from factories.cameras import CAMERA_PASSWORD
from factories.responses import ResponseRecorder

# Passwords the tests give cameras; the internal API is the only place allowed to return them.
CAMERA_SECRETS = [CAMERA_PASSWORD, "s3cr@t", "s3cr%40t", "pw-123456", "newpass-1", "p4ss"]
USERINFO = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s\"@]+:[^/\s\"@]*@", re.IGNORECASE)


def test_no_camera_secret_in_any_response(recorder: ResponseRecorder) -> None:
    if len(recorder.bodies) < 50:
        pytest.skip("meaningful only after the rest of the suite ran in this session")
    leaks = []
    for where, body in recorder.bodies:
        if where.split(" ", 1)[1].startswith("/internal/"):
            continue
        for secret in CAMERA_SECRETS:
            if secret in body:
                leaks.append((where, secret))
        if USERINFO.search(body):
            leaks.append((where, "userinfo"))
    assert leaks == []


def test_scanner_catches_a_leak() -> None:
    rec = ResponseRecorder()
    rec.bodies.append(("GET /api/v1/cameras", '{"stream_url": "rtsp://a:b@h/"}'))
    assert USERINFO.search(rec.bodies[0][1])
