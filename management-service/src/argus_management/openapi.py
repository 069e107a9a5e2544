"""The OpenAPI document: the bearer scheme declared once, public routes marked as such,
and errors declared as they are sent.

Authentication is read by ``auth.dependencies`` without FastAPI's security classes (each
nested dependency costs on every request), so the scheme is added to the document here.
Every error is the common envelope (``argus_common.errors``): a 422 is not FastAPI's
``HTTPValidationError``, and each operation declares the envelope as its ``default``
answer (401, 403, 404, 409, 429 … ). The 502/503/504 a route gives on purpose (a camera
that does not answer) are declared on the route itself (``responses.py``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from argus_common.errors import ErrorOut
from argus_management.rbac.dependencies import PUBLIC_ROUTES


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, routes=app.routes,
            description="ARGUS management API. Log in at `POST /api/v1/auth/login` "
            "(OAuth2 password form) and send the access token as `Authorization: Bearer`.",
        )
        schema.setdefault("components", {})["securitySchemes"] = {
            "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
            "password": {
                "type": "oauth2",
                "flows": {"password": {"tokenUrl": "/api/v1/auth/login", "scopes": {}}},
            },
        }
        schema["security"] = [{"bearer": []}, {"password": []}]
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if (path, method.upper()) in PUBLIC_ROUTES:
                    operation["security"] = []
                elif path.startswith("/internal/"):
                    operation["security"] = []
                    operation["description"] = (
                        operation.get("description") or ""
                    ) + "\\n\\nService-to-service: send `X-Internal-Api-Key`."
        _declare_errors(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


_ENVELOPE = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}


def _declare_errors(schema: dict[str, Any]) -> None:
    """422 and ``default`` answers in the envelope; FastAPI's validation models dropped."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components["ErrorOut"] = ErrorOut.model_json_schema(ref_template="#/components/schemas/{model}")
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            if "422" in responses:
                responses["422"] = {"description": "the request is invalid", "content": _ENVELOPE}
            responses.setdefault(
                "default", {"description": "an error, in the common envelope", "content": _ENVELOPE}
            )
    for name in ("HTTPValidationError", "ValidationError"):
        components.pop(name, None)
