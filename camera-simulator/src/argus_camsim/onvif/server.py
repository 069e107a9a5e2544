"""HTTP server of one virtual ONVIF camera: SOAP endpoints plus the JPEG snapshot.

One server (one port) per camera, as real cameras have. Operations are dispatched on
the namespace and name of the Body element, so a request reaches its handler whatever
``/onvif/...`` path it was posted to (clients are not consistent about paths).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from aiohttp import web

from argus_camsim.model import CameraInfo
from argus_camsim.onvif import device, events, media, media2, ptz, quirks
from argus_camsim.onvif.context import DEVICE_PATH, SNAPSHOT_PATH, Handler, RequestContext
from argus_camsim.onvif.httpauth import HttpAuthenticator
from argus_camsim.onvif.recording import NS_TRP, NS_TSE, REPLAY_OPERATIONS, SEARCH_OPERATIONS
from argus_camsim.onvif.security import OnvifAuth, UsernameTokenVerifier
from argus_camsim.onvif.soap import (
    NS_TDS,
    NS_TPTZ,
    NS_TRT,
    SoapFault,
    SoapRequest,
    action_not_supported,
    envelope,
    fault_envelope,
    not_authorized,
    parse_request,
)

log = logging.getLogger(__name__)

__all__ = ["OnvifAuth", "OnvifServer", "start_onvif"]

SOAP_CONTENT_TYPE = "application/soap+xml"
_MAX_REQUEST_BYTES = 256 * 1024  # ONVIF requests are a few KiB; refuse floods early
_SNAPSHOT_TIMEOUT_S = 10.0
_SHUTDOWN_TIMEOUT_S = 2.0
# A Host header is echoed into XAddrs; accept only what a host[:port] can look like.
_HOST_HEADER = re.compile(r"^[A-Za-z0-9._\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")

_SERVICES: dict[str, dict[str, Handler]] = {
    NS_TDS: device.OPERATIONS,
    NS_TRT: media.OPERATIONS,
    media2.NS_TR2: media2.OPERATIONS,
    NS_TPTZ: ptz.OPERATIONS,
    events.NS_TEV: events.OPERATIONS,
    events.NS_WSNT: events.SUBSCRIPTION_OPERATIONS,
    NS_TSE: SEARCH_OPERATIONS,  # Profile G (edge storage)
    NS_TRP: REPLAY_OPERATIONS,
}


class _NeedsHttpAuth(Exception):
    """No usable credentials at all: answer 401 with a Digest challenge."""

    def __init__(self, stale: bool = False) -> None:
        super().__init__("authentication required")
        self.stale = stale


class OnvifServer:
    """A running ONVIF endpoint of one camera; ``close()`` stops it."""

    def __init__(
        self,
        camera: CameraInfo,
        auth: OnvifAuth,
        snapshot: Callable[[], Awaitable[bytes]],
        rtsp_base: str,
        clock_offset_s: float = 0.0,
    ) -> None:
        self.camera = camera
        self.auth = auth
        self.rtsp_base = rtsp_base.rstrip("/")
        self.clock_offset_s = clock_offset_s
        self.host = ""
        self.port = 0
        self._snapshot = snapshot
        self._tokens = UsernameTokenVerifier(auth, self.device_time)
        self._http_auth = HttpAuthenticator(auth)
        self._runner: web.AppRunner | None = None

    @property
    def device_url(self) -> str:
        """The device service XAddr on the bound address."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{DEVICE_PATH}"

    def device_time(self) -> datetime:
        """The camera's clock: UTC plus the configured offset (to simulate drift)."""
        offset = self.clock_offset_s + quirks.clock_offset_s(self.camera)
        return datetime.now(UTC) + timedelta(seconds=offset)

    async def start(self, host: str, port: int) -> None:
        """Bind and start serving; ``port=0`` picks a free port (see ``self.port``)."""
        app = web.Application(
            client_max_size=_MAX_REQUEST_BYTES, middlewares=[self._offline_middleware]
        )
        app.router.add_get(SNAPSHOT_PATH, self._handle_snapshot)
        app.router.add_post("/onvif/{service:.+}", self._handle_soap)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=_SHUTDOWN_TIMEOUT_S)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        bound = runner.addresses[0]
        self.host, self.port = host, int(bound[1])
        log.info("onvif %s listening on %s", self.camera.path, self.device_url)

    async def close(self) -> None:
        """Stop serving and close open connections."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
            log.info("onvif %s stopped", self.camera.path)

    @web.middleware
    async def _offline_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # An offline camera must look unreachable: no SOAP body a client could parse.
        if self.camera.faults.offline():
            self.camera.events.reboot()  # a restarted camera has lost its subscriptions
            return web.Response(status=503, headers={"Connection": "close"})
        return await handler(request)

    def _base_url(self, request: web.Request) -> str:
        host = request.headers.get("Host", "")
        if not _HOST_HEADER.match(host):
            return self.device_url.removesuffix(DEVICE_PATH)
        return f"http://{host}"

    async def _handle_soap(self, request: web.Request) -> web.Response:
        payload = await request.read()
        try:
            soap = parse_request(payload)
            handler = self._resolve(soap)
            quirks.refuse(self.camera, soap)
            if not (soap.namespace == NS_TDS and soap.name in device.UNAUTHENTICATED):
                self._authenticate(request, soap)
            ctx = RequestContext(
                camera=self.camera,
                base_url=self._base_url(request),
                rtsp_base=self.rtsp_base,
                device_time=self.device_time(),
                path=request.path,
            )
            await quirks.delay(self.camera, soap.name)
            body = handler(ctx, soap.operation)
            if inspect.isawaitable(body):
                body = await body
        except SoapFault as fault:
            log.info("onvif %s fault: %s", self.camera.path, fault)
            xml = quirks.mangle(self.camera, "", fault_envelope(fault))
            return _soap_response(xml, fault.http_status)
        except _NeedsHttpAuth as exc:
            response = _soap_response(fault_envelope(not_authorized()), 401)
            response.headers["WWW-Authenticate"] = self._http_auth.challenge(exc.stale)
            return response
        except Exception:
            # A bug must still produce a SOAP fault so the client gets a usable error.
            log.exception("onvif %s: operation failed", self.camera.path)
            internal = SoapFault("Receiver", ("ter:Action",), "Internal error")
            return _soap_response(fault_envelope(internal), internal.http_status)
        log.debug("onvif %s %s ok", self.camera.path, soap.name)
        return _soap_response(quirks.mangle(self.camera, soap.name, envelope(body)), 200)

    def _resolve(self, soap: SoapRequest) -> Handler:
        operations = _SERVICES.get(soap.namespace)
        if operations is None:
            raise action_not_supported(f"Unknown service namespace {soap.namespace!r}")
        if soap.namespace == NS_TPTZ and not self.camera.has_ptz:
            raise action_not_supported("This camera has no PTZ")
        handler = operations.get(soap.name)
        if handler is None:
            raise action_not_supported(f"Operation {soap.name} is not supported")
        return handler

    def _authenticate(self, request: web.Request, soap: SoapRequest) -> None:
        # WS-Security is ONVIF's primary scheme; HTTP Digest is accepted as well, and
        # a request without any credentials is challenged so Digest clients can retry.
        if UsernameTokenVerifier.has_token(soap.header):
            self._tokens.verify(soap.header)
            return
        authorization = request.headers.get("Authorization")
        if authorization:
            result = self._http_auth.check(request.method, authorization)
            if result:
                return
            if result is None:
                raise _NeedsHttpAuth(stale=True)
            raise not_authorized()
        if self.auth.required:
            raise _NeedsHttpAuth()

    async def _handle_snapshot(self, request: web.Request) -> web.Response:
        if self.auth.required:
            result = self._http_auth.check(request.method, request.headers.get("Authorization"))
            if not result:
                return web.Response(
                    status=401,
                    headers={"WWW-Authenticate": self._http_auth.challenge(result is None)},
                )
        try:
            async with asyncio.timeout(_SNAPSHOT_TIMEOUT_S):
                data = await self._snapshot()
        except Exception:
            log.warning("onvif %s: snapshot failed", self.camera.path, exc_info=True)
            return web.Response(status=503, text="snapshot unavailable")
        return web.Response(
            body=data, content_type="image/jpeg", headers={"Cache-Control": "no-store"}
        )


def _soap_response(xml: str, status: int) -> web.Response:
    return web.Response(status=status, text=xml, content_type=SOAP_CONTENT_TYPE, charset="utf-8")


async def start_onvif(
    camera: CameraInfo,
    host: str,
    port: int,
    auth: OnvifAuth,
    snapshot: Callable[[], Awaitable[bytes]],
    rtsp_base: str,
    *,
    clock_offset_s: float = 0.0,
) -> OnvifServer:
    """Start the ONVIF device of ``camera`` on ``host:port`` (``port=0``: a free port).

    ``snapshot`` returns the current picture as JPEG bytes; ``rtsp_base`` (e.g.
    ``rtsp://127.0.0.1:8554``) prefixes the stream URIs ``{rtsp_base}/{camera.path}/main``
    and ``/sub``. ``clock_offset_s`` shifts the device clock to simulate a camera whose
    time is wrong. Call ``close()`` on the result to stop it.
    """
    server = OnvifServer(camera, auth, snapshot, rtsp_base, clock_offset_s=clock_offset_s)
    await server.start(host, port)
    return server
