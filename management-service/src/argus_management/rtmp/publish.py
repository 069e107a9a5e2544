"""What happens when a phone starts, keeps up, and stops publishing (the nginx-rtmp hooks).

``on_publish`` accepts a push only with a valid key for its name, claims the name in Redis
(``active.py``: one publisher per name), then registers everything in one transaction: the
camera (created or reactivated, granted to the key's owner), the audit row and the
``rtmp.publish`` event through the events service, which stores it, raises the
"RTMP stream received" alert and puts it on ``argus:events`` after the commit. Anything that
fails gives the name back and leaves nothing behind.

Each handler opens its own session and commits it itself (rather than the request's
``SessionDep``): the Redis claim must be given back when the commit fails, which a
dependency that commits after the handler returned cannot tell it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import NoReturn

import structlog
from redis.exceptions import RedisError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.errors import ArgusError, BadRequest, Conflict, Forbidden
from argus_common.events import utcnow
from argus_management import versions
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.config import Settings
from argus_management.db import after_commit, run_after_commit
from argus_management.events.hooks import EventStoredHook
from argus_management.events.models import Event
from argus_management.events.schemas import EventIn
from argus_management.events.service import ingest_event
from argus_management.liveness import evidence
from argus_management.rbac.models import User
from argus_management.rbac.principal import Actor
from argus_management.rtmp import active
from argus_management.rtmp import service as keys
from argus_management.rtmp.cameras import register_camera
from argus_management.rtmp.models import StreamKey
from argus_management.rtmp.schemas import HookForm

log = structlog.get_logger("argus.rtmp")

APP = "live"  # the nginx-rtmp application phones publish to (nginx-rtmp/nginx.conf.template)


@dataclass(frozen=True)
class Accepted:
    """What an accepted publish registered."""

    camera_id: int
    event_id: int
    camera_created: bool


def _stream(form: HookForm) -> str | None:
    """The stream name if it is one we could have issued (else not worth logging)."""
    return form.name if form.valid_name else None


async def _refuse(
    maker: async_sessionmaker[AsyncSession], form: HookForm, error: type[ArgusError],
    reason: str, detail: str,
) -> NoReturn:
    """Log and audit a refused publish, then raise ``error`` (nginx refuses on any 4xx)."""
    log.warning("rtmp_publish_refused", reason=reason, stream=_stream(form),
                addr=form.addr, client_id=form.client_id)
    actor = Actor(user_id=None, username=None, ip=form.addr, user_agent=form.flashver or None)
    try:
        await audit.record_detached(maker, actor, "rtmp.publish", "rtmp_stream", _stream(form),
                                    {"reason": reason}, result="denied")
    except Exception:
        log.exception("rtmp_refusal_audit_failed")
    raise error(detail)


async def _valid_key(
    session: AsyncSession, maker: async_sessionmaker[AsyncSession], form: HookForm
) -> StreamKey:
    if form.app != APP or form.call != "publish":
        await _refuse(maker, form, BadRequest, "bad_app", "unknown application or call")
    if not form.valid_name:
        await _refuse(maker, form, BadRequest, "bad_name",
                      "stream name must match [A-Za-z0-9_-]{1,64}")
    if form.key is None:
        await _refuse(maker, form, Forbidden, "no_key", "stream key missing (?key=…)")
    key = await keys.live_key(session, form.name)
    if key is None or not keys.secret_matches(key, form.key):
        await _refuse(maker, form, Forbidden, "bad_key", "invalid stream key")
    if keys.state_of(key) != "active":
        await _refuse(maker, form, Forbidden, "expired", "stream key expired")
    return key


async def on_publish(
    maker: async_sessionmaker[AsyncSession], bus: RedisBus, settings: Settings,
    stored: EventStoredHook, form: HookForm,
) -> Accepted:
    """Accept or refuse a publisher (see the module docstring)."""
    async with maker() as session:
        key = await _valid_key(session, maker, form)
        if not await active.claim(bus, form.name, form.client_id,
                                  settings.rtmp_update_interval_s):
            await _refuse(maker, form, Conflict, "already_publishing",
                          "another publisher is live on this stream name")
        try:
            accepted = await _register(session, maker, bus, settings, stored, key, form)
            await session.commit()
        except BaseException:
            await session.rollback()
            try:
                await active.release(bus, form.name, form.client_id)
            except RedisError:
                log.warning("rtmp_claim_release_failed", stream=form.name)
            raise
        await run_after_commit(session)
    log.info("rtmp_publish_accepted", stream=form.name, camera_id=accepted.camera_id,
             event_id=accepted.event_id, camera_created=accepted.camera_created,
             addr=form.addr, client_id=form.client_id)
    return accepted


async def _register(
    session: AsyncSession, maker: async_sessionmaker[AsyncSession], bus: RedisBus,
    settings: Settings, stored: EventStoredHook, key: StreamKey, form: HookForm,
) -> Accepted:
    owner = await session.get(User, key.user_id)
    if owner is None or not owner.is_active:
        await _refuse(maker, form, Forbidden, "owner_inactive", "the key's owner is disabled")
    registered = await register_camera(session, bus, settings, key, form.name, owner.id)
    if registered.refusal is not None:
        await _refuse(maker, form, Forbidden, registered.refusal[0], registered.refusal[1])
    camera = registered.camera
    now = utcnow()
    key.last_used_at = now
    actor = Actor(user_id=owner.id, username=owner.username, ip=form.addr,
                  user_agent=form.flashver or None)
    await audit.record(session, actor, "rtmp.publish", "camera", camera.id,
                       {"stream": form.name, "key_id": key.id, "client_id": form.client_id,
                        "camera_created": registered.created})
    event, _ = await ingest_event(session, bus, stored, EventIn(
        id=f"rtmp-{uuid.uuid4().hex}", type="rtmp.publish", camera_id=camera.id, ts=now,
        severity="critical",
        payload={"stream": form.name, "key_id": key.id, "user_id": owner.id},
    ))
    return Accepted(camera.id, event.id, registered.created)


def _check_stream(form: HookForm) -> None:
    """Notifications about streams we cannot have accepted are answered 400."""
    if form.app != APP:
        raise BadRequest("unknown application")
    if not form.valid_name:
        raise BadRequest("stream name must match [A-Za-z0-9_-]{1,64}")


async def on_update(
    maker: async_sessionmaker[AsyncSession], bus: RedisBus, settings: Settings, form: HookForm
) -> None:
    """Every ``RTMP_UPDATE_INTERVAL_S`` while publishing: keep the name claimed and the
    camera seen. A revoked or expired key, or a publisher that is not the one registered,
    gets a 4xx, on which nginx drops the connection.

    nginx sends the same notification for players (``call=update_play``: the recorder and
    the streaming service); nginx's own ``allow play`` rules admit them, so they pass."""
    _check_stream(form)
    if form.call == "update_play":
        return
    if form.call != "update_publish":
        raise BadRequest("unexpected notification")
    async with maker() as session:
        key = await keys.live_key(session, form.name)
        if key is None or not keys.secret_matches(key, form.key):
            log.warning("rtmp_publisher_dropped", reason="key_revoked", stream=form.name,
                        client_id=form.client_id)
            raise Forbidden("stream key revoked")
        if keys.state_of(key) != "active":
            log.warning("rtmp_publisher_dropped", reason="expired", stream=form.name,
                        client_id=form.client_id)
            raise Forbidden("stream key expired")
        outcome = await active.renew(bus, form.name, form.client_id,
                                     settings.rtmp_update_interval_s)
        if outcome == "other":
            log.warning("rtmp_publisher_dropped", reason="not_registered", stream=form.name,
                        client_id=form.client_id)
            raise Conflict("another publisher is registered on this stream name")
        camera = await session.get(Camera, key.camera_id) if key.camera_id else None
        if camera is None:
            return
        await evidence.mark_seen(bus, camera.id, time.time(), "rtmp")
        if outcome == "reclaimed" and camera.status != "online":
            # The claim had lapsed (management unreachable for a while) and a stray
            # publish_done may have marked the camera offline: it is live again.
            camera.status = "online"
            camera.last_seen = utcnow()
            await session.commit()
            await versions.bump(bus, versions.CAMERAS)


