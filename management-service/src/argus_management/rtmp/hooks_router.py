"""nginx-rtmp notifications under ``/internal/rtmp`` (``on_publish``, ``on_update``,
``on_publish_done``).

nginx-rtmp posts a form and cannot add headers, so these routes, and only these, also take
the credential from the ``internal_key`` query parameter of the URL configured in
nginx.conf: the ``rtmp`` service credential, whose only scope is these hooks (it sits in the
config of the internet-facing RTMP server). nginx reads only the status: 2xx accepts,
anything else refuses (``on_publish``) or drops the publisher (``on_update``).
"""

from __future__ import annotations

import structlog
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel
from redis.exceptions import RedisError
from sqlalchemy.exc import InterfaceError, OperationalError

from argus_common.errors import PayloadTooLarge
from argus_management.deps import StateDep
from argus_management.rbac.service_scopes import RTMP_HOOKS, require_service_scope
from argus_management.rtmp import publish
from argus_management.rtmp.schemas import MAX_HOOK_BODY, HookForm, parse_hook_form

log = structlog.get_logger("argus.rtmp.hooks")


# The credential (header or ``internal_key``), compared in constant time, never logged.
require_hook_key = require_service_scope(RTMP_HOOKS, query_param="internal_key")
router = APIRouter(dependencies=[Depends(require_hook_key)])


class HookAnswer(BaseModel):
    """What management says to nginx (only the status matters to nginx)."""

    result: str
    camera_id: int | None = None
    event_id: int | None = None


async def _form(request: Request) -> HookForm:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_HOOK_BODY:
            raise PayloadTooLarge(f"notification larger than {MAX_HOOK_BODY} bytes")
        chunks.append(chunk)
    return parse_hook_form(b"".join(chunks))


@router.post("/on_publish", response_model=HookAnswer)
async def on_publish(request: Request, state: StateDep) -> HookAnswer:
    """2xx: the publisher may stream (camera registered, alert raised, event started);
    400 bad name, 403 no/unknown/revoked/expired key, 409 the name is being published."""
    accepted = await publish.on_publish(
        state.sessionmaker, state.bus, state.settings, state.event_stored, await _form(request)
    )
    return HookAnswer(result="accepted", camera_id=accepted.camera_id,
                      event_id=accepted.event_id)


@router.post("/on_update", response_model=HookAnswer)
async def on_update(request: Request, state: StateDep) -> HookAnswer:
    """2xx keeps the publisher; 403/409 make nginx drop it.

    nginx drops a publisher on any non-2xx answer, so when the database or Redis is briefly
    unreachable the publisher is kept (its key was checked at publish time) rather than
    every phone being cut off at once: only a definite "revoked" or "not yours" drops it.
    """
    form = await _form(request)
    try:
        await publish.on_update(state.sessionmaker, state.bus, state.settings, form)
    except (RedisError, OperationalError, InterfaceError, OSError) as exc:
        log.warning("rtmp_update_unverified", error=type(exc).__name__, stream=form.name
                    if form.valid_name else None)
        return HookAnswer(result="unverified")
    return HookAnswer(result="ok")


@router.post("/on_publish_done", response_model=HookAnswer)
async def on_publish_done(request: Request, state: StateDep) -> HookAnswer:
    """The publisher left: its event ends, the camera goes offline (kept for playback)."""
    await publish.on_publish_done(
        state.sessionmaker, state.bus, state.event_stored, await _form(request)
    )
    return HookAnswer(result="ok")
