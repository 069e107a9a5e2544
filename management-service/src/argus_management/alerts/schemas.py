"""Response bodies and filters of the alerts API."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from argus_management.alerts.rules import NAME_PATTERN, Severity
from argus_management.events.schemas import RowId

AlertState = Literal["open", "acked", "resolved"]


class AlertOut(BaseModel):
    """An alert as the API returns it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    severity: str
    state: str
    camera_id: int | None
    event_id: int | None
    title: str
    detail: str
    payload: dict[str, Any]
    created_at: datetime
    acked_at: datetime | None
    acked_by: int | None
    resolved_at: datetime | None


class AlertFilters(BaseModel):
    """Filters of ``GET /api/v1/alerts``."""

    model_config = ConfigDict(extra="forbid")

    state: AlertState | None = None
    kind: str | None = Field(None, pattern=NAME_PATTERN)
    camera_id: RowId | None = None
    severity: Severity | None = None
