"""ai-analysis-service settings: ``ANALYSIS_`` prefix for its own, shared names unprefixed."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from argus_analysis.cameras import Polygon
from argus_common.service_settings import (
    BackoffSpec,
    InstanceId,
    MediaServiceSettings,
    default_instance_id,
)

# The camera simulator burns its stamp and clock into the top quarter of the picture
# (argus_camsim.stamp.OVERLAY_RECT_NORM); real cameras put their OSD clock there too.
OVERLAY_MASK: list[list[float]] = [[0.0, 0.0], [1.0, 0.0], [1.0, 0.25], [0.0, 0.25]]


class Settings(MediaServiceSettings):
    """Settings of ai-analysis-service; every field is documented in ``.env.example``."""

    service_name: ClassVar[str | None] = "analysis"  # its credential: ARGUS_SERVICE_KEY

    instance_id: InstanceId = Field(
        default_factory=default_instance_id, alias="ANALYSIS_INSTANCE_ID"
    )
    device: Literal["auto", "cpu", "cuda"] = Field("auto", alias="ANALYSIS_DEVICE")
    algorithm: Literal["diff", "mog2"] = Field("diff", alias="ANALYSIS_ALGORITHM")
    max_width: int = Field(640, alias="ANALYSIS_MAX_WIDTH", ge=64, le=3840)
    downscale: Literal["stride", "area"] = Field("stride", alias="ANALYSIS_DOWNSCALE")
    background_tau_s: float = Field(0.15, alias="ANALYSIS_BACKGROUND_TAU_S", gt=0, le=60)
    default_masks: list[Polygon] = Field(
        default_factory=lambda: [OVERLAY_MASK], alias="ANALYSIS_DEFAULT_MASKS", max_length=16
    )
    prefer_sub_stream: bool = Field(True, alias="ANALYSIS_PREFER_SUB_STREAM")
    skip_loop_filter: bool = Field(False, alias="ANALYSIS_SKIP_LOOP_FILTER")
    max_lag_s: float = Field(2.0, alias="ANALYSIS_MAX_LAG_S", gt=0, le=600)
    publish_frames: bool = Field(True, alias="ANALYSIS_PUBLISH_FRAMES")
    results_summary_s: float = Field(1.0, alias="ANALYSIS_RESULTS_SUMMARY_S", ge=0, le=3600)
    results_motion_frames: bool = Field(True, alias="ANALYSIS_RESULTS_MOTION_FRAMES")
    snapshot_quality: int = Field(85, alias="ANALYSIS_SNAPSHOT_QUALITY", ge=10, le=100)
    snapshot_max_width: int = Field(1280, alias="ANALYSIS_SNAPSHOT_MAX_WIDTH", ge=64, le=7680)
    backoff: BackoffSpec = Field("1,2,5,10,20,30,60", alias="ANALYSIS_BACKOFF_S")
    lease_ttl_s: float = Field(10.0, alias="ANALYSIS_LEASE_TTL_S", ge=1, le=120)
    camera_refresh_s: float = Field(60.0, alias="ANALYSIS_CAMERA_REFRESH_S", ge=1)
    job_concurrency: int = Field(1, alias="ANALYSIS_JOB_CONCURRENCY", ge=1, le=32)
    job_decoder_threads: int = Field(0, alias="ANALYSIS_JOB_DECODER_THREADS", ge=0, le=64)
    # Backfilled segments of cameras with analysis.backfill (backfill/): frames analysed
    # per second of footage, and the share of one core the analysis may take.
    backfill_fps: float = Field(10.0, alias="ANALYSIS_BACKFILL_FPS", gt=0, le=60)
    backfill_cpu_share: float = Field(0.5, alias="ANALYSIS_BACKFILL_CPU_SHARE", gt=0, le=1)
    # Objects (objects/, detect/hog.py, detect/onnx.py); per camera: analysis.objects.
    object_detector: Literal["auto", "opencv-hog", "opencv-face", "onnx"] = Field(
        "auto", alias="ANALYSIS_OBJECT_DETECTOR"
    )  # auto: onnx when ANALYSIS_OBJECT_MODEL is set, else opencv-hog
    object_model: Path | None = Field(None, alias="ANALYSIS_OBJECT_MODEL")
    object_labels: str = Field("", alias="ANALYSIS_OBJECT_LABELS")  # comma-separated
    object_layout: Literal["auto", "yolo-obj", "yolo"] = Field(
        "auto", alias="ANALYSIS_OBJECT_LAYOUT"
    )
    object_providers: str = Field("", alias="ANALYSIS_OBJECT_PROVIDERS")  # comma-separated
    object_input_size: int = Field(640, alias="ANALYSIS_OBJECT_INPUT_SIZE", ge=32, le=4096)
    object_threads: int = Field(1, alias="ANALYSIS_OBJECT_THREADS", ge=1, le=64)
    object_max_batch: int = Field(16, alias="ANALYSIS_OBJECT_MAX_BATCH", ge=1, le=256)
    object_fps: float = Field(5.0, alias="ANALYSIS_OBJECT_FPS", gt=0, le=60)
    object_track_ttl_s: float = Field(2.0, alias="ANALYSIS_OBJECT_TRACK_TTL_S", gt=0, le=60)
    object_defaults: dict[str, Any] = Field(
        default_factory=dict, alias="ANALYSIS_OBJECT_DEFAULTS"
    )  # analysis.objects of cameras that have none (JSON); {}: off
    metrics_host: str = Field("127.0.0.1", alias="ANALYSIS_METRICS_HOST")
    metrics_port: int = Field(9102, alias="ANALYSIS_METRICS_PORT", ge=0, le=65535)

    @field_validator("object_model", mode="before")
    @classmethod
    def _empty_is_none(cls, v: Any) -> Any:
        return None if v in ("", None) else v


@lru_cache
def get_settings() -> Settings:
    """Settings read once from the environment (and ``.env``)."""
    return Settings()
