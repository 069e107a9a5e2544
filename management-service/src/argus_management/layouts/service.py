"""Saved layouts: own and shared ones, with camera visibility enforced on every read.

A layout may be shared with everybody, but sharing never widens camera access: each reader
gets ``null`` for cells holding cameras they may not see (or that no longer exist).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from argus_common.errors import Conflict, Forbidden, NotFound, Unprocessable
from argus_management.audit import service as audit
from argus_management.cameras.models import Camera
from argus_management.layouts.models import Layout
from argus_management.layouts.schemas import (
    LayoutCreate,
    LayoutOut,
    LayoutUpdate,
    Tour,
    TourOut,
    check_tours,
)
from argus_management.rbac.models import User
from argus_management.rbac.principal import Actor, Principal

# Administrators may read and change every layout (to clean up after people who left).
ADMIN_PERMISSION = "users:manage"


def _stored_cells(layout: Layout) -> list[int | None]:
    """The cells as stored, always exactly ``grid`` long whatever the JSON holds."""
    raw = (layout.cells or {}).get("cells")
    cells = [
        c if isinstance(c, int) and not isinstance(c, bool) else None
        for c in (raw if isinstance(raw, list) else [])
    ]
    return (cells + [None] * layout.grid)[: layout.grid]


def _stored_tours(layout: Layout) -> list[Tour]:
    """The tours as stored; anything the JSON holds that is no longer valid is left out."""
    raw = (layout.cells or {}).get("tours")
    tours: list[Tour] = []
    for item in raw if isinstance(raw, list) else []:
        try:
            tour = Tour.model_validate(item)
        except ValueError:
            continue
        if tour.cell < layout.grid:
            tours.append(tour)
    return tours


def _tour_cameras(tours: Iterable[Tour]) -> list[int]:
    return [c for t in tours for c in t.cameras]


async def _visible(
    session: AsyncSession, principal: Principal, ids: Iterable[int | None]
) -> set[int]:
    """Those of ``ids`` that exist and that the principal may see."""
    wanted = {i for i in ids if i is not None and principal.may_see_camera(i)}
    if not wanted:
        return set()
    found = await session.scalars(select(Camera.id).where(Camera.id.in_(wanted)))
    return set(found.all())


def _to_out(layout: Layout, owner: str | None, visible: set[int]) -> LayoutOut:
    return LayoutOut(
        id=layout.id,
        name=layout.name,
        grid=layout.grid,
        cells=[c if c in visible else None for c in _stored_cells(layout)],
        # Hidden cameras leave the tour; a tour with one camera left just shows it.
        tours=[
            TourOut(cell=t.cell, dwell_s=t.dwell_s, cameras=[c for c in t.cameras if c in visible])
            for t in _stored_tours(layout)
            if any(c in visible for c in t.cameras)
        ],
        owner_id=layout.owner_id,
        owner=owner,
        shared=layout.shared,
        created_at=layout.created_at,
        updated_at=layout.updated_at,
    )


async def layout_out(session: AsyncSession, principal: Principal, layout: Layout) -> LayoutOut:
    """One layout as ``principal`` may see it."""
    if layout.owner_id == principal.user_id:
        owner: str | None = principal.username
    else:
        owner = await session.scalar(select(User.username).where(User.id == layout.owner_id))
    ids = [*_stored_cells(layout), *_tour_cameras(_stored_tours(layout))]
    return _to_out(layout, owner, await _visible(session, principal, ids))


async def list_layouts(
    session: AsyncSession, principal: Principal, limit: int, offset: int
) -> tuple[list[LayoutOut], int]:
    """The principal's own layouts and every shared one, by name."""
    mine_or_shared = or_(Layout.owner_id == principal.user_id, Layout.shared.is_(True))
    total = (
        await session.scalar(select(func.count()).select_from(Layout).where(mine_or_shared)) or 0
    )
    rows = (
        await session.execute(
            select(Layout, User.username)
            .join(User, User.id == Layout.owner_id)
            .where(mine_or_shared)
            .order_by(Layout.name, Layout.id)
            .limit(limit)
            .offset(offset)
        )
    ).all()
    visible = await _visible(
        session,
        principal,
        (
            c
            for layout, _ in rows
            for c in [*_stored_cells(layout), *_tour_cameras(_stored_tours(layout))]
        ),
    )
    return [_to_out(layout, owner, visible) for layout, owner in rows], total


def _may_change(principal: Principal, layout: Layout) -> bool:
    return layout.owner_id == principal.user_id or principal.has(ADMIN_PERMISSION)


async def get_layout(session: AsyncSession, principal: Principal, layout_id: int) -> Layout:
    """A layout the principal may read; someone else's private layout is a 404 (its
    existence is not disclosed)."""
    layout = await session.get(Layout, layout_id)
    if layout is None or not (layout.shared or _may_change(principal, layout)):
        raise NotFound("layout not found")
    return layout


