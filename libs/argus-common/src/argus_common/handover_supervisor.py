"""The lease supervisor with make-before-break rebalancing (handover.py's protocol).

An instance over its fair share *offers* a camera it can hand over instead of stopping it;
an instance under its share claims offers after taking the free cameras, starts the worker
in standby (``HandoverCrew.standby``: connected, buffering, not writing) and the two go
through ready → cut → done, polled every ``POLL_S`` by one task per camera on each side.
The taker counts a camera it is taking (``incoming``) against its fair share, but renews
no lease for it until the giver has handed the lease over. Whatever goes wrong on the way
(the taker never gets ready, the giver dies, the camera sends no keyframe) ends in what
the plain supervisor does: the giver stops and releases, or the taker acquires a lease that
expired, and the camera is recorded from its next keyframe.
"""

from __future__ import annotations

import asyncio
import time
from abc import abstractmethod
from collections.abc import Coroutine

import structlog
from prometheus_client import Counter

from argus_common.handover import CLAIMED, CUT, DONE, READY, Handover
from argus_common.supervisor import C, Crew, Owned, S, Supervisor, W

log = structlog.get_logger("argus.supervisor")
HANDOVERS = Counter(
    "argus_handovers_total",
    "Make-before-break handovers of cameras, by this instance's role (give, take) and how "
    "they ended (give: cut, abandoned, failed; take: passed, free, not_taken, failed)",
    ["role", "outcome"],
)
POLL_S = 0.2
CUT_TIMEOUT_S = 5.0  # the giver waits this long for a keyframe to cut at


class HandoverCrew(Crew[C, W, S]):
    """What a crew adds for make-before-break handovers."""

    @abstractmethod
    def can_hand_over(self, owned: Owned[C, W, S]) -> bool:
        """Whether ``owned``'s running worker can cut at a keyframe on request."""

    @abstractmethod
    def standby(self, owned: Owned[C, W, S]) -> W | None:
        """Start a worker that connects and buffers but does not write (None: this camera
        cannot be taken over that way)."""

    @abstractmethod
    def ready(self, owned: Owned[C, W, S]) -> bool:
        """Whether the standby worker has received a keyframe."""

    @abstractmethod
    def cut(self, owned: Owned[C, W, S]) -> None:
        """Ask the running worker to end its recording at the next keyframe."""

    @abstractmethod
    def cut_at(self, owned: Owned[C, W, S]) -> tuple[bool, float | None]:
        """(whether the worker has cut, the wall-clock ms of the keyframe it cut at)."""

    @abstractmethod
    def go(self, owned: Owned[C, W, S], t_ms: float | None) -> None:
        """Standby worker: start writing at the keyframe at ``t_ms`` (None: the next one)."""


