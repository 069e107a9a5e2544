"""Which cameras one instance of a scaled-out media service handles: desired cameras, leases
(``argus_common.leases``) and one worker per camera.

Every ``TTL/3`` the supervisor renews its leases (a lost lease stops that camera at once),
computes its fair share (desired cameras / live instances, rounded up), gives back what is
over it and takes free cameras up to it, so two instances never both handle a camera and a
dead instance's cameras move to the others within a TTL. A camera let go, or whose lease
was lost, stays ``stopping`` until its worker has exited: it is not taken again meanwhile,
and a camera let go keeps its lease renewed until then, so nobody else starts on it while
we still do.

When Redis cannot renew for most of a TTL there are two policies:

- by default every worker is stopped: others may take the cameras as soon as the leases
  expire (analysis, whose results need Redis anyway);
- ``ride_out=True``: the lease is a right to start, not a heartbeat. Workers keep running
  through the outage; when Redis answers again a lease nobody holds is taken back and a lease
  someone else holds now stops its worker. Between the expiry of our lease in Redis and
  that moment another instance may hold it, so the crew must fence the resource itself:
  recording's workers hold an exclusive lock on the camera's directory, and a new owner
  waits for it before it touches a file (recording-service ``fencing.py``).

  Riding out has one limit, ``self_fence_s``: a camera that has not answered either
  (``Crew.last_heard``) for that long while Redis does not answer is given up (its worker
  stopped, its lease left to expire). Redis down for everyone leaves the cameras' media
  flowing, so they keep recording; a host cut off from the network hears neither, and by
  letting go it frees the fence (the writer lock) so that another instance can take over.
  Each tick is bounded (half a TTL): a connection whose link went down fails instead of
  hanging.

What differs between services is the ``Crew``: which cameras it wants, how a worker starts
(after an optional ``prepare``) and which changes a running worker can take in place.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

import structlog
from prometheus_client import Gauge

from argus_common.cameras import Camera
from argus_common.leases import Leases, fair_share
from argus_common.retry import Backoff, keep_running

log = structlog.get_logger("argus.supervisor")
# A peer's leases are renewed a moment after its announcement: a round aimed at a vanishing
# peer waits this much past the announcement's expiry.
PEER_EXPIRY_MARGIN_S = 0.15


class Worker(Protocol):
    """A camera's worker (a thread): told to stop, then joined."""

    def stop(self) -> None:
        """Ask the worker to finish (returns at once)."""

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker to have finished (``threading.Thread.join``)."""


C = TypeVar("C", bound=Camera)
W = TypeVar("W", bound=Worker)
S = TypeVar("S")


@dataclass(eq=False)
class Owned(Generic[C, W, S]):
    """A camera whose lease we hold: its configuration, the crew's per-ownership ``state``
    (recording's event window) and its worker once started."""

    camera: C
    state: S
    worker: W | None = None
    starting: asyncio.Task[None] | None = field(default=None, repr=False)


class Crew(ABC, Generic[C, W, S]):
    """The service-specific side of the supervisor."""

    @abstractmethod
    def wants(self, camera: C) -> bool:
        """Whether this service should handle ``camera`` at all."""

    @abstractmethod
    def new_state(self, camera: C) -> S:
        """Fresh per-camera state, made each time the camera is taken."""

    async def prepare(self, owned: Owned[C, W, S]) -> None:
        """Work before the first worker starts after taking the camera (a failure is
        logged and the worker starts anyway)."""

    @abstractmethod
    def start_worker(self, owned: Owned[C, W, S]) -> W:
        """Start and return the worker of ``owned.camera``."""

    def reconfigure(self, owned: Owned[C, W, S], camera: C) -> bool:
        """Apply ``camera`` (new settings) to the running ``owned.worker`` in place; False
        when the worker must be restarted. Default: restart on any change."""
        return camera == owned.camera

    def last_heard(self, owned: Owned[C, W, S]) -> float | None:
        """When ``owned``'s camera last answered (``time.monotonic()``: media arrived, or
        its worker started), or None when the crew cannot tell (never self-fenced; see
        ``Supervisor.self_fence_s``). Called on the loop: must not block."""
        return None


class Supervisor(Generic[C, W, S]):
    """Owns cameras through leases and runs their workers."""

    def __init__(
        self,
        leases: Leases,
        crew: Crew[C, W, S],
        ttl_s: float,
        *,
        join_timeout_s: float = 30.0,
        owned_gauge: Gauge | None = None,
        ride_out: bool = False,
        self_fence_s: float | None = None,
    ) -> None:
        self.leases = leases
        self.crew = crew
        self.ttl_s = ttl_s
        self.join_timeout_s = join_timeout_s
        self.owned_gauge = owned_gauge
        self.ride_out = ride_out
        # With ride_out: give up a camera neither Redis nor the camera answered for this long.
        self.self_fence_s = self_fence_s
        self.desired: dict[int, C] = {}
        self.owned: dict[int, Owned[C, W, S]] = {}
        # Cameras being let go (or lost) until their worker has exited; never taken again
        # meanwhile. Those in ``_keep`` were let go: their lease stays ours until then.
        self.stopping: dict[int, asyncio.Task[None]] = {}
        self._keep: set[int] = set()
        self._background: set[asyncio.Task[None]] = set()
        self.loaded = False
        self.live_instances: list[str] = []
        self._last_renew = time.monotonic()
        # Whether the last round reached Redis (False during an outage).
        self.reachable = True
        self._riding_out = False

    # -- configuration ---------------------------------------------------------------------
    def set_cameras(self, cameras: list[C]) -> None:
        """Replace the desired set (a full reload from management)."""
        self.desired = {c.id: c for c in cameras if self.crew.wants(c)}
        self.loaded = True

    async def camera_changed(self, camera_id: int, camera: C | None) -> None:
        """Apply one camera's new configuration (None: deleted)."""
        if camera is None or not self.crew.wants(camera):
            self.desired.pop(camera_id, None)
            self._give_up(camera_id, release=True)
            return
        self.desired[camera_id] = camera
        owned = self.owned.get(camera_id)
        if owned is None:
            return
        if owned.worker is None or self.crew.reconfigure(owned, camera):
            owned.camera = camera  # a worker still preparing starts with this one
            return
        log.info("camera_reconfigured", camera_id=camera_id)
        # The lease stays ours; the old worker is gone before the new one starts.
        await self._stop_worker(owned)
        owned.camera = camera
        if self.owned.get(camera_id) is owned:
            owned.worker = self.crew.start_worker(owned)

    # -- the loop --------------------------------------------------------------------------
    async def run(self) -> None:
        """Tick every ``TTL/3`` until cancelled (every ``TTL/10`` while ticks fail)."""
        await keep_running(
            self._round,
            event="supervisor_tick_failed",
            log=log,
            backoff=Backoff(steps=[self.ttl_s / 10]),
        )

    async def _round(self) -> None:
        try:
            # Bounded: a request on a connection whose link is down would wait for TCP's
            # retransmissions (many minutes) and no outage policy would ever apply.
            # asyncio.timeout, not wait_for: on 3.11 wait_for drops a cancel that lands as
            # the tick finishes, and the cancelled loop would run on for ever.
            async with asyncio.timeout(self.ttl_s / 2):
                await self.tick()
        except Exception:
            self.reachable = False
            if time.monotonic() - self._last_renew > self.ttl_s * 0.7 and self.owned:
                if not self.ride_out:
                    log.error("leases_unrenewable_stopping_all", cameras=sorted(self.owned))
                    for camera_id in list(self.owned):
                        self._give_up(camera_id, release=False)
                elif not self._riding_out:
                    self._riding_out = True
                    log.warning("leases_unrenewable_riding_out", cameras=sorted(self.owned))
            if self._riding_out:
                self._fence_silent()
            raise
        if self._riding_out:
            self._riding_out = False
            log.info(
                "leases_renewed_after_outage",
                cameras=sorted(self.owned),
                outage_s=round(time.monotonic() - self._last_renew, 1),
            )
        self.reachable = True
        await asyncio.sleep(self._pause_s())

    def _pause_s(self) -> float:
        """Until the next round: a third of the TTL, or less when a peer has stopped
        announcing itself: the round then runs just after its announcement and its leases
        have run out, so its cameras are taken at once rather than up to TTL/3 later."""
        pause = self.ttl_s / 3
        now_ms = time.time() * 1000
        expiry = self.leases.next_peer_expiry(now_ms)
        if expiry is not None:
            pause = min(pause, max(0.0, (expiry - now_ms) / 1000) + PEER_EXPIRY_MARGIN_S)
        return pause

    def _fence_silent(self) -> None:
        """While riding out: give up each camera that has not answered either for
        ``self_fence_s`` (its lease is left to expire; another instance takes it once our
        worker has let the fence go)."""
        bound = self.self_fence_s
        if bound is None:
            return
        now = time.monotonic()
        for camera_id, owned in list(self.owned.items()):
            heard = self.crew.last_heard(owned)
            if heard is None:
                continue
            silent = now - max(self._last_renew, heard)
            if silent > bound:
                log.warning(
                    "self_fenced",
                    camera_id=camera_id,
                    silent_s=round(silent, 1),
                    detail="neither Redis nor the camera answers: letting it go",
                )
                self._give_up(camera_id, release=False)

    async def tick(self) -> None:
        """One round: heartbeat, renew, rebalance, acquire."""
        self.live_instances = await self.leases.heartbeat()
        held = await self.leases.renew([str(c) for c in self.owned], retake=self.ride_out)
        held |= await self.leases.renew([str(c) for c in self._keep])
        self._last_renew = time.monotonic()
        for camera_id in list(self.owned):
            if str(camera_id) not in held:
                log.warning("lease_lost", camera_id=camera_id)
                self._give_up(camera_id, release=False)
            elif camera_id not in self.desired:
                self._give_up(camera_id, release=True)
        if self.loaded:
            fair = fair_share(len(self.desired), len(self.live_instances))
            await self._give_back(fair)
            await self._take_free(fair)
        self._count()

    async def _give_back(self, fair: int) -> None:
        """Over our fair share: let the highest-numbered cameras go (break before make:
        the worker finishes, then the lease is released; handover.py makes it
        make-before-break)."""
        for camera_id in sorted(self.owned, reverse=True)[: max(0, len(self.owned) - fair)]:
            log.info("rebalance_give_back", camera_id=camera_id, fair_share=fair)
            self._give_up(camera_id, release=True)

    def _held(self) -> int:
        """How many cameras count against our fair share."""
        return len(self.owned)

    def _busy(self, camera_id: int) -> bool:
        """Whether ``camera_id`` is ours in some way (not to be taken now)."""
        return camera_id in self.owned or camera_id in self.stopping

    async def _take_free(self, fair: int) -> None:
        """Under our fair share: take cameras whose lease is free."""
        for camera_id in sorted(self.desired):
            if self._held() >= fair:
                break
            if self._busy(camera_id):
                continue
            if await self.leases.acquire(str(camera_id)):
                self._take(self.desired[camera_id])

    def _count(self) -> None:
        if self.owned_gauge is not None:
            self.owned_gauge.set(len(self.owned))

    def _take(self, camera: C) -> None:
        owned: Owned[C, W, S] = Owned(camera=camera, state=self.crew.new_state(camera))
        self.owned[camera.id] = owned
        owned.starting = asyncio.create_task(self._start(owned), name=f"start-{camera.id}")
        log.info("camera_taken", camera_id=camera.id)

    async def _start(self, owned: Owned[C, W, S]) -> None:
        try:
            await self.crew.prepare(owned)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            # Preparing is best effort (management may be down): run anyway.
            log.warning("prepare_failed", camera_id=owned.camera.id, error=type(exc).__name__)
        if self.owned.get(owned.camera.id) is owned:
            owned.worker = self.crew.start_worker(owned)

    async def _stop_worker(self, owned: Owned[C, W, S]) -> None:
        if owned.starting is not None and not owned.starting.done():
            owned.starting.cancel()
            await asyncio.gather(owned.starting, return_exceptions=True)
        worker, owned.worker = owned.worker, None
        if worker is not None:
            worker.stop()
            await asyncio.to_thread(worker.join, self.join_timeout_s)

    def _give_up(self, camera_id: int, release: bool) -> None:
        """Stop handling a camera. The worker is told at once; joining it (and releasing the
        lease after) runs in the background so renewals of the others never wait."""
        owned = self.owned.pop(camera_id, None)
        if owned is None:
            return
        if owned.worker is not None:
            owned.worker.stop()
        self._count()
        task = asyncio.create_task(self._finish(owned, release), name=f"stop-{camera_id}")
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        # Stopping either way: a lost camera must not be taken again (its lease may come
        # free) while the old worker still writes.
        self.stopping[camera_id] = task
        if release:
            self._keep.add(camera_id)

    async def _finish(self, owned: Owned[C, W, S], release: bool) -> None:
        camera_id = owned.camera.id
        try:
            await self._stop_worker(owned)
            if release:
                await self._let_lease_go(camera_id)
        except Exception as exc:
            log.warning("camera_release_failed", camera_id=camera_id, error=type(exc).__name__)
        finally:
            if self.stopping.get(camera_id) is asyncio.current_task():
                del self.stopping[camera_id]
                self._keep.discard(camera_id)
        log.info("camera_released", camera_id=camera_id)

    async def _let_lease_go(self, camera_id: int) -> None:
        """After the worker of a camera let go has exited: release its lease."""
        await self.leases.release(str(camera_id))

    async def shutdown(self) -> None:
        """Stop every worker and free the leases (waits for the workers to exit)."""
        for camera_id in list(self.owned):
            self._give_up(camera_id, release=True)
        pending = list(self._background)
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)

    def get(self, camera_id: int) -> Owned[C, W, S] | None:
        """The ownership record of ``camera_id`` if we hold it."""
        return self.owned.get(camera_id)
