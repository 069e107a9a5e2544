"""recording-service settings: ``RECORDING_`` prefix for its own, shared names unprefixed."""

from __future__ import annotations

from functools import lru_cache
from typing import ClassVar

from pydantic import Field

from argus_common.service_settings import (
    BackoffSpec,
    InstanceId,
    MediaServiceSettings,
    default_instance_id,
)


class Settings(MediaServiceSettings):
    """Settings of recording-service; every field is documented in ``.env.example``."""

    service_name: ClassVar[str | None] = "recording"  # its credential: ARGUS_SERVICE_KEY

    instance_id: InstanceId = Field(
        default_factory=default_instance_id, alias="RECORDING_INSTANCE_ID"
    )
    segment_seconds: float = Field(60.0, alias="RECORDING_SEGMENT_SECONDS", ge=1, le=3600)
    pre_roll_s: float = Field(5.0, alias="RECORDING_PRE_ROLL_S", ge=0, le=60)
    post_roll_s: float = Field(10.0, alias="RECORDING_POST_ROLL_S", ge=0, le=600)
    event_max_s: float = Field(600.0, alias="RECORDING_EVENT_MAX_S", ge=1, le=600)
    # A dead recorder's cameras are taken within TTL plus one renewal period (TTL/3).
    lease_ttl_s: float = Field(10.0, alias="RECORDING_LEASE_TTL_S", ge=1, le=20)
    # Riding out Redis: a camera that has sent nothing for this long while Redis does not
    # answer either is let go (a host cut off from the network frees its cameras' writer
    # locks for another recorder). 0: 3 x the lease TTL.
    self_fence_s: float = Field(0.0, alias="RECORDING_SELF_FENCE_S", ge=0, le=3600)
    # A rebalance hands continuous RTSP cameras over make-before-break (the new owner
    # connects first; the old one ends at a keyframe, the new one starts at it).
    handover: bool = Field(True, alias="RECORDING_HANDOVER")
    min_free_bytes: int = Field(2**30, alias="RECORDINGS_MIN_FREE_BYTES", ge=0)
    min_free_percent: float = Field(5.0, alias="RECORDING_MIN_FREE_PERCENT", ge=0, le=99)
    disk_check_interval_s: float = Field(10.0, alias="RECORDING_DISK_CHECK_INTERVAL_S", ge=0.2)
    retention_interval_s: float = Field(600.0, alias="RECORDING_RETENTION_INTERVAL_S", ge=0.2)
    purge_batch: int = Field(200, alias="RECORDING_PURGE_BATCH", ge=1, le=5000)
    camera_refresh_s: float = Field(60.0, alias="RECORDING_CAMERA_REFRESH_S", ge=1)
    backoff: BackoffSpec = Field("1,2,5,10", alias="RECORDING_BACKOFF_S")
    probe_interval_s: float = Field(1.0, alias="RECORDING_PROBE_INTERVAL_S", ge=0.1, le=10)
    max_clock_drift_ms: float = Field(2000.0, alias="RECORDING_MAX_CLOCK_DRIFT_MS", ge=50)
    fsync: bool = Field(True, alias="RECORDING_FSYNC")
    # Timeline preview stills (stills.py): a keyframe at least this often per segment
    # (0: none), scaled to this width.
    still_interval_s: float = Field(10.0, alias="RECORDING_STILL_INTERVAL_S", ge=0, le=3600)
    still_width: int = Field(320, alias="RECORDING_STILL_WIDTH", ge=32, le=1920)
    metrics_host: str = Field("127.0.0.1", alias="RECORDING_METRICS_HOST")
    metrics_port: int = Field(9101, alias="RECORDING_METRICS_PORT", ge=0, le=65535)


@lru_cache
def get_settings() -> Settings:
    """Settings read once from the environment (and ``.env``)."""
    return Settings()
