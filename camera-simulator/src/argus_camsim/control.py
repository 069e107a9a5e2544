"""HTTP control API of the simulator (plain asyncio, JSON in and out).

    GET  /healthz /readyz /metrics
    GET  /cameras                 list of cameras (URLs, ONVIF port, PTZ, faults, clients)
    GET  /cameras/camN            one camera
    POST /faults/camN             {"drop": true} {"stall": bool} {"offline_s": N}
                                  {"corrupt": bool} {"resolution": "WxH"} {"sub_resolution": ..}
    POST /motion/camN             {"on": bool}
    POST /ptz/camN                {"pan": .., "tilt": .., "zoom": ..}
    POST /objects/camN            script a person or vehicle (``scripting.py``), or clear
    GET  /cameras/camN/objects    ground-truth boxes (``?at_ms=`` a frame's stamp)
    POST /events/camN             raise an ONVIF event (``device_control.py``)
    POST /quirks/camN             set the camera's ONVIF quirks (``onvif/quirks.py``)

Errors use ARGUS's envelope ``{"error": "<Class>", "detail": "..."}``. One request per
connection (``Connection: close``), which is all a test or a curl needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from argus_camsim.camera import CameraRuntime
from argus_camsim.device_control import apply_events, apply_quirks
from argus_camsim.faults import CommandError, apply_faults, apply_motion, apply_ptz
from argus_camsim.scripting import apply_objects, objects_view

log = logging.getLogger(__name__)
_REQUEST_TIMEOUT_S = 10.0
_MAX_BODY = 64 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    500: "Internal Server Error",
}

Describe = Callable[[CameraRuntime, str | None], dict[str, Any]]


class HttpError(Exception):
    """An error answered with the ARGUS error envelope."""

    def __init__(self, status: int, error: str, detail: str) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail = status, error, detail


class ControlServer:
    """Serves the control API for a set of cameras."""

    def __init__(
        self,
        cameras: dict[str, CameraRuntime],
        describe: Describe,
        metrics: Callable[[], str],
    ) -> None:
        self.cameras = cameras
        self.describe = describe
        self.metrics = metrics
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; returns the bound port."""
        self._server = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        bound = int(self._server.sockets[0].getsockname()[1])
        log.info("control API listening on http://%s:%d", host, bound)
        return bound

    async def close(self) -> None:
        """Stop listening."""
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(2):
                    await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        status, body, ctype = 500, b"", "application/json"
        try:
            async with asyncio.timeout(_REQUEST_TIMEOUT_S):
                method, path, headers, raw = await self._read(reader)
            status, payload = self._route(method, path, headers, raw)
            if isinstance(payload, str):
                body, ctype = payload.encode(), "text/plain; version=0.0.4"
            else:
                body = json.dumps(payload).encode()
        except HttpError as exc:
            status = exc.status
            body = json.dumps({"error": exc.error, "detail": exc.detail}).encode()
        except (
            TimeoutError,
            asyncio.IncompleteReadError,
            ConnectionError,
            asyncio.LimitOverrunError,
        ):
            writer.close()
            return
        except Exception:
            log.exception("control API request failed")
            body = json.dumps({"error": "InternalError", "detail": "internal error"}).encode()
        head = (
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        try:
            writer.write(head + body)
            async with asyncio.timeout(_REQUEST_TIMEOUT_S):
                await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str], bytes]:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        lines = head.split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3:
            raise HttpError(400, "BadRequest", "malformed request line")
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError as exc:
            raise HttpError(400, "BadRequest", "bad Content-Length") from exc
        if length > _MAX_BODY or length < 0:
            raise HttpError(413, "PayloadTooLarge", "body too large")
        raw = await reader.readexactly(length) if length else b""
        return parts[0].upper(), parts[1], headers, raw

    def _camera(self, name: str) -> CameraRuntime:
        cam = self.cameras.get(name)
        if cam is None:
            raise HttpError(404, "NotFound", f"no camera {name!r}")
        return cam

    def _route(
        self, method: str, path: str, headers: dict[str, str], raw: bytes
    ) -> tuple[int, Any]:
        host = headers.get("host", "").rsplit(":", 1)[0].strip("[]") or None
        path, _, query = path.partition("?")
        parts = [p for p in path.split("/") if p]
        if method == "GET":
            if parts == ["healthz"]:
                return 200, {"status": "ok"}
            if parts == ["readyz"]:
                return 200, {"status": "ready", "cameras": len(self.cameras)}
            if parts == ["metrics"]:
                return 200, self.metrics()
            if parts == ["cameras"]:
                return 200, [self.describe(cam, host) for cam in self.cameras.values()]
            if len(parts) == 2 and parts[0] == "cameras":
                return 200, self.describe(self._camera(parts[1]), host)
            if len(parts) == 3 and parts[0] == "cameras" and parts[2] == "objects":
                try:
                    return 200, objects_view(self._camera(parts[1]), dict(parse_qsl(query)))
                except CommandError as exc:
                    raise HttpError(400, "BadRequest", str(exc)) from exc
            raise HttpError(404, "NotFound", f"no route GET {path}")
        if method != "POST":
            raise HttpError(405, "MethodNotAllowed", f"{method} is not supported")
        if len(parts) != 2 or parts[0] not in (
            "faults", "motion", "ptz", "objects", "events", "quirks"
        ):
            raise HttpError(404, "NotFound", f"no route POST {path}")
        cam = self._camera(parts[1])
        try:
            payload = json.loads(raw or b"{}")
        except ValueError as exc:
            raise HttpError(400, "BadRequest", "body must be a JSON object") from exc
        if not isinstance(payload, dict):
            raise HttpError(400, "BadRequest", "body must be a JSON object")
        action = {"faults": apply_faults, "motion": apply_motion, "ptz": apply_ptz,
                  "objects": apply_objects, "events": apply_events,
                  "quirks": apply_quirks}[parts[0]]
        try:
            result = action(cam, payload)
        except CommandError as exc:
            raise HttpError(400, "BadRequest", str(exc)) from exc
        return 200, {"camera": cam.path, "applied": result}
