"""Backup file names: ``argus-<UTC instant>.<kind>``, so a listing sorts by age and the
name alone tells when the backup was taken."""

from __future__ import annotations

import re
from datetime import UTC, datetime

KINDS = ("sqlite", "pgdump")
_NAME = re.compile(r"^argus-(\d{8}T\d{6}Z)\.(sqlite|pgdump)$")
_FORMAT = "%Y%m%dT%H%M%SZ"


def backup_name(taken_at: datetime, kind: str) -> str:
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    return f"argus-{taken_at.astimezone(UTC).strftime(_FORMAT)}.{kind}"


def parse_name(name: str) -> tuple[datetime, str] | None:
    """(taken at, kind) of a backup's file name; None for any other file."""
    m = _NAME.match(name)
    if m is None:
        return None
    return datetime.strptime(m.group(1), _FORMAT).replace(tzinfo=UTC), m.group(2)
