"""``argus-recording``: the recorder process (one asyncio loop, a thread per camera)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

import av
import structlog
import uvicorn

from argus_common.logging import configure_logging
from argus_common.service_http import create_service_app
from argus_recording.config import Settings, get_settings
from argus_recording.service import RecordingService

log = structlog.get_logger("argus.recording")


async def serve(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM, then shut down cleanly; returns the exit status."""
    service = RecordingService(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    server = uvicorn.Server(uvicorn.Config(
        create_service_app("recording-service", service.readiness, service.status),
        host=settings.metrics_host,
        port=settings.metrics_port, log_config=None, access_log=False, lifespan="off",
    ))
    # Server.serve() would take SIGINT/SIGTERM from us while it runs: its start-up, loop
    # and shutdown steps are run here without that wrapper.
    server.config.load()
    server.lifespan = server.config.lifespan_class(server.config)
    try:
        await server.startup()
    except SystemExit:
        pass  # uvicorn exits when it cannot bind; reported below
    if not server.started:
        log.error("metrics_port_unavailable", host=settings.metrics_host,
                  port=settings.metrics_port)
        return 1
    http_task = asyncio.create_task(server.main_loop())
    await service.start()
    log.info("started", instance_id=settings.instance_id,
             recordings_dir=str(settings.recordings_dir))
    try:
        await stop.wait()
    finally:
        log.info("stopping")
        await service.stop()
        server.should_exit = True
        await asyncio.gather(http_task, return_exceptions=True)
        await server.shutdown()
        log.info("stopped")
    return 0


def run() -> None:
    """Console entry point."""
    settings = get_settings()
    configure_logging("recording-service", settings.log_level)
    av.logging.set_level(None)  # FFmpeg's own log lines may carry URLs with credentials
    for noisy in ("httpx", "httpcore"):  # a line per internal API call
        logging.getLogger(noisy).setLevel(logging.WARNING)
    raise SystemExit(asyncio.run(serve(settings)))
