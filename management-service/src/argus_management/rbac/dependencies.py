"""Authentication and authorization dependencies (every router uses them).

Every route declares one of: ``require_permission(...)``, ``require_service_scope(...)``
(``rbac/service_scopes.py``: service-to-service) or a place in ``PUBLIC_ROUTES``; a test
walks the OpenAPI routes and fails on any route without one.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import HTTPConnection

from argus_common.errors import Forbidden, Unauthorized
from argus_management import versions
from argus_management.deps import app_state
from argus_management.rbac.models import CameraGrant, User, camera_group_members
from argus_management.rbac.principal import Actor, Principal
from argus_management.rbac.tokens import denylist_key, family_key

# Routes reachable without a permission check (path, method).
PUBLIC_ROUTES: set[tuple[str, str]] = {
    ("/healthz", "GET"),
    ("/readyz", "GET"),
    ("/api/v1/auth/login", "POST"),
    ("/api/v1/auth/refresh", "POST"),
    ("/api/v1/auth/logout", "POST"),
    ("/api/v1/auth/signup", "POST"),
    ("/api/v1/auth/password-reset", "POST"),
    ("/api/v1/auth/password-reset/confirm", "POST"),
    ("/api/v1/auth/jwks", "GET"),  # public keys (auth/jwks.py)
    ("/.well-known/jwks.json", "GET"),
}

_PRINCIPAL_CACHE_MAX = 10_000


async def load_principal(session: AsyncSession, user_id: int) -> Principal | None:
    """Resolve a user's roles, permissions and camera grants from the database."""
    user = await session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    permissions = frozenset(p.name for r in user.roles for p in r.permissions)
    direct = select(CameraGrant.camera_id).where(
        CameraGrant.user_id == user_id, CameraGrant.camera_id.is_not(None)
    )
    grouped = (
        select(camera_group_members.c.camera_id)
        .join(CameraGrant, CameraGrant.group_id == camera_group_members.c.group_id)
        .where(CameraGrant.user_id == user_id)
    )
    camera_ids = frozenset((await session.scalars(union(direct, grouped))).all())
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=tuple(user.role_names),
        permissions=permissions,
        ptz_priority=max((r.ptz_priority for r in user.roles), default=0),
        camera_ids=frozenset(int(c) for c in camera_ids if c is not None),
    )


async def principal_from_token(conn: HTTPConnection, token: str) -> Principal:
    """Verify an access token and resolve its user (cached per authz version); ``conn`` is
    the request or WebSocket (the cameras version is noted on its state)."""
    state = app_state(conn.app)
    bus = state.bus
    claims = state.jwt.decode(token, "access")
    jti = str(claims["jti"])
    # One round trip for everything a request must know fresh: is the token (or its
    # refresh family) revoked, and which versions of the cached authz and camera data hold.
    family = claims.get("fam")
    keys = [
        denylist_key(bus, jti),
        bus.key(versions.AUTHZ),
        bus.key(versions.CAMERAS),
        family_key(bus, family) if isinstance(family, str) else denylist_key(bus, jti),
    ]
    denied, authz_v, cameras_v, family_denied = await bus.redis.mget(keys)
    if denied is not None or family_denied is not None:
        raise Unauthorized("token revoked")
    bucket = versions.cache_bucket()
    conn.state.cameras_version = (cameras_v or b"0", bucket)
    try:
        user_id = int(claims["sub"])
    except (TypeError, ValueError):
        raise Unauthorized("invalid token") from None
    cache: dict[tuple[int, Any, int], Principal] = state.caches.principals
    principal = cache.get((user_id, authz_v, bucket))
    if principal is None:
        async with state.sessionmaker() as session:
            principal = await load_principal(session, user_id)
        if principal is None:
            raise Unauthorized("user disabled or deleted")
        if len(cache) >= _PRINCIPAL_CACHE_MAX:
            cache.clear()
        cache[(user_id, authz_v, bucket)] = principal
    return Principal(
        **{**principal.__dict__, "jti": jti, "token_exp": int(claims["exp"])}
    )


def bearer_token(request: Request) -> str:
    """The token of an ``Authorization: Bearer`` header; 401 when there is none."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("not authenticated")
    return token


async def get_principal(request: Request) -> Principal:
    """The authenticated user. Reads the header itself rather than through a nested
    ``HTTPBearer`` dependency: every level of dependencies costs on each request, and the
    bearer scheme is declared in the OpenAPI document by ``openapi.py`` instead."""
    return await principal_from_token(request, bearer_token(request))


CurrentUser = Annotated[Principal, Depends(get_principal)]


def require_permission(permission: str) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the principal if it holds ``permission``, else 403."""

    async def dependency(request: Request) -> Principal:
        principal = await get_principal(request)  # one dependency level, not two
        if not principal.has(permission):
            raise Forbidden(f"missing permission {permission}")
        return principal

    dependency.__argus_permission__ = permission  # type: ignore[attr-defined]
    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return dependency


def require_authenticated() -> Callable[..., Awaitable[Principal]]:
    """For routes every signed-in user may use on their own data (``/users/me``)."""

    async def dependency(principal: CurrentUser) -> Principal:
        return principal

    dependency.__argus_permission__ = "authenticated"  # type: ignore[attr-defined]
    return dependency


async def principal_with(conn: HTTPConnection, token: str, permission: str) -> Principal:
    """The principal of ``token`` if it holds ``permission``: ``Unauthorized`` or
    ``Forbidden`` otherwise (the WebSocket handshake maps them to 4401 / 4403)."""
    principal = await principal_from_token(conn, token)
    if not principal.has(permission):
        raise Forbidden(f"missing permission {permission}")
    return principal


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def actor_for(request: Request, principal: Principal | None) -> Actor:
    """The audit identity of a request."""
    return Actor(
        user_id=principal.user_id if principal else None,
        username=principal.username if principal else None,
        ip=client_ip(request),
        user_agent=(request.headers.get("user-agent") or "")[:256] or None,
    )


def permission_actor(permission: str) -> Callable[..., Awaitable[Actor]]:
    """Dependency giving the audit ``Actor`` of a principal holding ``permission``."""
    check = require_permission(permission)

    # A default rather than Annotated[...]: annotations are strings here, and a string
    # cannot name the local ``check``.
    async def dependency(request: Request, principal: Principal = Depends(check)) -> Actor:
        return actor_for(request, principal)

    return dependency
