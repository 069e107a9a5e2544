"""Stream keys under ``/api/v1/rtmp/keys`` (permission ``rtmp:keys``).

A user sees and revokes their own keys; holders of ``users:manage`` (admins) see and revoke
everyone's. The secret is returned once, by the creation.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from argus_management.deps import SessionDep, SettingsDep
from argus_management.pagination import Page, PageDep
from argus_management.rbac.dependencies import actor_for, require_permission
from argus_management.rbac.principal import Principal
from argus_management.rtmp import service
from argus_management.rtmp.schemas import KeyCreate, KeyCreated, KeyOut

_keys = require_permission("rtmp:keys")
KeyHolder = Annotated[Principal, Depends(_keys)]
router = APIRouter(dependencies=[Depends(_keys)])


async def _public_url(settings: SettingsDep) -> str:
    return str(settings.rtmp_public_url)


PublicUrl = Annotated[str, Depends(_public_url)]


@router.get("", response_model=Page[KeyOut])
async def list_keys(
    session: SessionDep, principal: KeyHolder, page: PageDep, public: PublicUrl
) -> Page[KeyOut]:
    """The user's stream keys (all users' for admins), newest first; never the secrets."""
    rows, total = await service.list_keys(session, principal, page.limit, page.offset)
    return Page[KeyOut](
        items=[service.to_out(k, u, public) for k, u in rows], total=total,
        limit=page.limit, offset=page.offset,
    )


@router.post("", response_model=KeyCreated, status_code=status.HTTP_201_CREATED)
async def create_key(
    request: Request, session: SessionDep, principal: KeyHolder, data: KeyCreate,
    public: PublicUrl,
) -> KeyCreated:
    """A new key: publish to ``rtmp://HOST:1935/live/<name>?key=<key>``. The key is shown
    only in this answer."""
    return await service.create_key(
        session, principal, data, actor_for(request, principal), public
    )


@router.delete("/{key_id}", status_code=status.HTTP_204_NO_CONTENT)
async def revoke_key(
    request: Request, session: SessionDep, principal: KeyHolder,
    key_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
) -> Response:
    """Revoke a key (idempotent). A phone publishing with it is dropped within
    ``RTMP_UPDATE_INTERVAL_S``."""
    key = await service.visible_key(session, principal, key_id)
    await service.revoke_key(session, key, actor_for(request, principal))
    return Response(status_code=status.HTTP_204_NO_CONTENT)
