"""``/api/v1/users/me``: the signed-in user's own profile and password."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from argus_management.auth import account, service
from argus_management.auth.router import Context, bearer_token
from argus_management.auth.schemas import MeResponse, PasswordChange
from argus_management.deps import SessionDep
from argus_management.rbac.dependencies import require_authenticated
from argus_management.rbac.principal import Principal

router = APIRouter()

Me = Annotated[Principal, Depends(require_authenticated())]


@router.get("", response_model=MeResponse)
async def get_me(session: SessionDep, principal: Me) -> MeResponse:
    """Who am I: profile, roles, permissions and the cameras I may see."""
    return await account.profile(session, principal)


@router.put("/password", status_code=204)
async def change_password(
    request: Request, session: SessionDep, ctx: Context, principal: Me, body: PasswordChange
) -> Response:
    """Change my password; my other sessions end, this one stays signed in."""
    family = service.access_family(ctx, bearer_token(request))
    await account.change_password(session, ctx, principal, family, body)
    return Response(status_code=204)
