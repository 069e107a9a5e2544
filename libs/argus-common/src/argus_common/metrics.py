"""Prometheus helpers: the HTTP latency middleware (per route template) and ``/metrics``."""

from __future__ import annotations

import time
import uuid
from typing import Any

import structlog
from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

HTTP_LATENCY = Histogram(
    "argus_http_request_duration_seconds",
    "HTTP request latency by route template",
    ["service", "method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
HTTP_REQUESTS = Counter(
    "argus_http_requests_total",
    "HTTP requests by route template and status",
    ["service", "method", "route", "status"],
)

log = structlog.get_logger("argus.http")


class RequestContextMiddleware:
    """Pure ASGI middleware: binds ``request_id`` to logs, records latency per route template.

    The route template comes from ``scope["route"]``, which the router sets on the shared
    scope, so unmatched paths (scanners) do not create a label per URL.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service
        # Bounded: route templates (not raw paths) x methods x status codes.
        self._children: dict[tuple[str, ...], tuple[Any, Any]] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = ""
        for name, value in scope.get("headers", ()):
            if name == b"x-request-id":
                request_id = value.decode("latin-1")[:64]
                break
        request_id = request_id or uuid.uuid4().hex
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                headers.append((b"x-request-id", request_id.encode("latin-1")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            template = str(getattr(route, "path", "unmatched"))
            labels = (self.service, scope["method"], template, str(status))
            children = self._children.get(labels)
            if children is None:  # labels() costs a lock and a dict build: do it once
                children = (HTTP_LATENCY.labels(*labels), HTTP_REQUESTS.labels(*labels))
                self._children[labels] = children
            children[0].observe(time.perf_counter() - start)
            children[1].inc()
            if status >= 500:
                log.error("request_failed", method=scope["method"], route=template, status=status)
            structlog.contextvars.unbind_contextvars("request_id")


def metrics_response() -> Response:
    """The Prometheus exposition of this process's registry."""
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI, service: str) -> None:
    """Add the request middleware and ``GET /metrics`` to ``app``."""
    app.add_middleware(RequestContextMiddleware, service=service)
    app.add_api_route("/metrics", metrics_response, methods=["GET"], include_in_schema=False)
