"""Layout API schemas: a named grid of 1, 4, 9 or 16 cells, each a camera id or empty, and
camera tours: a cell that cycles through a list of cameras, each shown for ``dwell_s``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

MAX_ID = 2**31 - 1
GRIDS = (1, 4, 9, 16)


def _not_bool(value: Any) -> Any:
    # JSON ``true`` would otherwise pass as the integer 1.
    if isinstance(value, bool):
        raise ValueError("must be an integer, not a boolean")
    return value


Grid = Annotated[Literal[1, 4, 9, 16], BeforeValidator(_not_bool)]
# Strict: ``true`` or ``"4"`` are type errors, not camera 1 or 4.
CameraId = Annotated[int, Field(strict=True, ge=1, le=MAX_ID)]
Cells = Annotated[list[CameraId | None], Field(max_length=16)]
MAX_TOUR_CAMERAS = 64
# Stripped first (str_strip_whitespace); control characters are refused (PostgreSQL cannot
# store NUL and the console would render the rest badly).
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


class Tour(BaseModel):
    """One cell's camera tour (a 1-cell layout with a tour is a whole-layout tour)."""

    model_config = ConfigDict(extra="forbid")

    cell: Annotated[int, Field(strict=True, ge=0, le=15)]
    cameras: Annotated[list[CameraId], Field(min_length=2, max_length=MAX_TOUR_CAMERAS)]
    dwell_s: Annotated[int, Field(strict=True, ge=3, le=3600)] = 10

    @model_validator(mode="after")
    def _distinct(self) -> Tour:
        if len(set(self.cameras)) != len(self.cameras):
            raise ValueError("a tour lists each camera once")
        return self


Tours = Annotated[list[Tour], Field(max_length=16)]


def check_tours(tours: list[Tour], grid: int) -> None:
    """Each tour in a cell of the grid, at most one per cell (ValueError otherwise)."""
    cells = [t.cell for t in tours]
    if len(set(cells)) != len(cells):
        raise ValueError("at most one tour per cell")
    if any(c >= grid for c in cells):
        raise ValueError(f"a tour's cell must be below the grid size ({grid})")


class LayoutCreate(BaseModel):
    """A new layout; ``cells`` defaults to an empty grid and must have ``grid`` entries."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    grid: Grid = 4
    cells: Cells | None = None
    shared: bool = False
    tours: Tours = Field(default_factory=list)

    @model_validator(mode="after")
    def _cells_fill_grid(self) -> LayoutCreate:
        if self.cells is None:
            self.cells = [None] * self.grid
        elif len(self.cells) != self.grid:
            raise ValueError(f"cells must have exactly {self.grid} entries (one per grid cell)")
        check_tours(self.tours, self.grid)
        return self


class LayoutUpdate(BaseModel):
    """Partial update; the resulting cells must still have ``grid`` entries."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    grid: Grid | None = None
    cells: Cells | None = None
    shared: bool | None = None
    tours: Tours | None = None


class TourOut(BaseModel):
    """A tour as one reader sees it: only the cameras they may see (one or more)."""

    cell: int
    cameras: list[int]
    dwell_s: int


class LayoutOut(BaseModel):
    """A layout as one user sees it: cells they may not see come back empty (null)."""

    id: int
    name: str
    grid: int
    cells: list[int | None]
    tours: list[TourOut]
    owner_id: int
    owner: str | None
    shared: bool
    created_at: datetime
    updated_at: datetime
