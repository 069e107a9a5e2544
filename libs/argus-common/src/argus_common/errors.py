"""The error hierarchy and the one handler that renders every error in the same envelope.

Every service answers errors as ``{"error": "<ErrorClass>", "detail": "<human text>"}``.
"""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

log = structlog.get_logger("argus.errors")


class ErrorOut(BaseModel):
    """The envelope of every error response, for OpenAPI declarations (``responses=``)."""

    error: str = Field(description="the error's class, e.g. NotFound or BadGateway")
    detail: str = Field(description="what went wrong, in words for a person")


class ArgusError(Exception):
    """Base of the errors a service raises on purpose; carries its HTTP status."""

    status_code = 400
    headers: dict[str, str] | None = None

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        if headers is not None:
            self.headers = headers


class BadRequest(ArgusError):
    status_code = 400


class Unauthorized(ArgusError):
    status_code = 401
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(ArgusError):
    status_code = 403


class NotFound(ArgusError):
    status_code = 404


class Conflict(ArgusError):
    status_code = 409


class PayloadTooLarge(ArgusError):
    status_code = 413


class Unprocessable(ArgusError):
    status_code = 422


class TooManyRequests(ArgusError):
    status_code = 429


class BadGateway(ArgusError):
    status_code = 502


class Unavailable(ArgusError):
    status_code = 503


class GatewayTimeout(ArgusError):
    status_code = 504


_STATUS_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationError",
    429: "TooManyRequests",
}


def error_body(error: str, detail: str) -> dict[str, str]:
    """The envelope every error response uses."""
    return {"error": error, "detail": detail}


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for err in exc.errors()[:10]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body")
        msg = str(err.get("msg", "invalid"))
        parts.append(f"{loc}: {msg}" if loc else msg)
    return "; ".join(parts) or "invalid request"


async def _argus_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ArgusError)
    return JSONResponse(
        error_body(type(exc).__name__, exc.detail), exc.status_code, headers=exc.headers
    )


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(error_body("ValidationError", _describe_validation(exc)), 422)


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    name = _STATUS_NAMES.get(exc.status_code, "HTTPError")
    headers: dict[str, Any] | None = getattr(exc, "headers", None)
    return JSONResponse(error_body(name, str(exc.detail)), exc.status_code, headers=headers)


async def _redis_down(_: Request, exc: Exception) -> JSONResponse:
    log.error("redis_unreachable", exc_type=type(exc).__name__)
    return JSONResponse(error_body("Unavailable", "redis unreachable; try again shortly"), 503)


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled_error", exc_type=type(exc).__name__)
    return JSONResponse(error_body("InternalError", "internal server error"), 500)


def install_error_handlers(app: FastAPI) -> None:
    """Render every error of ``app`` in the common envelope (422 included)."""
    app.add_exception_handler(ArgusError, _argus_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # A dependency that is down is a 503 with a clear detail, not a 500.
    app.add_exception_handler(RedisConnectionError, _redis_down)
    app.add_exception_handler(RedisTimeoutError, _redis_down)
    app.add_exception_handler(Exception, _unexpected)
