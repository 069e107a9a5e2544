"""The client of management-service that every media service uses.

Internal calls carry ``X-Internal-Api-Key``; calls made for a user (streaming's access
checks) carry that user's token instead and never the key. Errors come out as
``argus_common.errors``: management unreachable, answering 5xx, or refusing our key
(401/403, a misconfiguration that may be fixed while we run) is ``Unavailable``; any other
4xx is ``Refused`` (the same request cannot succeed later); 404 for one camera is ``None``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import httpx

from argus_common.cameras import Camera
from argus_common.errors import BadGateway, Unavailable
from argus_common.events import EventMessage

C = TypeVar("C", bound=Camera)

INTERNAL_KEY_HEADER = "X-Internal-Api-Key"


class Refused(BadGateway):
    """Management answered 4xx to an internal call: retrying the same request cannot help."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"management answered {status}: {detail}")
        self.status = status


class ManagementClient(Generic[C]):
    """HTTP client of management-service; cameras come back as ``model`` (a ``Camera``
    subclass of the calling service). ``http`` replaces the connection pool (tests)."""

    def __init__(
        self, base_url: str, internal_api_key: str, model: type[C], *,
        user_agent: str = "argus", timeout: float | httpx.Timeout = 10.0,
        http: httpx.AsyncClient | None = None,
    ) -> None:
        self.model = model
        self._key = internal_api_key
        self._http = http or httpx.AsyncClient(
            base_url=base_url.rstrip("/"), timeout=timeout, headers={"User-Agent": user_agent},
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def internal_headers(self) -> dict[str, str]:
        """The header of internal calls (for a request made outside ``send``: a stream)."""
        return {INTERNAL_KEY_HEADER: self._key}

    async def send(
        self, method: str, path: str, *, internal: bool = True, **kwargs: Any
    ) -> httpx.Response:
        """One request, any status returned as is; only a transport failure raises
        (``Unavailable``, naming the exception type: its text may hold a URL)."""
        if internal:
            kwargs["headers"] = {**kwargs.get("headers", {}), **self.internal_headers()}
        try:
            return await self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise Unavailable(f"management unreachable: {type(exc).__name__}") from None

    async def call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """An internal call: 5xx and 401/403 raise ``Unavailable``; other statuses are the
        caller's (``check`` them)."""
        resp = await self.send(method, path, **kwargs)
        if resp.status_code >= 500 or resp.status_code in (401, 403):
            raise Unavailable(f"management answered {resp.status_code} to {method} {path}")
        return resp

    @staticmethod
    def check(resp: httpx.Response) -> None:
        """``Refused`` for a 4xx answer."""
        if resp.status_code >= 400:
            raise Refused(resp.status_code, resp.text[:200])

    async def cameras(self) -> list[C]:
        """Every camera (enabled or not) with its credentials."""
        resp = await self.call("GET", "/internal/cameras")
        self.check(resp)
        return [self.model.from_api(item) for item in resp.json()]

    async def camera(self, camera_id: int) -> C | None:
        """One camera, or None when it does not exist (any more)."""
        resp = await self.call("GET", f"/internal/cameras/{camera_id}")
        if resp.status_code == 404:
            return None
        self.check(resp)
        return self.model.from_api(resp.json())

    async def report_event(self, message: EventMessage) -> int:
        """``POST /internal/events``; returns the stored event's id (a redelivery of the same
        message id returns the row stored the first time)."""
        resp = await self.call(
            "POST", "/internal/events", content=message.model_dump_json(),
            headers={"Content-Type": "application/json"},
        )
        self.check(resp)
        return int(resp.json()["id"])

    async def ping(self) -> bool:
        """Whether management answers ``/healthz``."""
        try:
            resp = await self.send("GET", "/healthz", internal=False, timeout=2.0)
        except Unavailable:
            return False
        return resp.status_code == 200
