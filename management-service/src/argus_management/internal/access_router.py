"""``POST /internal/access``: may these users still watch these cameras?

streaming-service asks this for its open sessions whenever ``argus:authz`` says that
something changed (and periodically): a user disabled or deleted, a grant or role removed, a
logged-out token or a revoked refresh family all answer ``false`` and end the session.
A wall monitor's session (``monitor_id`` instead of ``user_id``) is allowed while its
display credential (``fam``) is current and the camera is pushed to it (``walls/``).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from argus_management.deps import BusDep, SessionDep
from argus_management.rbac.dependencies import load_principal
from argus_management.rbac.principal import Principal
from argus_management.rbac.service_scopes import ACCESS_CHECK, require_service_scope
from argus_management.rbac.tokens import denylist_key, family_key
from argus_management.walls.access import display_access

router = APIRouter(dependencies=[Depends(require_service_scope(ACCESS_CHECK))])


class AccessItem(BaseModel):
    """One session to check: its user, camera, token id and refresh family."""

    model_config = ConfigDict(extra="forbid")

    user_id: int | None = Field(None, ge=1, le=2**31 - 1)
    monitor_id: int | None = Field(None, ge=1, le=2**31 - 1)
    camera_id: int = Field(ge=1, le=2**31 - 1)
    jti: str | None = Field(None, max_length=128)
    fam: str | None = Field(None, max_length=128)
    recordings: bool = False  # playback/VOD: needs recordings:read as well


class AccessCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[AccessItem] = Field(max_length=5000)


class AccessOut(BaseModel):
    allowed: list[bool]  # one per item, in order


def _allowed(principal: Principal | None, item: AccessItem, revoked: bool) -> bool:
    if principal is None or revoked or not principal.has("cameras:read"):
        return False
    if item.recordings and not principal.has("recordings:read"):
        return False
    return principal.may_see_camera(item.camera_id)


@router.post("/access", response_model=AccessOut)
async def check_access(body: AccessCheck, session: SessionDep, bus: BusDep) -> AccessOut:
    """For each item, whether its user may (still) watch its camera with that token."""
    if not body.items:
        return AccessOut(allowed=[])
    principals = {uid: await load_principal(session, uid)
                  for uid in sorted({i.user_id for i in body.items if i.user_id is not None})}
    monitors = await display_access(session, [i.monitor_id for i in body.items])
    keys: list[str] = []
    for item in body.items:
        keys.append(denylist_key(bus, item.jti or "-"))
        keys.append(family_key(bus, item.fam or "-"))
    flags = await bus.redis.mget(keys)
    out = []
    for n, item in enumerate(body.items):
        if item.user_id is None:
            monitor = monitors.get(item.monitor_id or 0)
            # Live only: a monitor's token never opens recordings.
            out.append(monitor is not None and not item.recordings
                       and monitor.allows(item.camera_id, item.fam))
            continue
        revoked = bool(item.jti and flags[2 * n] is not None) or bool(
            item.fam and flags[2 * n + 1] is not None)
        out.append(_allowed(principals[item.user_id], item, revoked))
    return AccessOut(allowed=out)