async def on_publish_done(
    maker: async_sessionmaker[AsyncSession], bus: RedisBus, stored: EventStoredHook,
    form: HookForm,
) -> None:
    """The publisher left: end its ``rtmp.publish`` event (``rtmp.unpublish`` naming it)
    and mark the camera offline. The camera stays, for playback; retention applies."""
    _check_stream(form)
    if form.call != "publish_done":
        raise BadRequest("unexpected notification")
    try:
        released = await active.release(bus, form.name, form.client_id)
    except RedisError:
        # Redis down: no second publisher can have been accepted meanwhile (claims fail
        # too), so this is the registered one.
        released = "absent"
    if released == "other":
        log.info("rtmp_publish_done_ignored", reason="not_registered", stream=form.name,
                 client_id=form.client_id)
        return
    async with maker() as session:
        await _end(session, bus, stored, form)
        await session.commit()
        await run_after_commit(session)


async def _end(
    session: AsyncSession, bus: RedisBus, stored: EventStoredHook, form: HookForm
) -> None:
    camera = await keys.named_camera(session, form.name)
    if camera is None:
        return
    open_events = list(await session.scalars(
        select(Event)
        .where(Event.camera_id == camera.id, Event.type == "rtmp.publish",
               Event.ended_at.is_(None))
        .order_by(Event.started_at.desc(), Event.id.desc())
    ))
    now = utcnow()
    camera.status = "offline"
    for event in open_events:
        event.ended_at = max(now, event.started_at)
    await session.flush()

    async def bump() -> None:
        await versions.bump(bus, versions.CAMERAS)

    after_commit(session, bump)
    if not open_events:
        return
    publish_event = open_events[0]
    actor = Actor(user_id=camera.owner_id, username=None, ip=form.addr,
                  user_agent=form.flashver or None)
    await audit.record(session, actor, "rtmp.unpublish", "camera", camera.id,
                       {"stream": form.name, "publish_event_id": publish_event.id,
                        "client_id": form.client_id})
    await ingest_event(session, bus, stored, EventIn(
        id=f"rtmp-{uuid.uuid4().hex}", type="rtmp.unpublish", camera_id=camera.id, ts=now,
        payload={"stream": form.name, "publish_event_id": publish_event.id},
    ))
    log.info("rtmp_publish_done", stream=form.name, camera_id=camera.id,
             publish_event_id=publish_event.id, client_id=form.client_id)
