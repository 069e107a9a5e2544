"""Pagination shared by every list endpoint: ``limit``/``offset`` with a maximum page size."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel

from argus_common.errors import Unprocessable
from argus_management.deps import app_state

T = TypeVar("T")


class PageParams(BaseModel):
    limit: int
    offset: int


async def page_params(
    request: Request,
    limit: Annotated[int, Query(ge=1, description="page size")] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> PageParams:
    maximum = app_state(request.app).settings.max_page_size
    if limit > maximum:
        raise Unprocessable(f"limit must be at most {maximum}")
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int
