"""``CAMERA_ALLOWED_NETWORKS`` reaches the media services' camera connections (issue 16,
finding 6): streaming's live sources and the recorder's RTSP ingest check, and pin, the
camera's address against it when they connect (not only management when the camera is
saved), and a malformed value stops any service at start.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
from pydantic import ValidationError

from argus_common.errors import ArgusError
from argus_common.settings import ArgusSettings
from argus_recording.config import Settings as RecordingSettings
from argus_recording.service import RecordingService
from argus_streaming.cameras.client import CameraEndpoint
from argus_streaming.config import Settings as StreamingSettings
from argus_streaming.live.manager import SourceManager

NETWORKS = "10.0.0.0/8, 192.168.0.0/16"


class _Management:
    """Answers every endpoint with a camera on this machine (outside NETWORKS)."""

    async def endpoint(self, camera_id: int, stream: str) -> CameraEndpoint:
        return CameraEndpoint(camera_id, stream, "rtsp://127.0.0.1:9/cam1/main", 2.0, 2.0)


async def test_streaming_refuses_a_camera_outside_the_allowed_networks() -> None:
    settings = StreamingSettings(ARGUS_ENV="test", CAMERA_ALLOWED_NETWORKS=NETWORKS)
    manager = SourceManager(_Management(), settings)  # type: ignore[arg-type]
    source = manager.source(1, "main")
    try:
        with pytest.raises(ArgusError) as refused:
            await source.attach(manager.new_subscriber(1, audio=False), replay=False, timeout_s=10)
    finally:
        await source.stop()
    assert "outside CAMERA_ALLOWED_NETWORKS" in refused.value.detail


def test_the_recorder_connects_within_the_allowed_networks(tmp_path: Path) -> None:
    settings = RecordingSettings(
        ARGUS_ENV="test", CAMERA_ALLOWED_NETWORKS=NETWORKS, RECORDINGS_DIR=str(tmp_path)
    )  # type: ignore[call-arg]
    service = RecordingService(settings)
    assert service.worker_settings.allowed_networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.0.0/16"),
    )


def test_a_malformed_network_list_stops_every_service() -> None:
    with pytest.raises(ValidationError, match="CAMERA_ALLOWED_NETWORKS"):
        ArgusSettings(CAMERA_ALLOWED_NETWORKS="10.0.0.0/8, not-a-network")
