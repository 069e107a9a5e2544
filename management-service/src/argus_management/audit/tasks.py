"""Background work of the audit domain (started from ``background.py``)."""

from __future__ import annotations

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.retry import every
from argus_management.audit.throttle import flush_due

log = structlog.get_logger("argus.audit")

# Counted throttled events of a past minute wait at most this long for their row.
FLUSH_PERIOD_S = 10.0


async def run_throttle_flush(maker: async_sessionmaker[AsyncSession]) -> None:
    """Write the rows of counted throttled events (``throttle.flush_due``) every few
    seconds until cancelled; a failure is logged and tried again one period later."""

    async def flush() -> None:
        await flush_due(maker)

    await every(FLUSH_PERIOD_S, flush, event="audit_throttle_flush_failed", log=log)
