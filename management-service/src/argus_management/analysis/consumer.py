"""The ``argus:analysis`` consumer: analysis results into ``analysis_results``.

Entries are read in batches and inserted in one statement per batch (a busy analyser adds
a few hundred a second). A redelivered entry is stored once: the table is unique on
``(session_id, timestamp, event)`` and the insert skips conflicts. Rows of a camera deleted
meanwhile are dropped.
"""

from __future__ import annotations

import asyncio
import os
import socket
from typing import Any

import structlog
from prometheus_client import Counter
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.events import ANALYSIS_GROUP, STREAM_ANALYSIS, AnalysisFrame
from argus_common.retry import Backoff, keep_running
from argus_management.analysis.models import AnalysisResult
from argus_management.cameras.models import Camera
from argus_management.events.schemas import MAX_ID, UtcTime, check_json_value

log = structlog.get_logger("argus.analysis.consumer")

RESULTS_STORED = Counter(
    "argus_analysis_results_stored_total", "Analysis results from argus:analysis, by outcome",
    ["outcome"],
)
BATCH = 500
CLAIM_IDLE_MS = 60_000
_RETRY_S = 2.0
_PAYLOAD_EXCLUDE = {"id", "type", "camera_id", "ts", "v", "session_id", "kind"}
_UTC: TypeAdapter[Any] = TypeAdapter(UtcTime)  # in the range the database can store


def to_row(raw: str) -> dict[str, Any] | None:
    """The ``analysis_results`` row of one stream entry (None when it is malformed or holds
    what a JSON column cannot store)."""
    try:
        msg = AnalysisFrame.model_validate_json(raw)
        # Detections are kept only on the frames the detector ran on.
        exclude = _PAYLOAD_EXCLUDE if msg.objects is not None else _PAYLOAD_EXCLUDE | {"objects"}
        payload = msg.model_dump(mode="json", exclude=exclude)
        check_json_value(payload)
        ts = _UTC.validate_python(msg.ts)
    except ValueError:  # ValidationError is one
        return None
    if msg.camera_id is not None and not 1 <= msg.camera_id <= MAX_ID:
        return None
    return {"session_id": msg.session_id, "camera_id": msg.camera_id, "timestamp": ts,
            "event": msg.kind, "payload": payload}


async def store_rows(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows``, skipping those already stored."""
    if not rows:
        return
    dialect = session.bind.dialect.name if session.bind is not None else "postgresql"
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = insert(AnalysisResult).values(rows).on_conflict_do_nothing(
        index_elements=["session_id", "timestamp", "event"]
    )
    await session.execute(stmt)


async def _existing_cameras(session: AsyncSession, ids: set[int]) -> set[int]:
    found = await session.scalars(select(Camera.id).where(Camera.id.in_(sorted(ids))))
    return set(found)


async def store_batch(maker: async_sessionmaker[AsyncSession], rows: list[dict[str, Any]]) -> int:
    """Store one batch; returns how many rows were kept (rows of deleted cameras are not)."""
    async with maker() as session:
        try:
            await store_rows(session, rows)
            await session.commit()
            return len(rows)
        except IntegrityError:
            await session.rollback()
        cameras = {r["camera_id"] for r in rows if r["camera_id"] is not None}
        known = await _existing_cameras(session, cameras)
        kept = [r for r in rows if r["camera_id"] is None or r["camera_id"] in known]
        await store_rows(session, kept)
        await session.commit()
        return len(kept)


async def consume_once(
    bus: RedisBus, maker: async_sessionmaker[AsyncSession], consumer: str, claim: bool,
    block_ms: int = 2000,
) -> int:
    """Read, store and ack one batch; returns the number of entries handled."""
    batch: list[tuple[str, str]] = []
    if claim:
        batch = await bus.claim_stuck(STREAM_ANALYSIS, ANALYSIS_GROUP, consumer, CLAIM_IDLE_MS,
                                      count=BATCH)
    batch += await bus.read_group(STREAM_ANALYSIS, ANALYSIS_GROUP, consumer, count=BATCH,
                                  block_ms=block_ms)
    if not batch:
        return 0
    rows = []
    for _entry_id, raw in batch:
        row = to_row(raw)
        if row is None:
            RESULTS_STORED.labels("invalid").inc()
            continue
        rows.append(row)
    kept = await store_batch(maker, rows)
    RESULTS_STORED.labels("stored").inc(kept)
    if kept < len(rows):
        RESULTS_STORED.labels("camera_deleted").inc(len(rows) - kept)
    await bus.ack(STREAM_ANALYSIS, ANALYSIS_GROUP, *[entry_id for entry_id, _ in batch])
    return len(batch)


async def run_analysis_consumer(
    bus: RedisBus, maker: async_sessionmaker[AsyncSession]
) -> None:
    """Consume ``argus:analysis`` in group ``management`` until cancelled (each worker
    process is one consumer of the group; Redis or database outages are waited out)."""
    consumer = f"{socket.gethostname()}-{os.getpid()}"
    loop = asyncio.get_running_loop()

    async def consume() -> None:
        await bus.ensure_group(STREAM_ANALYSIS, ANALYSIS_GROUP, start="0")
        next_claim = 0.0
        while True:
            claim = loop.time() >= next_claim
            if claim:
                next_claim = loop.time() + CLAIM_IDLE_MS / 2000
            await consume_once(bus, maker, consumer, claim)

    await keep_running(consume, event="analysis_consumer_error", log=log,
                       backoff=Backoff(steps=[_RETRY_S]))
