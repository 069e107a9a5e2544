"""The registry of running sources: one per (camera, stream)."""

from __future__ import annotations

import asyncio

from argus_common.errors import TooManyRequests
from argus_common.rtsp.frames import StreamInfo
from argus_streaming.cameras.client import CameraEndpoint, ManagementClient
from argus_streaming.config import Settings
from argus_streaming.live.queue import ViewerQueue
from argus_streaming.live.source import CameraSource, Subscriber

# How long a viewer waits for the first keyframe beyond the camera's connect timeout.
_FIRST_FRAME_GRACE_S = 5.0


class SourceManager:
    """Creates sources on demand and counts viewers per camera."""

    def __init__(self, management: ManagementClient, settings: Settings) -> None:
        self.management = management
        self.settings = settings
        self.sources: dict[tuple[int, str], CameraSource] = {}

    def viewers(self, camera_id: int) -> int:
        """Viewers of a camera over both its streams."""
        return sum(s.viewer_count for (cid, _), s in self.sources.items() if cid == camera_id)

    def source(self, camera_id: int, stream: str) -> CameraSource:
        """The running source of a camera stream, created if needed."""
        key = (camera_id, stream)
        src = self.sources.get(key)
        if src is None:
            async def resolve() -> CameraEndpoint:
                return await self.management.endpoint(camera_id, stream)

            def forget(s: CameraSource) -> None:
                if self.sources.get(key) is s:
                    del self.sources[key]

            src = CameraSource(
                camera_id, stream, resolve,
                linger_s=self.settings.source_linger_s,
                connect_ceiling_s=self.settings.rtsp_connect_timeout_s,
                allowed_networks=self.settings.camera_networks(),
                on_stopped=forget,
            )
            self.sources[key] = src
        return src

    def new_subscriber(self, camera_id: int, *, audio: bool) -> Subscriber:
        """Queues for one viewer, counting drops per camera."""
        from argus_streaming import metrics

        counter = metrics.FRAMES_DROPPED.labels(str(camera_id))
        video = ViewerQueue(self.settings.viewer_queue_frames, on_drop=counter.inc)
        return Subscriber(video, ViewerQueue(50, keyframe_sync=False) if audio else None)

    async def attach(
        self, camera_id: int, stream: str, sub: Subscriber, *, limit: bool = True
    ) -> tuple[CameraSource, StreamInfo]:
        """Attach ``sub`` to the camera stream (429 past the viewer limit)."""
        if limit and self.viewers(camera_id) >= self.settings.max_viewers_per_camera:
            raise TooManyRequests(
                f"camera has {self.settings.max_viewers_per_camera} viewers already"
            )
        src = self.source(camera_id, stream)
        timeout = self.settings.rtsp_connect_timeout_s * 2 + _FIRST_FRAME_GRACE_S
        info = await src.attach(sub, replay=self.settings.late_join == "gop", timeout_s=timeout)
        return src, info

    async def close(self) -> None:
        """Stop every source (shutdown)."""
        await asyncio.gather(*(s.stop() for s in list(self.sources.values())),
                             return_exceptions=True)
