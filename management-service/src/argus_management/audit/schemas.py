"""Audit log API schemas (read-only: the trail has no update or delete API)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditOut(BaseModel):
    """One audit entry: who (user, ip, client) did what (action) to what (target), and how
    it ended (``success``, ``failure`` or ``denied``)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ts: datetime
    user_id: int | None
    username: str | None
    ip: str | None
    user_agent: str | None
    action: str
    target_type: str | None
    target_id: str | None
    summary: dict[str, Any]
    result: str


class AuditFilters(BaseModel):
    """Filters of an audit query; ``None`` means no filter on that field."""

    user: str | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    start: datetime | None = None
    end: datetime | None = None
