"""Collects every JSON response body of the test run for the secrets scan."""

from __future__ import annotations

import httpx


class ResponseRecorder:
    def __init__(self) -> None:
        self.bodies: list[tuple[str, str]] = []

    async def record(self, response: httpx.Response) -> None:
        await response.aread()
        if "json" in response.headers.get("content-type", ""):
            self.bodies.append((f"{response.request.method} {response.request.url.path}",
                                response.text))
