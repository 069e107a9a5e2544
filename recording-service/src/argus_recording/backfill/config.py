"""Backfill settings (``RECORDING_BACKFILL_*``), read beside the recorder's own."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class BackfillSettings(BaseSettings):
    """How much of an outage is fetched back, and how fast."""

    model_config = SettingsConfigDict(env_prefix="RECORDING_BACKFILL_", extra="ignore")

    enabled: bool = True
    # Gaps shorter than this are not worth a replay (a reconnect inside one GOP).
    min_gap_s: float = Field(1.5, ge=0.1, le=3600)
    # The oldest footage asked for: at most this long before the live recording resumed.
    max_s: float = Field(3600.0, ge=1, le=7 * 86400)
    # Replay speed asked for (``Scale``); cameras that allow it send as fast as we read
    # (``Rate-Control: no``), under the bandwidth cap below.
    speed: float = Field(16.0, ge=1, le=64)
    # The camera's link (Mbit/s) and the share of it a backfill may use.
    link_mbps: float = Field(100.0, gt=0, le=100_000)
    share: float = Field(0.5, gt=0, le=1)
    # Backfills running at once (each one a replay connection and a writer); the rest
    # wait for a free slot.
    concurrency: int = Field(2, ge=1, le=32)
    # What all running backfills of this recorder read together, Mbit/s (0: no bound
    # beyond concurrency x the per-camera cap).
    total_mbps: float = Field(100.0, ge=0, le=1_000_000)
    # No media for this long ends a replay (the camera stopped without a BYE).
    read_timeout_s: float = Field(10.0, ge=1, le=120)

    @property
    def max_bytes_per_s(self) -> float:
        return self.link_mbps * self.share * 1e6 / 8

    @property
    def total_bytes_per_s(self) -> float:
        return self.total_mbps * 1e6 / 8
