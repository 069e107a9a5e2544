"""Which rows of camera-scoped tables (events, alerts) a principal may see."""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true
from sqlalchemy.orm import InstrumentedAttribute

from argus_management.rbac.principal import Principal


def visible_cameras(
    column: InstrumentedAttribute[int | None], principal: Principal
) -> ColumnElement[bool]:
    """SQL condition: rows of cameras ``principal`` may see. Rows without a camera (system
    events and alerts) are visible only to principals who see every camera."""
    if principal.sees_all_cameras:
        return true()
    if not principal.camera_ids:
        return false()
    return column.in_(sorted(principal.camera_ids))
