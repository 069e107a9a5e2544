"""What a liveness check found, shared by the probes and the checker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# ok: the device answered as it should. auth_failed: it answered 401/403 to our credentials
# (reachable, but useless to the media services: counted as a failure). The rest are ways
# of not answering. unsupported: we have no probe for that URL scheme (no status change).
Outcome = Literal[
    "ok", "evidence", "auth_failed", "timeout", "refused", "unreachable", "error", "unsupported"
]
OUTCOMES: tuple[Outcome, ...] = (
    "ok", "evidence", "auth_failed", "timeout", "refused", "unreachable", "error", "unsupported"
)


@dataclass(frozen=True)
class ProbeResult:
    """One probe's answer. ``detail`` is short and safe to log (never holds credentials)."""

    outcome: Outcome
    detail: str = ""
    status: int | None = None  # the RTSP/HTTP status code, when there was an answer
    duration_s: float = 0.0

    @property
    def success(self) -> bool:
        return self.outcome in ("ok", "evidence")

    @property
    def conclusive(self) -> bool:
        """Whether this result may change the camera's status."""
        return self.outcome != "unsupported"
