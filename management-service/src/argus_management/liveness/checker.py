"""The liveness checker: a background task keeping each enabled camera's ``status`` and
``last_seen`` current.

Every ``MANAGEMENT_LIVENESS_INTERVAL_S`` the process holding the ``liveness:lease:leader`` lease
(one among all workers and replicas) runs a cycle:

1. load the enabled cameras and the recorder heartbeats;
2. a camera with fresh evidence from the media services (``stream.up``, a heartbeat's
   ``cameras_up``) counts as seen without a probe; the others are probed (RTSP DESCRIBE,
   ONVIF first for ONVIF cameras), at most ``MANAGEMENT_LIVENESS_CONCURRENCY`` at once;
3. results go through the hysteresis state machine (state.py); status changes, ``last_seen``
   and their alerts (actions.py) and the recorder alerts are written in one transaction,
   then the cameras cache version is bumped so camera lists show the new status.

Every process, leader or not, refreshes the ``argus_cameras`` gauges from the database.
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
import uuid
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

import httpx
import structlog
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from argus_common.bus import RedisBus
from argus_common.events import utcnow
from argus_common.leases import Leader, Leases
from argus_common.retry import Backoff, keep_running
from argus_management import versions
from argus_management.alerts.rules import CAMERA_OFFLINE, CAMERA_ONLINE
from argus_management.alerts.service import resolve_alerts
from argus_management.cameras.crypto import decrypt_secret
from argus_management.cameras.models import Camera
from argus_management.cameras.urls import parse_networks
from argus_management.config import Settings
from argus_management.db import run_after_commit
from argus_management.liveness import evidence, recorders
from argus_management.liveness.actions import AlertWindow, CameraInfo, apply_transition
from argus_management.liveness.gauges import refresh_gauges
from argus_management.liveness.metrics import (
    CHECKS,
    CYCLE_DURATION,
    LEADER,
    RECORDERS,
    TRANSITIONS,
)
from argus_management.liveness.probes import ProbeTarget, probe_camera
from argus_management.liveness.results import ProbeResult
from argus_management.liveness.state import CameraLiveness, Transition, coerce_status

log = structlog.get_logger("argus.liveness")

# last_seen of a camera that stays online is rewritten at most this often (one UPDATE per
# camera per cycle would be write load for no reader: lists are cached up to a minute).
LAST_SEEN_WRITE_S = 30.0
_cameras = cast(Table, Camera.__table__)


@dataclass
class CycleReport:
    """What one cycle did (for tests, the benchmark and the log)."""

    checked: int = 0
    probed: int = 0
    results: dict[int, ProbeResult] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    duration_s: float = 0.0


class LivenessChecker:
    """Runs cycles while holding the lease; see the module docstring."""

    def __init__(
        self, settings: Settings, maker: async_sessionmaker[AsyncSession], bus: RedisBus
    ) -> None:
        self.settings = settings
        self.maker = maker
        self.bus = bus
        self.interval = settings.liveness_interval_s
        self.semaphore = asyncio.Semaphore(settings.liveness_concurrency)
        # Long enough that a slow cycle never lets the lease lapse under a live leader.
        instance = f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        leases = Leases(bus.redis, bus.namespace, "liveness", instance,
                        ttl_s=max(3 * self.interval, 30.0))
        self.lease = Leader(leases)
        self.states: dict[int, CameraLiveness] = {}
        self.window = AlertWindow(settings.liveness_alert_window_s)
        self.client: httpx.AsyncClient | None = None

    async def run(self) -> None:
        """Check every interval until cancelled; the first check comes one interval after
        start, which gives the media services time to report their streams. A failed
        cycle is logged and the schedule goes on."""
        loop = asyncio.get_running_loop()
        next_at = loop.time() + self.interval

        async def scheduled() -> None:
            nonlocal next_at
            while True:
                await asyncio.sleep(max(0.0, next_at - loop.time()))
                # Advanced before the cycle: after a failure, the retry delay (one
                # interval) lands on the next slot instead of adding one.
                next_at += self.interval
                if next_at < loop.time():  # a cycle overran: start the next one now
                    next_at = loop.time()
                await self.tick()

        try:
            await keep_running(scheduled, event="liveness_cycle_failed", log=log,
                               backoff=Backoff(steps=[self.interval]))
        finally:
            LEADER.set(0)
            await self.aclose()
            try:
                await asyncio.shield(self.lease.release())
            except Exception as exc:  # Redis gone at shutdown: the TTL frees it anyway
                log.debug("liveness_lease_release_failed", error=type(exc).__name__)

    def _client(self) -> httpx.AsyncClient:
        if self.client is None:
            # No keep-alive: a probe must open a fresh connection to prove anything.
            self.client = httpx.AsyncClient(
                limits=httpx.Limits(max_connections=self.settings.liveness_concurrency,
                                    max_keepalive_connections=0),
                follow_redirects=False,
            )
        return self.client

    async def aclose(self) -> None:
        """Close the HTTP client of the ONVIF probes."""
        if self.client is not None:
            await self.client.aclose()
            self.client = None

    async def tick(self) -> CycleReport | None:
        """One scheduled step: a cycle if this process leads, then the gauges (a failure
        propagates: ``run`` logs it and waits for the next slot)."""
        report: CycleReport | None = None
        if await self.lease.acquire_or_renew():
            LEADER.set(1)
            report = await self.cycle()
        else:
            LEADER.set(0)
            self.states.clear()  # another process leads: our counts would go stale
        await refresh_gauges(self.maker)
        return report

    async def cycle(self) -> CycleReport:
        """Check every enabled camera once and record what changed."""
        start = time.perf_counter()
        report = CycleReport()
        async with self.maker() as session:
            rows = (await session.execute(select(
                Camera.id, Camera.name, Camera.kind, Camera.stream_url, Camera.username,
                Camera.password_enc, Camera.onvif_host, Camera.onvif_port,
                Camera.connect_timeout_s, Camera.read_timeout_s, Camera.recording_mode,
                Camera.status, Camera.last_seen, Camera.enabled,
            ))).all()
        enabled = [r for r in rows if r.enabled]
        stale_disabled = [r.id for r in rows if not r.enabled and r.status != "unknown"]
        found = await recorders.scan(self.bus)
        seen = await evidence.fresh_seen(
            self.bus, [r.id for r in enabled], self.settings.liveness_evidence_s
        )
        now_ts = time.time()
        for cid in found.cameras_up():
            seen.setdefault(cid, now_ts)
        to_probe = [r for r in enabled if r.id not in seen]
        results = await self._probe_all(to_probe)
        for r in enabled:
            if r.id in seen:
                results[r.id] = ProbeResult("evidence")
        report.checked, report.probed, report.results = len(enabled), len(to_probe), results
        tally = Tally(res.outcome for res in results.values())
        for outcome, count in tally.items():
            CHECKS.labels(outcome).inc(count)
        changed = await self._record(enabled, stale_disabled, results, seen, found, report)
        if changed:
            await versions.bump(self.bus, versions.CAMERAS)
        if found.new or found.lost:
            await recorders.update_registry(self.bus, found)
        RECORDERS.set(len(found.live))
        report.duration_s = time.perf_counter() - start
        CYCLE_DURATION.observe(report.duration_s)
        return report

    async def _probe_all(self, rows: list[Any]) -> dict[int, ProbeResult]:
        key = self.settings.secret_key
        client = self._client()
        networks = parse_networks(self.settings.camera_allowed_networks)

        async def one(r: Any) -> tuple[int, ProbeResult]:
            target = ProbeTarget(
                camera_id=r.id, kind=r.kind, stream_url=r.stream_url, username=r.username,
                password=decrypt_secret(key, r.password_enc), onvif_host=r.onvif_host,
                onvif_port=r.onvif_port, connect_timeout_s=r.connect_timeout_s,
                read_timeout_s=r.read_timeout_s, recording_mode=r.recording_mode,
            )
            async with self.semaphore:
                with structlog.contextvars.bound_contextvars(camera_id=r.id):
                    result = await probe_camera(target, client, networks)
                    if not result.success:
                        log.debug("probe_failed", outcome=result.outcome, detail=result.detail)
            return r.id, result

        return dict(await asyncio.gather(*(one(r) for r in rows)))

    async def _record(
        self, enabled: list[Any], stale_disabled: list[int], results: dict[int, ProbeResult],
        seen: dict[int, float], found: recorders.RecorderScan, report: CycleReport,
    ) -> bool:
        """Apply results to the state machines and write everything in one transaction.
        Returns whether a camera's status changed (the caller bumps the cache version)."""
        now = utcnow()
        now_mono = time.monotonic()
        status_rows: list[dict[str, Any]] = []
        seen_rows: list[dict[str, Any]] = []
        todo: list[tuple[CameraInfo, Transition, ProbeResult, datetime | None]] = []
        for r in enabled:
            result = results[r.id]
            if not result.conclusive:
                continue
            state = self.states.setdefault(r.id, CameraLiveness(r.id))
            state.status = coerce_status(r.status)  # the row is the truth
            offline_since = state.offline_since
            transition = state.observe(
                result.success, self.settings.liveness_offline_after, now
            )
            when = datetime.fromtimestamp(seen[r.id], UTC) if r.id in seen else now
            last_seen = when if result.success else r.last_seen
            if transition is not None:
                status_rows.append({"b_id": r.id, "b_status": transition.new, "b_seen": last_seen})
                info = CameraInfo(r.id, r.name, r.kind, r.recording_mode)
                todo.append((info, transition, result, offline_since))
            elif result.success and (
                r.last_seen is None
                or when - r.last_seen >= timedelta(seconds=LAST_SEEN_WRITE_S)
            ):
                seen_rows.append({"b_id": r.id, "b_status": state.status, "b_seen": last_seen})
        live_ids = {r.id for r in enabled}
        for cid in [c for c in self.states if c not in live_ids]:
            del self.states[cid]
        self.window.forget(live_ids)
        if not (status_rows or seen_rows or stale_disabled or found.new or found.lost):
            return False
        raised: list[int] = []
        async with self.maker() as session:
            try:
                await self._write(session, status_rows + seen_rows, stale_disabled)
                for info, transition, result, since in todo:
                    with structlog.contextvars.bound_contextvars(camera_id=info.camera_id):
                        log.info("camera_status_changed", old=transition.old,
                                 new=transition.new, reason=result.outcome,
                                 detail=result.detail)
                    if await apply_transition(
                        session, self.bus, info, transition, result, self.window, now_mono, since
                    ):
                        raised.append(info.camera_id)
                for cid in stale_disabled:
                    for kind in (CAMERA_OFFLINE.kind, CAMERA_ONLINE.kind):
                        await resolve_alerts(session, self.bus, kind=kind, camera_id=cid)
                await recorders.apply_alerts(session, self.bus, found)
                await session.commit()
            except BaseException:
                # Nothing of a failed cycle may be announced; the next cycle recomputes
                # from the rows, which still hold the old status.
                session.info.pop("after_commit", None)
                await session.rollback()
                raise
            await run_after_commit(session)
        for cid in raised:
            self.window.note(cid, now_mono)
        for _, transition, _, _ in todo:
            TRANSITIONS.labels(transition.new).inc()
            report.transitions.append(transition)
        return bool(status_rows or stale_disabled)

    @staticmethod
    async def _write(
        session: AsyncSession, rows: list[dict[str, Any]], stale_disabled: list[int]
    ) -> None:
        # Core UPDATE of two columns: ``updated_at = updated_at`` keeps the row's onupdate
        # from stamping a configuration change that did not happen.
        if rows:
            await session.execute(
                update(_cameras)
                .where(_cameras.c.id == bindparam("b_id"))
                .values(
                    status=bindparam("b_status"),
                    last_seen=bindparam("b_seen", type_=_cameras.c.last_seen.type),
                    updated_at=_cameras.c.updated_at,
                ),
                rows,
            )
        if stale_disabled:
            await session.execute(
                update(_cameras)
                .where(_cameras.c.id.in_(stale_disabled))
                .values(status="unknown", updated_at=_cameras.c.updated_at)
            )

