"""``/api/v1/auth``: login (OAuth2 password flow), refresh, logout, signup, password reset.

All these routes are in ``PUBLIC_ROUTES``: they are how a client gets a token in the first
place (logout checks its bearer token itself).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm

from argus_management.auth import account, service
from argus_management.auth.mailer import deliver
from argus_management.auth.schemas import (
    LogoutRequest,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    SignupRequest,
    SignupResponse,
    TokenResponse,
)
from argus_management.auth.service import AuthContext
from argus_management.deps import MailerDep, SessionDep, StateDep
from argus_management.rbac.dependencies import CurrentUser, actor_for

router = APIRouter()

async def auth_context(request: Request, state: StateDep) -> AuthContext:
    """What the auth flows need from the app and the request."""
    return AuthContext(state.settings, state.jwt, state.bus, state.sessionmaker, state.hasher,
                       actor_for(request, None))


Context = Annotated[AuthContext, Depends(auth_context)]
RESET_ACCEPTED = "if the account exists and has an e-mail address, a reset link has been sent"


def _no_store(response: Response) -> None:
    # Token responses must not be kept by caches or proxies (RFC 6749 §5.1).
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"


def bearer_token(request: Request) -> str | None:
    """The raw bearer token of the request, if any (already verified by ``CurrentUser``)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


@router.post("/login", response_model=TokenResponse, summary="Log in (OAuth2 password flow)")
async def login(
    session: SessionDep,
    ctx: Context,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    response: Response,
) -> TokenResponse:
    """Exchange a username and password for an access token and a refresh token."""
    _no_store(response)
    return await service.login(session, ctx, form.username, form.password)


@router.post("/refresh", response_model=TokenResponse)
async def refresh(
    session: SessionDep, ctx: Context, body: RefreshRequest, response: Response
) -> TokenResponse:
    """Rotate a refresh token: the old one is spent, a new pair is returned."""
    _no_store(response)
    return await service.refresh(session, ctx, body.refresh_token)


@router.post("/logout", status_code=204)
async def logout(
    request: Request,
    session: SessionDep,
    ctx: Context,
    principal: CurrentUser,
    body: LogoutRequest | None = None,
) -> Response:
    """Revoke the bearer access token and its session's refresh tokens."""
    family = service.access_family(ctx, bearer_token(request))
    await service.logout(session, ctx, principal, family, body.refresh_token if body else None)
    return Response(status_code=204)


@router.post("/signup", response_model=SignupResponse, status_code=201)
async def signup(session: SessionDep, ctx: Context, body: SignupRequest) -> SignupResponse:
    """Create a viewer account (only when ``ARGUS_ALLOW_SIGNUP`` is on)."""
    return await account.signup(session, ctx, body)


@router.post("/password-reset", status_code=202)
async def password_reset(
    session: SessionDep,
    ctx: Context,
    body: PasswordResetRequest,
    background: BackgroundTasks,
    mailer: MailerDep,
) -> dict[str, str]:
    """Mail a single-use reset link; the answer is the same whether the account exists."""
    mail = await account.request_reset(session, ctx, body)
    if mail is not None:
        # After the response (and the commit): the delay of SMTP must not tell anything.
        background.add_task(deliver, mailer, mail)
    return {"detail": RESET_ACCEPTED}


@router.post("/password-reset/confirm", status_code=204)
async def password_reset_confirm(
    session: SessionDep, ctx: Context, body: PasswordResetConfirm
) -> Response:
    """Set a new password with a reset token; every session of the account ends."""
    await account.confirm_reset(session, ctx, body)
    return Response(status_code=204)
