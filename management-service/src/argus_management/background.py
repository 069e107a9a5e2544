"""Background tasks started with the app (stream consumers, fan-out hubs, health checks)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

BACKGROUND_TASKS: list[Callable[[FastAPI], Awaitable[None]]] = []
