"""Instants from query strings (``start``/``end`` of recordings): in UTC and in range."""

from __future__ import annotations

from datetime import UTC, datetime

from argus_common.errors import Unprocessable

# No recording is older than the epoch. Management's timeline refuses instants from 2200
# on (a 422 that would come back here as "management unavailable", 503); a year short of
# it leaves room for look-ahead windows (playback asks for start + 6 h).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2199, 1, 1, tzinfo=UTC)


def utc_instant(value: datetime, name: str) -> datetime:
    """``value`` in UTC (naive means UTC); 422 before 1970 or from 2199 on, and for an
    offset that moves it past the calendar's ends (0001-01-01T00:00+01:00)."""
    try:
        out = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise Unprocessable(f"{name} is out of range") from None
    if not EARLIEST <= out < LATEST:
        raise Unprocessable(f"{name} must be between 1970 and 2199")
    return out
