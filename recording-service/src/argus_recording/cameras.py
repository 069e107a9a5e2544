"""What the recorder knows of a camera: the shared camera model and what recording adds."""

from __future__ import annotations

from typing import Any

from argus_common.cameras import Camera
from argus_common.media import with_userinfo

__all__ = ["RECORDING_MODES", "CameraConfig", "with_userinfo"]

RECORDING_MODES = ("continuous", "events")


class CameraConfig(Camera):
    """One camera as ``GET /internal/cameras`` describes it (``argus_common.cameras``); the
    recorder pulls the main stream."""

    @property
    def wants_recording(self) -> bool:
        """Enabled and in a recording mode (``off`` cameras are not recorded)."""
        return self.enabled and self.recording_mode in RECORDING_MODES

    @property
    def ingest_key(self) -> tuple[Any, ...]:
        """Everything whose change needs the camera's ingest restarted."""
        return (*self.connection_key(), self.recording_mode)
