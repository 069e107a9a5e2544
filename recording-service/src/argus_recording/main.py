"""``argus-recording``: the recorder process (one asyncio loop, a thread per camera)."""

from __future__ import annotations

import asyncio
import logging

import av
import structlog

from argus_common.logging import configure_logging
from argus_common.service_http import create_service_app
from argus_common.serving import serve
from argus_recording.config import Settings, get_settings
from argus_recording.service import RecordingService

log = structlog.get_logger("argus.recording")


async def main(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM, then shut down cleanly; returns the exit status."""
    service = RecordingService(settings)
    app = create_service_app("recording-service", service.readiness, service.status)
    return await serve(app, settings.metrics_host, settings.metrics_port, service, log=log,
                       instance_id=settings.instance_id,
                       recordings_dir=str(settings.recordings_dir))


def run() -> None:
    """Console entry point."""
    settings = get_settings()
    configure_logging("recording-service", settings.log_level)
    av.logging.set_level(None)  # FFmpeg's own log lines may carry URLs with credentials
    for noisy in ("httpx", "httpcore"):  # a line per internal API call
        logging.getLogger(noisy).setLevel(logging.WARNING)
    raise SystemExit(asyncio.run(main(settings)))
