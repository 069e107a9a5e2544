"""The monitors' side: ``/api/v1/wall-display``.

A monitor's browser trades its display credential for a short-lived display token
(``POST /token``): a JWT of type ``access`` whose subject is ``wall:<monitor id>`` and whose
``fam`` is the credential's id. That token opens nothing of the operators' API (its
subject is no user), only the monitor's own state and, through streaming-service, video
of the cameras currently pushed to it (``GET /cameras/{id}``, the check streaming makes;
``POST /internal/access`` for its re-checks). A new or revoked credential changes the id,
which ends every token of the old one at once.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import NotFound, Unauthorized
from argus_common.jwt import JwtCodec
from argus_management.audit.service import record, record_detached
from argus_management.cameras.models import Camera
from argus_management.deps import JwtDep, SessionDep, SessionmakerDep, SettingsDep
from argus_management.rbac.dependencies import bearer_token, client_ip
from argus_management.rbac.principal import Actor
from argus_management.walls import credentials
from argus_management.walls import service as svc
from argus_management.walls.models import VideoWall, WallMonitor
from argus_management.walls.schemas import (
    MAX_ID,
    DisplayCamera,
    DisplayLogin,
    DisplayState,
    DisplayToken,
)

router = APIRouter()
SUBJECT = "wall:"


def _actor(request: Request, monitor_id: int) -> Actor:
    return Actor(
        user_id=None,
        username=f"{SUBJECT}{monitor_id}",
        ip=client_ip(request),
        user_agent=(request.headers.get("user-agent") or "")[:256] or None,
    )


async def monitor_of_token(session: AsyncSession, jwt: JwtCodec, token: str) -> WallMonitor:
    """The monitor of a display token whose credential is still the current one
    (``Unauthorized`` for anything else, user tokens included)."""
    claims = jwt.decode(token, "access")
    sub, fam = str(claims.get("sub", "")), claims.get("fam")
    if not sub.startswith(SUBJECT) or not sub[len(SUBJECT) :].isdigit():
        raise Unauthorized("not a display token")
    monitor = await session.get(WallMonitor, int(sub[len(SUBJECT) :]))
    if (
        monitor is None
        or monitor.key_id is None
        or not isinstance(fam, str)
        or not hmac.compare_digest(monitor.key_id, fam)
    ):
        raise Unauthorized("display credential revoked")
    return monitor


async def display_monitor(request: Request, session: SessionDep, jwt: JwtDep) -> WallMonitor:
    """The monitor of a display token (401 for anything else, user tokens included)."""
    return await monitor_of_token(session, jwt, bearer_token(request))


async def mark_seen(session: AsyncSession, monitor: WallMonitor) -> None:
    """The monitor's browser is there (the state poll and /ws/wall-display): online is
    ``last_seen`` within ``ONLINE_S``, written at most every ``SEEN_WRITE_S``."""
    seen = monitor.last_seen
    stamp = svc.now()
    if seen is None or (stamp - seen).total_seconds() >= svc.SEEN_WRITE_S:
        # A Core UPDATE: updated_at keeps meaning "configuration changed".
        await session.execute(
            update(WallMonitor)
            .where(WallMonitor.id == monitor.id)
            .values(last_seen=stamp, updated_at=WallMonitor.updated_at)
        )


display_monitor.__argus_permission__ = "wall-display"  # type: ignore[attr-defined]
Display = Annotated[WallMonitor, Depends(display_monitor)]


async def _login(
    request: Request, session: SessionDep, maker: SessionmakerDep, body: DisplayLogin
) -> WallMonitor:
    monitor = await session.get(WallMonitor, body.monitor_id)
    ok = (
        monitor is not None
        and monitor.wall_id == body.wall_id
        and monitor.key_hash is not None
        and hmac.compare_digest(monitor.key_hash, credentials.hash_key(body.key))
    )
    if monitor is None or not ok:
        await record_detached(
            maker,
            _actor(request, body.monitor_id),
            "wall.display_login",
            "wall_monitor",
            body.monitor_id,
            {"wall_id": body.wall_id},
        )
        raise Unauthorized("invalid display credential")
    return monitor


_login.__argus_permission__ = "wall-display-key"  # type: ignore[attr-defined]


@router.post("/token", response_model=DisplayToken)
async def display_token(
    request: Request,
    session: SessionDep,
    monitor: Annotated[WallMonitor, Depends(_login)],
    jwt: JwtDep,
    settings: SettingsDep,
) -> DisplayToken:
    """A display token for the monitor whose credential is given (the credential is the
    body, never a URL). Audited (``wall.display_login``, success: the wall and monitor, no
    credential or token)."""
    ttl = settings.access_token_ttl_s
    assert monitor.key_id is not None
    token = jwt.issue(f"{SUBJECT}{monitor.id}", "access", ttl, extra={"fam": monitor.key_id})
    await record(
        session,
        _actor(request, monitor.id),
        "wall.display_login",
        "wall_monitor",
        monitor.id,
        {"wall_id": monitor.wall_id, "monitor_id": monitor.id},
    )
    return DisplayToken(
        access_token=token.token, expires_in=ttl, wall_id=monitor.wall_id, monitor_id=monitor.id
    )


@router.get("/state", response_model=DisplayState)
async def display_state(session: SessionDep, monitor: Display) -> DisplayState:
    """What this monitor shows now (it reads this on each ``wall.changed`` of
    ``/ws/wall-display`` and polls it; each call marks it online)."""
    await mark_seen(session, monitor)
    wall = await session.get(VideoWall, monitor.wall_id)
    assert wall is not None
    ids = list(monitor.camera_ids or [])
    cams = list(await session.scalars(select(Camera).where(Camera.id.in_(ids)))) if ids else []
    return DisplayState(
        wall_id=wall.id,
        monitor_id=monitor.id,
        wall_name=wall.name,
        monitor_name=monitor.name,
        content=svc.content_of(monitor),
        pushed_at=monitor.pushed_at,
        cameras=[
            DisplayCamera(
                id=c.id, name=c.name, status=c.status, has_sub_stream=c.sub_stream_url is not None
            )
            for c in cams
            if c.enabled
        ],
    )


@router.get("/cameras/{camera_id}", response_model=DisplayCamera)
async def display_camera(
    session: SessionDep,
    monitor: Display,
    camera_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> DisplayCamera:
    """200 if the camera is pushed to this monitor now, 404 otherwise (streaming-service
    asks this before it serves a display token)."""
    camera = (
        await session.get(Camera, camera_id) if camera_id in (monitor.camera_ids or []) else None
    )
    if camera is None:
        raise NotFound("camera not found")
    return DisplayCamera(
        id=camera.id,
        name=camera.name,
        status=camera.status,
        has_sub_stream=camera.sub_stream_url is not None,
    )
