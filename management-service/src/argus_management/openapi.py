"""The OpenAPI document: the bearer scheme declared once, public routes marked as such.

Authentication is read by ``auth.dependencies`` without FastAPI's security classes (each
nested dependency costs on every request), so the scheme is added to the document here.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

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
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
