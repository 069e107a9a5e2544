"""Who is asking: the management JWT (``Authorization: Bearer``).

Access to a camera is decided by management (``docs/contracts.md``). HLS and VOD URLs,
which a browser's media element fetches without headers, carry a media ticket instead
(``auth/tickets.py``), bound to the access token that obtained it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from argus_common.errors import Unauthorized
from argus_common.jwt import JwtCodec
from argus_streaming.cameras.client import ManagementClient


@dataclass(frozen=True)
class User:
    """A verified access token: its user id (``wall:<id>`` for a wall monitor's display
    token), token id, refresh family (``fam``, when the token names one; a display token's
    credential id) and the raw token (for management)."""

    sub: str
    jti: str
    token: str
    fam: str | None = None

    @property
    def monitor_id(self) -> int | None:
        """The wall monitor of a display token (subject ``wall:<id>``), else None."""
        kind, _, rest = self.sub.partition(":")
        return int(rest) if kind == "wall" and rest.isdigit() else None


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
    fam = claims.get("fam")
    return User(sub=str(claims["sub"]), jti=str(claims["jti"]), token=token.strip(),
                fam=fam if isinstance(fam, str) else None)


CurrentUser = Annotated[User, Depends(current_user)]


def management(request: Request) -> ManagementClient:
    """The app's management-service client."""
    client: ManagementClient = request.app.state.management
    return client


async def check_camera(request: Request, user: User, camera_id: int) -> None:
    """404 unless management says ``user`` may see ``camera_id``."""
    await management(request).check_access(user.token, user.jti, camera_id,
                                           display=user.monitor_id is not None)

