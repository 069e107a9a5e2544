"""Instants from query strings (``start``/``end`` of recordings): in UTC and in range."""

from __future__ import annotations

from datetime import UTC, datetime

from argus_common.errors import Unprocessable

# No recording is older than the epoch; the far bound leaves room for date arithmetic
# (look-ahead windows) that would overflow near year 9999.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def utc_instant(value: datetime, name: str) -> datetime:
    """``value`` in UTC (naive means UTC); 422 before 1970 or from year 9000 on, and for
    an offset that moves it past the calendar's ends (0001-01-01T00:00+01:00)."""
    try:
        out = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise Unprocessable(f"{name} is out of range") from None
    if not EARLIEST <= out < LATEST:
        raise Unprocessable(f"{name} must be between 1970 and 9000")
    return out
