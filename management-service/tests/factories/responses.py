"""Collects every JSON response body of the test run for the secrets scan: the session's
``recorder`` fixture (conftest.py) scans what it collected when the session's tests are done,
in each pytest-xdist worker for the tests that worker ran."""

from __future__ import annotations

import re

import httpx

from factories.cameras import CAMERA_PASSWORD

# Passwords the tests give cameras; the internal API is the only place allowed to return them.
CAMERA_SECRETS = [CAMERA_PASSWORD, "s3cr@t", "s3cr%40t", "pw-123456", "newpass-1", "p4ss"]
USERINFO = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s\"@]+:[^/\s\"@]*@", re.IGNORECASE)


class ResponseRecorder:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, str]] = []

    async def record(self, response: httpx.Response) -> None:
        await response.aread()
        if "json" in response.headers.get("content-type", ""):
            self.bodies.append((f"{response.request.method} {response.request.url.path}",
                                response.text))

    def leaks(self) -> list[tuple[str, str]]:
        """(request, what leaked) for each body outside ``/internal/`` that carries a camera
        password or URL userinfo."""
        found = []
        for where, body in self.bodies:
            if where.split(" ", 1)[1].startswith("/internal/"):
                continue
            found += [(where, secret) for secret in CAMERA_SECRETS if secret in body]
            if USERINFO.search(body):
                found.append((where, "userinfo"))
        return found
