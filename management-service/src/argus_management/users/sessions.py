"""Ending a user's sessions when an administrator changes the account.

Resetting a user's password, disabling the user or taking permissions away must end the
sessions already open: their refresh tokens and the access tokens that name them. The
tokens belong to the auth domain, which imports this one, so the users service fires a hook
and auth's listener (subscribed in ``main.py``) does the revoking, inside the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from argus_management.hooks import Hook


@dataclass
class EndSessions:
    """End every session of ``user_id`` (the listener fills in ``revoked``)."""

    session: AsyncSession
    user_id: int
    reason: str
    revoked: int = 0


EndSessionsHook = Hook[EndSessions]


def end_sessions_hook() -> EndSessionsHook:
    return Hook("end_sessions")
