"""Who is asking: the management JWT (``Authorization: Bearer``) or a media token.

Access to a camera is decided by management (``docs/contracts.md``); a media token is
minted here for HLS URLs, where a browser's media element cannot send headers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from argus_common.errors import Unauthorized
from argus_common.jwt import JwtCodec
from argus_streaming.cameras.client import ManagementClient


@dataclass(frozen=True)
class User:
    """A verified access token: its user id, token id and the raw token (for management)."""

    sub: str
    jti: str
    token: str


def _codec(request: Request) -> JwtCodec:
    codec: JwtCodec = request.app.state.jwt
    return codec


async def current_user(request: Request) -> User:
    """The user of a request's bearer access token; 401 without a valid one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("not authenticated")
    claims = _codec(request).decode(token.strip(), "access")
    return User(sub=str(claims["sub"]), jti=str(claims["jti"]), token=token.strip())


CurrentUser = Annotated[User, Depends(current_user)]


def management(request: Request) -> ManagementClient:
    """The app's management-service client."""
    client: ManagementClient = request.app.state.management
    return client


async def check_camera(request: Request, user: User, camera_id: int) -> None:
    """404 unless management says ``user`` may see ``camera_id``."""
    await management(request).check_access(user.token, user.jti, camera_id)


def media_claims(request: Request, token: str | None) -> dict[str, Any]:
    """Verified claims of a media token from a URL; 401 when missing or invalid."""
    if not token:
        raise Unauthorized("missing media token")
    return _codec(request).decode(token, "media")