class HandoverSupervisor(Supervisor[C, W, S]):
    """``Supervisor`` whose rebalance hands cameras over make-before-break."""

    crew: HandoverCrew[C, W, S]

    def __init__(self, *args: object, handover: Handover, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.handover = handover
        self.offering: set[int] = set()
        self.incoming: dict[int, Owned[C, W, S]] = {}
        self._transfer: set[int] = set()  # let go by a handover: the lease is passed on
        self._tasks: set[asyncio.Task[object]] = set()

    def _spawn(self, coro: Coroutine[object, object, object], name: str) -> None:
        task: asyncio.Task[object] = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _held(self) -> int:
        return len(self.owned) + len(self.incoming)

    def _busy(self, camera_id: int) -> bool:
        return super()._busy(camera_id) or camera_id in self.incoming

    # -- giver -----------------------------------------------------------------------------
    async def _give_back(self, fair: int) -> None:
        excess = len(self.owned) - fair - len(self.offering & set(self.owned))
        if excess <= 0:
            return
        candidates = [c for c in sorted(self.owned, reverse=True) if c not in self.offering]
        for camera_id in candidates[:excess]:
            owned = self.owned[camera_id]
            if self.crew.can_hand_over(owned) and await self.handover.offer(str(camera_id)):
                log.info("rebalance_offer", camera_id=camera_id, fair_share=fair)
                self.offering.add(camera_id)
                self._spawn(self._hand_over(camera_id, owned), f"hand-over-{camera_id}")
            else:
                log.info("rebalance_give_back", camera_id=camera_id, fair_share=fair)
                self._give_up(camera_id, release=True)

    async def _hand_over(self, camera_id: int, owned: Owned[C, W, S]) -> None:
        name = str(camera_id)
        deadline = time.monotonic() + self.handover.ttl_ms / 1000
        cut_asked: float | None = None
        try:
            while time.monotonic() < deadline:
                if self.owned.get(camera_id) is not owned:  # lost or let go meanwhile
                    await self.handover.cancel(name)
                    return
                fields = await self.handover.state(name)
                if not fields:
                    break  # the taker gave up (or the offer expired)
                if fields.get("state") == READY and cut_asked is None:
                    self.crew.cut(owned)
                    cut_asked = time.monotonic()
                if cut_asked is not None:
                    done, t_ms = self.crew.cut_at(owned)
                    if done or time.monotonic() - cut_asked > CUT_TIMEOUT_S:
                        await self.handover.cut(name, t_ms if done else None)
                        log.info("handover_cut", camera_id=camera_id, t_ms=t_ms)
                        HANDOVERS.labels("give", "cut").inc()
                        self._transfer.add(camera_id)
                        self._give_up(camera_id, release=True)
                        return
                await asyncio.sleep(POLL_S)
            await self.handover.cancel(name)
            if self.owned.get(camera_id) is owned:
                log.info("handover_abandoned", camera_id=camera_id, cut_asked=cut_asked is not None)
                HANDOVERS.labels("give", "abandoned").inc()
                self._give_up(camera_id, release=True)
        except asyncio.CancelledError:
            await asyncio.shield(self.handover.cancel(name))  # shutting down: no handover
            raise
        except Exception as exc:
            log.warning("handover_failed", camera_id=camera_id, error=type(exc).__name__)
            HANDOVERS.labels("give", "failed").inc()
            if self.owned.get(camera_id) is owned and cut_asked is not None:
                self._give_up(camera_id, release=True)  # the worker is cutting: let it stop
        finally:
            self.offering.discard(camera_id)

    async def _let_lease_go(self, camera_id: int) -> None:
        if camera_id in self._transfer:
            self._transfer.discard(camera_id)
            if await self.handover.transfer(str(camera_id)):
                log.info("handover_lease_passed", camera_id=camera_id)
                return
        await super()._let_lease_go(camera_id)

    # -- taker -----------------------------------------------------------------------------
    async def _take_free(self, fair: int) -> None:
        await super()._take_free(fair)
        if self._held() >= fair:
            return
        for name in sorted(await self.handover.offers()):
            if self._held() >= fair:
                break
            try:
                camera_id = int(name)
            except ValueError:
                continue
            camera = self.desired.get(camera_id)
            if camera is None or self._busy(camera_id):
                continue
            if not await self.handover.claim(name):
                continue
            owned: Owned[C, W, S] = Owned(camera=camera, state=self.crew.new_state(camera))
            worker = self.crew.standby(owned)
            if worker is None:
                await self.handover.cancel(name, "to")
                continue
            owned.worker = worker
            self.incoming[camera_id] = owned
            log.info("handover_claimed", camera_id=camera_id)
            self._spawn(self._take_over(camera_id, owned), f"take-over-{camera_id}")

    async def _take_over(self, camera_id: int, owned: Owned[C, W, S]) -> None:
        name = str(camera_id)
        deadline = time.monotonic() + self.handover.ttl_ms / 1000
        went = False
        try:
            while time.monotonic() < deadline and camera_id in self.desired:
                fields = await self.handover.state(name)
                state = fields.get("state")
                if state in (CUT, DONE) and not went:
                    self.crew.go(owned, _t(fields))
                    went = True
                owner = await self.leases.owner(name)
                if owner == self.leases.token:
                    if not went:
                        self.crew.go(owned, _t(await self.handover.state(name)))
                    self._promote(camera_id, owned)
                    HANDOVERS.labels("take", "passed").inc()
                    return
                if owner is None and await self.leases.acquire(name):
                    # The giver let the lease go (it died, stopped or gave up the handover).
                    log.info("handover_lease_free", camera_id=camera_id)
                    if not went:
                        self.crew.go(owned, None)
                    self._promote(camera_id, owned)
                    HANDOVERS.labels("take", "free").inc()
                    return
                if not fields:
                    if not went:
                        break  # cancelled: the giver keeps the camera
                elif state == CLAIMED and self.crew.ready(owned):
                    await self.handover.ready(name)
                await asyncio.sleep(POLL_S)
            log.info("handover_not_taken", camera_id=camera_id, went=went)
            HANDOVERS.labels("take", "not_taken").inc()
            await self.handover.cancel(name, "to")
        except Exception as exc:
            log.warning("handover_take_failed", camera_id=camera_id, error=type(exc).__name__)
            HANDOVERS.labels("take", "failed").inc()
        finally:
            if self.incoming.get(camera_id) is owned:
                del self.incoming[camera_id]
                await self._stop_worker(owned)

    def _promote(self, camera_id: int, owned: Owned[C, W, S]) -> None:
        del self.incoming[camera_id]
        self.owned[camera_id] = owned
        self._count()
        log.info("camera_taken", camera_id=camera_id, handover=True)
        self._spawn(self.handover.cancel(str(camera_id), "to"), f"handover-done-{camera_id}")

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await super().shutdown()


def _t(fields: dict[str, str]) -> float | None:
    raw = fields.get("t")
    try:
        return float(raw) if raw else None
    except ValueError:
        return None
