"""Stream keys: create (the secret shown once), list, revoke, and check at publish time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import Conflict, NotFound
from argus_common.events import utcnow
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.rbac.models import User
from argus_management.rbac.principal import Actor, Principal
from argus_management.rtmp.models import StreamKey
from argus_management.rtmp.schemas import KeyCreate, KeyCreated, KeyOut, KeyState

# Who sees and revokes every user's keys; everyone else (with rtmp:keys) only their own.
ALL_KEYS_PERMISSION = "users:manage"
# Compared against when no key matches, so an unknown name costs what a wrong key costs.
_DUMMY_HASH = hashlib.sha256(b"argus-no-such-rtmp-key").hexdigest()


def hash_key(secret: str) -> str:
    """The stored form of a secret (hex SHA-256)."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def state_of(key: StreamKey, now: datetime | None = None) -> KeyState:
    """``revoked`` wins over ``expired``; otherwise ``active``."""
    if key.revoked_at is not None:
        return "revoked"
    if key.expires_at is not None and key.expires_at <= (now or utcnow()):
        return "expired"
    return "active"


def publish_url(public_url: str, name: str) -> str:
    """Where a phone pushes the stream ``name`` (the key goes in ``?key=``)."""
    return f"{public_url.rstrip('/')}/live/{name}"


def to_out(key: StreamKey, username: str | None, public_url: str) -> KeyOut:
    """The listed form of a key (no secret, no hash)."""
    return KeyOut(
        id=key.id, name=key.name, user_id=key.user_id, username=username, state=state_of(key),
        created_at=key.created_at, expires_at=key.expires_at, revoked_at=key.revoked_at,
        last_used_at=key.last_used_at, camera_id=key.camera_id,
        publish_url=publish_url(public_url, key.name),
    )


async def live_key(session: AsyncSession, name: str) -> StreamKey | None:
    """The key of ``name`` that is not revoked (at most one: a partial unique index)."""
    found: StreamKey | None = await session.scalar(
        select(StreamKey).where(StreamKey.name == name, StreamKey.revoked_at.is_(None))
    )
    return found


async def named_camera(session: AsyncSession, name: str) -> Camera | None:
    """The camera that pushes to ``name`` were last recorded under (any key, any state)."""
    found: Camera | None = await session.scalar(
        select(Camera)
        .join(StreamKey, StreamKey.camera_id == Camera.id)
        .where(StreamKey.name == name)
        .order_by(StreamKey.id.desc())
        .limit(1)
    )
    return found


def secret_matches(key: StreamKey | None, secret: str | None) -> bool:
    """Constant-time comparison of a presented secret with a key's hash."""
    presented = hash_key(secret) if secret else _DUMMY_HASH
    stored = key.key_hash if key is not None else _DUMMY_HASH
    same = hmac.compare_digest(presented.encode(), stored.encode())
    return same and key is not None and bool(secret)


async def create_key(
    session: AsyncSession, principal: Principal, data: KeyCreate, actor: Actor, public_url: str
) -> KeyCreated:
    """A new key for the principal. An expired key of the same name is revoked on the way;
    a name whose camera belongs to another user is refused (its recordings are theirs)."""
    now = utcnow()
    existing = await live_key(session, data.name)
    if existing is not None:
        if state_of(existing, now) == "active":
            raise Conflict(f"a stream key named {data.name!r} already exists")
        existing.revoked_at = now
        await audit.record(session, actor, "rtmp.key_revoke", "rtmp_key", existing.id,
                           {"name": existing.name, "user_id": existing.user_id,
                            "reason": "expired; name reused"})
    camera = await named_camera(session, data.name)
    if camera is not None and camera.owner_id != principal.user_id:
        raise Conflict(f"stream name {data.name!r} belongs to another user's camera")
    secret = secrets.token_urlsafe(24)
    key = StreamKey(
        user_id=principal.user_id, name=data.name, key_hash=hash_key(secret),
        expires_at=data.expires_at, camera_id=camera.id if camera is not None else None,
    )
    session.add(key)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict(f"a stream key named {data.name!r} already exists") from None
    await audit.record(session, actor, "rtmp.key_create", "rtmp_key", key.id,
                       {"name": key.name, "expires_at": _iso(key.expires_at),
                        "user_id": key.user_id})
    out = to_out(key, principal.username, public_url)
    return KeyCreated(
        **out.model_dump(), key=secret,
        publish_url_with_key=f"{out.publish_url}?key={secret}",
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def list_keys(
    session: AsyncSession, principal: Principal, limit: int, offset: int
) -> tuple[Sequence[tuple[StreamKey, str | None]], int]:
    """Keys the principal may see (own; all with ``users:manage``), newest first."""
    query = select(StreamKey, User.username).join(User, User.id == StreamKey.user_id)
    count = select(func.count()).select_from(StreamKey)
    if not principal.has(ALL_KEYS_PERMISSION):
        query = query.where(StreamKey.user_id == principal.user_id)
        count = count.where(StreamKey.user_id == principal.user_id)
    rows = await session.execute(
        query.order_by(StreamKey.id.desc()).limit(limit).offset(offset)
    )
    return [(k, u) for k, u in rows.all()], int(await session.scalar(count) or 0)


async def visible_key(session: AsyncSession, principal: Principal, key_id: int) -> StreamKey:
    """The key ``key_id`` if the principal may manage it; 404 otherwise (no existence leak)."""
    key = await session.get(StreamKey, key_id)
    if key is None or not (
        key.user_id == principal.user_id or principal.has(ALL_KEYS_PERMISSION)
    ):
        raise NotFound("stream key not found")
    return key


async def revoke_key(session: AsyncSession, key: StreamKey, actor: Actor) -> bool:
    """Revoke ``key``; False when it already was (nothing written). A publisher using it is
    dropped at its next ``on_update`` (``RTMP_UPDATE_INTERVAL_S``)."""
    if key.revoked_at is not None:
        return False
    key.revoked_at = utcnow()
    await session.flush()
    await audit.record(session, actor, "rtmp.key_revoke", "rtmp_key", key.id,
                       {"name": key.name, "user_id": key.user_id})
    return True
