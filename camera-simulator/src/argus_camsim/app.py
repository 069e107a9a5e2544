"""The simulator: N virtual cameras behind one RTSP port, a control API and ONVIF devices."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from argus_camsim.audio import CODECS
from argus_camsim.camera import CameraRuntime
from argus_camsim.clip import get_clip
from argus_camsim.config import SimConfig
from argus_camsim.control import ControlServer
from argus_camsim.device_control import apply_quirks, parse_quirk_flag
from argus_camsim.edge import EdgeStore
from argus_camsim.faults import apply_faults, parse_fault_flag
from argus_camsim.hub import StreamHub
from argus_camsim.live import LiveEncoder
from argus_camsim.loop import LoopScheduler, LoopStream
from argus_camsim.model import CameraInfo
from argus_camsim.rtsp.auth import RtspAuth
from argus_camsim.rtsp.server import RtspServer
from argus_camsim.scene import Scene
from argus_camsim.scripting import demo_objects

log = logging.getLogger(__name__)


class Simulator:
    """Builds the cameras from a :class:`SimConfig` and runs every server."""

    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.cameras: dict[str, CameraRuntime] = {}
        self.rtsp: RtspServer | None = None
        self.control: ControlServer | None = None
        self.onvif_servers: list[Any] = []
        self.onvif_ports: dict[str, int] = {}
        self.discovery: Any = None
        self.rtsp_port = 0
        self.control_port = 0
        self._schedulers: dict[int, LoopScheduler] = {}
        self._encoders: list[LiveEncoder] = []
        self._fps: dict[int, int] = {}  # id(hub) -> frame rate

    async def start(self) -> None:
        """Create the cameras and start RTSP, control API and ONVIF servers."""
        cfg = self.config
        for index in range(1, cfg.cameras + 1):
            cam = await self._make_camera(index)
            self.cameras[cam.path] = cam
        for flag in cfg.faults:
            path, payload = parse_fault_flag(flag)
            if path not in self.cameras:
                raise ValueError(f"--fault names unknown camera {path!r}")
            apply_faults(self.cameras[path], payload)
        for flag in cfg.quirks:
            path, name = parse_quirk_flag(flag)
            if path not in self.cameras:
                raise ValueError(f"--quirk names unknown camera {path!r}")
            apply_quirks(self.cameras[path], {"quirks": [*self.cameras[path].info.quirks, name]})
        if cfg.objects:
            for cam in self.cameras.values():
                demo_objects(cam)

        auth = RtspAuth(cfg.auth, cfg.username, cfg.password, offer_qop=cfg.digest_qop,
                        algorithm=cfg.digest_algorithm)
        self.rtsp = RtspServer(
            self.cameras,
            auth,
            cfg.session_timeout,
            self._fps_of,
            self._max_buffer_of,
            slow_drop_s=cfg.slow_drop_s,
            sndbuf=cfg.client_buffer_bytes,
        )
        self.rtsp_port = await self.rtsp.start(cfg.host, cfg.rtsp_port)
        for cam in self.cameras.values():
            if cam.hubs["main"].edge is not None:
                cam.hubs["main"].touch()  # edge recording runs from the start
        self.control = ControlServer(self.cameras, self.describe, self.metrics)
        self.control_port = await self.control.start(cfg.host, cfg.control_port)
        if cfg.onvif:
            await self._start_onvif()

    async def _make_camera(self, index: int) -> CameraRuntime:
        cfg = self.config
        info = CameraInfo(
            index=index,
            name=f"{cfg.name_prefix} {index}",
            width=cfg.width,
            height=cfg.height,
            fps=cfg.main.fps,
            sub_width=cfg.sub_width,
            sub_height=cfg.sub_height,
            motion=cfg.motion,
        )
        scene = Scene(info)
        codec_name = cfg.audio_codec_of(index)
        audio = CODECS[codec_name] if codec_name else None
        info.audio = codec_name
        hubs = {v: StreamHub(info, v, audio, cfg.linger_s) for v in ("main", "sub")}
        if cfg.edge_minutes > 0:
            hubs["main"].edge = info.edge = EdgeStore(cfg.edge_minutes, cfg.main.fps)
        loop = asyncio.get_running_loop()
        for variant, hub in hubs.items():
            settings = cfg.main if variant == "main" else cfg.sub
            if cfg.source == "live":
                encoder = LiveEncoder(hub, scene, settings, loop, audio=audio)
                hub.source = encoder
                self._encoders.append(encoder)
                self._fps[id(hub)] = settings.fps
                continue
            path = cfg.loop_file if variant == "main" else cfg.loop_file_sub
            width, height = (
                (info.width, info.height)
                if variant == "main"
                else (info.sub_width, info.sub_height)
            )
            clip = await asyncio.to_thread(
                get_clip, path, cfg.cache_dir, width, height, settings, cfg.loop_seconds
            )
            # A given file fixes the stream's picture size.
            if variant == "main":
                info.width, info.height, info.fps = clip.width, clip.height, clip.fps
            else:
                info.sub_width, info.sub_height = clip.width, clip.height
            scheduler = self._schedulers.setdefault(clip.fps, LoopScheduler(clip.fps))
            hub.source = LoopStream(hub, clip, scheduler, settings, cfg.cache_dir, cfg.loop_seconds)
            self._fps[id(hub)] = clip.fps
        return CameraRuntime(info, scene, hubs)

    def _fps_of(self, hub: StreamHub) -> int:
        return self._fps.get(id(hub), self.config.main.fps)

    def _max_buffer_of(self, hub: StreamHub) -> int:
        # About one second of video may queue per client before it starts skipping.
        if self.config.client_buffer_bytes:
            return self.config.client_buffer_bytes
        settings = self.config.main if hub.variant == "main" else self.config.sub
        return max(256 * 1024, settings.bitrate_for(hub.width, hub.height) // 8)

    async def _start_onvif(self) -> None:
        from argus_camsim.onvif import OnvifAuth, start_onvif  # the ONVIF side is optional

        cfg = self.config
        auth = OnvifAuth(username=cfg.username, password=cfg.password, required=cfg.auth != "none")
        # ONVIF substitutes the client's host for a wildcard bind; a public host wins.
        rtsp_base = f"rtsp://{cfg.public_host or cfg.host}:{self.rtsp_port}"
        for offset, cam in enumerate(self.cameras.values()):
            port = cfg.onvif_port + offset if cfg.onvif_port else 0
            server = await start_onvif(cam.info, cfg.host, port, auth, cam.snapshot, rtsp_base)
            self.onvif_servers.append(server)
            self.onvif_ports[cam.path] = int(server.port)
        if cfg.discovery:
            from argus_camsim.discovery import start_discovery

            entries = [
                (
                    s.camera,
                    f"http://{cfg.public_host}:{s.port}/onvif/device_service"
                    if cfg.public_host
                    else s.device_url,
                )
                for s in self.onvif_servers
            ]
            self.discovery = await start_discovery(
                entries, host=cfg.discovery_host or cfg.host, port=cfg.discovery_port
            )

    def describe(self, cam: CameraRuntime, host: str | None = None) -> dict[str, Any]:
        """JSON view of one camera for ``GET /cameras``."""
        cfg = self.config
        rtsp_host = cfg.public_host or host or cfg.advertised_host()
        base = f"rtsp://{rtsp_host}:{self.rtsp_port}/{cam.path}"
        info = cam.info
        pan, tilt, zoom = info.ptz.position()
        remaining = max(0.0, info.faults.offline_until - time.monotonic())
        onvif_port = self.onvif_ports.get(cam.path)
        return {
            "name": info.name,
            "path": cam.path,
            "index": info.index,
            "rtsp": {"main": f"{base}/main", "sub": f"{base}/sub"},
            "onvif_port": onvif_port,
            "onvif_url": (
                f"http://{rtsp_host}:{onvif_port}/onvif/device_service" if onvif_port else None
            ),
            "resolution": {
                "main": f"{info.width}x{info.height}",
                "sub": f"{info.sub_width}x{info.sub_height}",
            },
            "fps": info.fps,
            "source": cfg.source,
            "audio": info.audio,
            "ptz": {"pan": pan, "tilt": tilt, "zoom": zoom, "moving": info.ptz.is_moving()},
            "motion": info.motion,
            "objects": len(info.objects.snapshot()),
            "faults": {
                "stall": info.faults.stall,
                "corrupt": info.faults.corrupt,
                "offline": info.faults.offline(),
                "offline_remaining_s": round(remaining, 3),
            },
            "clients": {v: len(h.subscribers) for v, h in cam.hubs.items()},
            "onvif": {"quirks": sorted(info.quirks),
                      "event_subscriptions": info.events.subscriptions},
        }

    def metrics(self) -> str:
        """Prometheus text exposition of per-stream counters."""
        lines = [
            "# HELP camsim_clients RTSP clients playing a stream.",
            "# TYPE camsim_clients gauge",
        ]
        for cam in self.cameras.values():
            for variant, hub in cam.hubs.items():
                lines.append(
                    f'camsim_clients{{camera="{cam.path}",stream="{variant}"}} '
                    f"{len(hub.subscribers)}"
                )
        lines += [
            "# HELP camsim_frames_sent_total Frames fanned out.",
            "# TYPE camsim_frames_sent_total counter",
        ]
        for cam in self.cameras.values():
            for variant, hub in cam.hubs.items():
                lines.append(
                    f'camsim_frames_sent_total{{camera="{cam.path}",'
                    f'stream="{variant}"}} {hub.frames_out}'
                )
        return "\n".join(lines) + "\n"

    async def close(self) -> None:
        """Stop everything (servers, encoders, loop timers)."""
        for server in self.onvif_servers:
            with contextlib.suppress(Exception):
                await server.close()
        if self.discovery is not None:
            with contextlib.suppress(Exception):
                closer = self.discovery.close()
                if asyncio.iscoroutine(closer):
                    await closer
        if self.control is not None:
            await self.control.close()
        if self.rtsp is not None:
            await self.rtsp.close()
        for cam in self.cameras.values():
            cam.close()
        for scheduler in self._schedulers.values():
            scheduler.close()
        for encoder in self._encoders:
            await asyncio.to_thread(encoder.join, 2.0)
