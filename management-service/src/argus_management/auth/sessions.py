"""Auth's listener of ``users.sessions``: revoke a user's refresh families and, once that
commits, refuse the access tokens of those families (as logout and a password reset do)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from argus_common.bus import RedisBus
from argus_management.auth import refresh as refresh_tokens
from argus_management.config import Settings
from argus_management.db import after_commit
from argus_management.rbac.tokens import deny_families
from argus_management.users.sessions import EndSessions


def end_sessions_listener(
    settings: Settings, bus: RedisBus
) -> Callable[[EndSessions], Awaitable[None]]:
    """The listener, bound to the app's settings and bus."""

    async def listener(event: EndSessions) -> None:
        families = await refresh_tokens.live_families(event.session, event.user_id)
        event.revoked = await refresh_tokens.revoke_user(event.session, event.user_id)

        async def deny() -> None:
            await deny_families(bus, families, settings.access_token_ttl_s)

        if families:
            after_commit(event.session, deny)

    return listener
