"""The app's typed state and the dependency aliases that hand it to routes.

The lifespan builds one :class:`AppState` and stores it on the app; this module is the only
other place that reads ``app.state``. Routes ask for what they use (``SettingsDep``,
``BusDep``, ``SessionmakerDep``, ``CachesDep`` …); services get it as arguments and never
see the app. Fields are read at call time, never copied at start, so a test may swap one
(a dead database, a broken mailer) on a running app.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, FastAPI
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from starlette.requests import HTTPConnection

from argus_common.bus import RedisBus
from argus_common.jwt import JwtCodec
from argus_management.auth.mailer import Mailer
from argus_management.cameras.cache import ResponseCache
from argus_management.config import Settings
from argus_management.db import run_after_commit
from argus_management.events.hooks import EventStoredHook
from argus_management.users.passwords import PasswordHasher
from argus_management.users.sessions import EndSessionsHook, end_sessions_hook

if TYPE_CHECKING:
    from argus_management.alerts.hub import AlertHub
    from argus_management.analysis.hub import AnalysisHub
    from argus_management.cameras.service import ProfileFiller
    from argus_management.liveness.checker import LivenessChecker
    from argus_management.notify.webhook import WebhookNotifier
    from argus_management.ptz.runtime import PtzRuntime
    from argus_management.rbac.principal import Principal

# The attribute of ``app.state`` holding the AppState (nothing else is stored there).
_STATE_ATTR = "argus"

@dataclass
class Caches:
    """Per-process caches keyed on the Redis version counters (see ``versions.py``)."""

    # (user id, authz version, bucket) -> Principal
    principals: dict[tuple[int, Any, int], Principal] = field(default_factory=dict)
    responses: ResponseCache = field(default_factory=ResponseCache)

    def clear(self) -> None:
        self.principals.clear()
        self.responses.clear()


@dataclass
class AppState:
    """Everything the app shares between requests and background tasks."""

    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    redis: Redis
    bus: RedisBus
    jwt: JwtCodec
    hasher: PasswordHasher
    mailer: Mailer
    caches: Caches
    event_stored: EventStoredHook
    fill_from_profile: ProfileFiller
    alert_hub: AlertHub
    analysis_hub: AnalysisHub
    ptz: PtzRuntime
    webhook: WebhookNotifier | None = None
    liveness: LivenessChecker | None = None
    # Fired by the users service when an admin's change must end a user's sessions.
    end_sessions: EndSessionsHook = field(default_factory=end_sessions_hook)


def install_state(app: FastAPI, state: AppState) -> None:
    """Make ``state`` the app's (the lifespan calls this once it is built)."""
    setattr(app.state, _STATE_ATTR, state)


def app_state(app: FastAPI) -> AppState:
    """The state of a started app (tests use it to reach the bus, the codec …)."""
    state: AppState | None = getattr(app.state, _STATE_ATTR, None)
    if state is None:
        raise RuntimeError("the app has not started: its lifespan builds the state")
    return state


# The getters are coroutines: FastAPI runs plain-function dependencies in a thread pool.
async def get_state(conn: HTTPConnection) -> AppState:
    """The state, for HTTP and WebSocket routes alike."""
    return app_state(conn.app)


async def get_settings(conn: HTTPConnection) -> Settings:
    return app_state(conn.app).settings


async def get_bus(conn: HTTPConnection) -> RedisBus:
    return app_state(conn.app).bus


async def get_redis(conn: HTTPConnection) -> Redis:
    return app_state(conn.app).redis


async def get_jwt(conn: HTTPConnection) -> JwtCodec:
    return app_state(conn.app).jwt


async def get_sessionmaker(conn: HTTPConnection) -> async_sessionmaker[AsyncSession]:
    return app_state(conn.app).sessionmaker


async def get_engine(conn: HTTPConnection) -> AsyncEngine:
    return app_state(conn.app).engine


async def get_hasher(conn: HTTPConnection) -> PasswordHasher:
    return app_state(conn.app).hasher


async def get_mailer(conn: HTTPConnection) -> Mailer:
    return app_state(conn.app).mailer


async def get_caches(conn: HTTPConnection) -> Caches:
    return app_state(conn.app).caches


async def get_event_stored(conn: HTTPConnection) -> EventStoredHook:
    return app_state(conn.app).event_stored


async def get_end_sessions(conn: HTTPConnection) -> EndSessionsHook:
    return app_state(conn.app).end_sessions


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
BusDep = Annotated[RedisBus, Depends(get_bus)]
RedisDep = Annotated[Redis, Depends(get_redis)]
JwtDep = Annotated[JwtCodec, Depends(get_jwt)]
SessionmakerDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_sessionmaker)]
EngineDep = Annotated[AsyncEngine, Depends(get_engine)]
HasherDep = Annotated[PasswordHasher, Depends(get_hasher)]
MailerDep = Annotated[Mailer, Depends(get_mailer)]
CachesDep = Annotated[Caches, Depends(get_caches)]
EventStoredDep = Annotated[EventStoredHook, Depends(get_event_stored)]
EndSessionsDep = Annotated[EndSessionsHook, Depends(get_end_sessions)]


async def get_session(conn: HTTPConnection) -> AsyncIterator[AsyncSession]:
    """One session per request: committed on success, rolled back on error.

    Services only ``flush()``; this is the one place that commits. Actions queued with
    ``db.after_commit`` run after the commit succeeded.
    """
    async with app_state(conn.app).sessionmaker() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            session.info.pop("after_commit", None)
            await session.rollback()
            raise
        await run_after_commit(session)


# scope="function": commit before the response is sent, so a failed commit is never a 2xx.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
