"""``RECORDING_TIER_*``: when the recorder moves segments to the object store (``ARGUS_S3_*``)."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def parse_camera_hours(value: str) -> dict[int, float]:
    """``"3:2,7:0.5"`` (camera id: hours) as a dict; ``""`` is empty."""
    out: dict[int, float] = {}
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        camera, sep, hours = part.partition(":")
        if not sep or not camera.strip().isdigit():
            raise ValueError(f"expected <camera id>:<hours>, got {part!r}")
        h = float(hours)
        if not 0 <= h <= 24 * 3650:
            raise ValueError(f"hours out of range in {part!r}")
        out[int(camera)] = h
    return out


class TieringSettings(BaseSettings):
    """Tiering ages and pacing; every field is documented in ``.env.example``."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", populate_by_name=True, env_ignore_empty=True
    )

    # Segments that ended longer ago than this move to the object store (every camera
    # not named in RECORDING_TIER_CAMERAS); unset: only the cameras named there. A camera's
    # own `tier_after_hours` (camera API; management applies it) wins over both.
    after_hours: float | None = Field(None, alias="RECORDING_TIER_AFTER_HOURS", ge=0)
    # Per camera: "3:2,7:0.5" (camera 3 after 2 h, camera 7 after 30 min).
    cameras: str = Field("", alias="RECORDING_TIER_CAMERAS", max_length=100_000)
    interval_s: float = Field(30.0, alias="RECORDING_TIER_INTERVAL_S", ge=0.2, le=3600)
    batch: int = Field(50, alias="RECORDING_TIER_BATCH", ge=1, le=1000)
    concurrency: int = Field(2, alias="RECORDING_TIER_CONCURRENCY", ge=1, le=16)
    # When the disk runs low, move the oldest local segments before purging any.
    disk_guard: bool = Field(True, alias="RECORDING_TIER_DISK_GUARD")
    reconcile_interval_s: float = Field(3600.0, alias="RECORDING_TIER_RECONCILE_INTERVAL_S", ge=1)
    # An object without an index row is deleted only when older than this (an upload
    # whose row update is on its way must not look like an orphan).
    orphan_grace_s: float = Field(3600.0, alias="RECORDING_TIER_ORPHAN_GRACE_S", ge=0)
    # Segments tiered before the recorder wrote their fragment index get one in the
    # background (tiering/sidecars.py): at most this many a minute, 0: off.
    sidecars_per_minute: int = Field(30, alias="RECORDING_TIER_SIDECARS_PER_MINUTE", ge=0,
                                     le=6000)

    @field_validator("cameras")
    @classmethod
    def _valid_cameras(cls, value: str) -> str:
        parse_camera_hours(value)
        return value

    @property
    def camera_hours(self) -> dict[int, float]:
        return parse_camera_hours(self.cameras)

    @property
    def by_age(self) -> bool:
        """Whether these settings tier any camera by age (a camera's own
        ``tier_after_hours``, set in the camera API, may too: management applies it)."""
        return self.after_hours is not None or bool(self.camera_hours)