async def get_layout_for_change(
    session: AsyncSession, principal: Principal, layout_id: int
) -> Layout:
    """A layout the principal may change: 404 when unreadable, 403 when only readable."""
    layout = await get_layout(session, principal, layout_id)
    if not _may_change(principal, layout):
        raise Forbidden("only the owner or an administrator may change this layout")
    return layout


async def _check_cells(
    session: AsyncSession, principal: Principal, cells: list[int | None]
) -> None:
    """Every camera in ``cells`` must exist and be visible to the principal (else 422).

    Missing and hidden cameras get the same answer so the error reveals nothing.
    """
    ids = {c for c in cells if c is not None}
    bad = sorted(ids - await _visible(session, principal, ids))
    if bad:
        raise Unprocessable(f"unknown camera id(s): {', '.join(str(i) for i in bad[:20])}")


async def _check_name(
    session: AsyncSession, owner_id: int, name: str, exclude_id: int | None
) -> None:
    query = select(Layout.id).where(Layout.owner_id == owner_id, Layout.name == name)
    if exclude_id is not None:
        query = query.where(Layout.id != exclude_id)
    if await session.scalar(query.limit(1)):
        raise Conflict("you already have a layout with this name")


async def _flush_unique(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError:
        raise Conflict("you already have a layout with this name") from None


async def create_layout(
    session: AsyncSession, principal: Principal, actor: Actor, data: LayoutCreate
) -> LayoutOut:
    """Create a layout owned by the principal."""
    cells = list(data.cells or [])
    tours = [t.model_dump() for t in data.tours]
    await _check_cells(session, principal, [*cells, *_tour_cameras(data.tours)])
    await _check_name(session, principal.user_id, data.name, None)
    layout = Layout(
        name=data.name,
        grid=data.grid,
        cells={"cells": cells, "tours": tours},
        owner_id=principal.user_id,
        shared=data.shared,
    )
    session.add(layout)
    # The flush's RETURNING fills id, created_at and updated_at (``eager_defaults``): no
    # refresh, one round trip less while this request holds SQLite's write lock.
    await _flush_unique(session)
    await audit.record(
        session,
        actor,
        "layout.create",
        "layout",
        layout.id,
        {
            "name": layout.name,
            "grid": layout.grid,
            "cells": cells,
            "tours": tours,
            "shared": layout.shared,
        },
    )
    return await layout_out(session, principal, layout)


async def update_layout(
    session: AsyncSession, principal: Principal, actor: Actor, layout: Layout, data: LayoutUpdate
) -> LayoutOut:
    """Apply a partial update (the caller checked the principal may change the layout)."""
    changes: dict[str, Any] = {}
    old_cells = _stored_cells(layout)
    grid = data.grid if data.grid is not None else layout.grid
    cells = list(data.cells) if data.cells is not None else old_cells
    if data.grid is not None and data.cells is None and data.grid != layout.grid:
        raise Unprocessable("changing grid needs the new cells as well")
    if len(cells) != grid:
        raise Unprocessable(f"cells must have exactly {grid} entries (one per grid cell)")
    old_tours = [t.model_dump() for t in _stored_tours(layout)]
    tours_in = data.tours if data.tours is not None else _stored_tours(layout)
    try:
        check_tours(tours_in, grid)
    except ValueError as exc:
        raise Unprocessable(str(exc)) from None
    tours = [t.model_dump() for t in tours_in]
    # Only newly placed cameras need checking: an unchanged hidden cell round-trips as
    # null, so the caller cannot re-submit (or learn) a camera they may not see.
    placed = [
        *(cells if data.cells is not None else []),
        *(_tour_cameras(data.tours) if data.tours is not None else []),
    ]
    if placed:
        await _check_cells(session, principal, placed)
    if data.name is not None and data.name != layout.name:
        await _check_name(session, layout.owner_id, data.name, layout.id)
        changes["name"] = {"from": layout.name, "to": data.name}
        layout.name = data.name
    if grid != layout.grid:
        changes["grid"] = {"from": layout.grid, "to": grid}
        layout.grid = grid
    if cells != old_cells:
        changes["cells"] = {"from": old_cells, "to": cells}
    if tours != old_tours:
        changes["tours"] = {"from": old_tours, "to": tours}
    if cells != old_cells or tours != old_tours:
        layout.cells = {"cells": cells, "tours": tours}
    if data.shared is not None and data.shared != layout.shared:
        changes["shared"] = {"from": layout.shared, "to": data.shared}
        layout.shared = data.shared
    if changes:
        await _flush_unique(session)
        await session.refresh(layout)
        await audit.record(session, actor, "layout.update", "layout", layout.id, changes)
    return await layout_out(session, principal, layout)


async def delete_layout(session: AsyncSession, actor: Actor, layout: Layout) -> None:
    """Delete a layout (the caller checked the principal may change it)."""
    summary = {"name": layout.name, "owner_id": layout.owner_id}
    await session.delete(layout)
    await session.flush()
    await audit.record(session, actor, "layout.delete", "layout", layout.id, summary)
