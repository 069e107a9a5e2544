"""User administration under ``/api/v1/users`` and the role list under ``/api/v1/roles``.

Every route requires ``users:manage`` (also set on the routers, so a route added later cannot
forget it).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.responses import JSONResponse

from argus_management.deps import BusDep, EndSessionsDep, HasherDep, SessionDep
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.models import User
from argus_management.rbac.principal import Principal
from argus_management.users import groups_service, service
from argus_management.users.schemas import (
    MAX_ID,
    GrantsIn,
    GrantsOut,
    RoleOut,
    UserCreate,
    UserOut,
    UserUpdate,
)

_manage = require_permission("users:manage")
Manager = Annotated[Principal, Depends(_manage)]

router = APIRouter(dependencies=[Depends(_manage)])
roles_router = APIRouter(dependencies=[Depends(_manage)])


async def valid_user(
    _: Manager, session: SessionDep, user_id: Annotated[int, Path(ge=1, le=MAX_ID)]
) -> User:
    """The user named in the path (404 if missing), after the permission check."""
    return await service.get_user(session, user_id)


TargetUser = Annotated[User, Depends(valid_user)]


@router.get("", response_model=Page[UserOut])
async def list_users(session: SessionDep, _: Manager, page: PageDep) -> Page[UserOut]:
    """All users, ordered by id."""
    rows, total = await service.list_users(session, page.limit, page.offset)
    return Page[UserOut](
        items=[service.to_out(u) for u in rows], total=total, limit=page.limit,
        offset=page.offset,
    )


@router.post("", response_model=UserOut, status_code=status.HTTP_201_CREATED)
async def create_user(
    request: Request, bus: BusDep, hasher: HasherDep, session: SessionDep, principal: Manager,
    data: UserCreate,
) -> UserOut:
    """Create a user with roles; the password must meet the policy."""
    user = await service.create_user(
        session, bus, hasher, actor_for(request, principal), data
    )
    return service.to_out(user)


@router.get("/{user_id}", response_model=UserOut)
async def get_user(user: TargetUser) -> UserOut:
    return service.to_out(user)


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    request: Request, bus: BusDep, hasher: HasherDep, session: SessionDep, principal: Manager,
    user: TargetUser,
    data: UserUpdate,
    end_sessions: EndSessionsDep,
) -> UserOut:
    """Change email, roles, active flag or password. A new password, disabling, or removing
    a permission ends the user's open sessions (their tokens are refused from now on)."""
    user = await service.update_user(
        session, bus, hasher, actor_for(request, principal), user, data, end_sessions
    )
    return service.to_out(user)


@router.delete(
    "/{user_id}",
    response_model=None,
    status_code=status.HTTP_204_NO_CONTENT,
    responses={200: {"model": UserOut, "description": "the user has history: disabled"}},
)
async def delete_user(
    request: Request, bus: BusDep, session: SessionDep, principal: Manager, user: TargetUser,
    end_sessions: EndSessionsDep,
) -> Response:
    """Delete a user (204), or disable one whose history must stay attributable (200); the
    user's open sessions end either way."""
    disabled = await service.delete_user(
        session, bus, actor_for(request, principal), user, end_sessions
    )
    if disabled is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    return JSONResponse(service.to_out(disabled).model_dump(mode="json"))


@router.get("/{user_id}/cameras", response_model=GrantsOut)
async def get_grants(session: SessionDep, user: TargetUser) -> GrantsOut:
    """The cameras and camera groups granted to the user."""
    return await groups_service.get_grants(session, user)


@router.put("/{user_id}/cameras", response_model=GrantsOut)
async def set_grants(
    request: Request, bus: BusDep, session: SessionDep, principal: Manager, user: TargetUser,
    data: GrantsIn,
) -> GrantsOut:
    """Replace the user's camera and group grants."""
    return await groups_service.set_grants(
        session, bus, actor_for(request, principal), user, data
    )


@roles_router.get("", response_model=list[RoleOut])
async def list_roles(session: SessionDep, _: Manager) -> list[RoleOut]:
    """Every role with its permissions and PTZ priority."""
    return [service.role_out(r) for r in await service.list_roles(session)]
