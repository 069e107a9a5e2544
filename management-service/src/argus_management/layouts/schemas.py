"""Layout API schemas: a named grid of 1, 4, 9 or 16 cells, each a camera id or empty."""

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
# Stripped first (str_strip_whitespace); control characters are refused (PostgreSQL cannot
# store NUL and the console would render the rest badly).
Name = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[^\x00-\x1f\x7f]+$")]


class LayoutCreate(BaseModel):
    """A new layout; ``cells`` defaults to an empty grid and must have ``grid`` entries."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name
    grid: Grid = 4
    cells: Cells | None = None
    shared: bool = False

    @model_validator(mode="after")
    def _cells_fill_grid(self) -> LayoutCreate:
        if self.cells is None:
            self.cells = [None] * self.grid
        elif len(self.cells) != self.grid:
            raise ValueError(f"cells must have exactly {self.grid} entries (one per grid cell)")
        return self


class LayoutUpdate(BaseModel):
    """Partial update; the resulting cells must still have ``grid`` entries."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Name | None = None
    grid: Grid | None = None
    cells: Cells | None = None
    shared: bool | None = None


class LayoutOut(BaseModel):
    """A layout as one user sees it: cells they may not see come back empty (null)."""

    id: int
    name: str
    grid: int
    cells: list[int | None]
    owner_id: int
    owner: str | None
    shared: bool
    created_at: datetime
    updated_at: datetime
