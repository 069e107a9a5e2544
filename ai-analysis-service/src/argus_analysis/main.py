"""``argus-analysis``: the analyser process (one asyncio loop, a thread per camera).

``argus-analysis analyse <file or URL>`` analyses one input without Redis or management
and prints its motion events as JSON lines (see ``cli.py``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys

import av
import cv2
import structlog
import uvicorn

from argus_analysis.config import Settings, get_settings
from argus_analysis.detect.select import DeviceUnavailable, choose_device
from argus_analysis.service import AnalysisService
from argus_common.logging import configure_logging
from argus_common.service_http import create_service_app

log = structlog.get_logger("argus.analysis")


async def serve(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM, then shut down cleanly; returns the exit status."""
    try:
        choice = choose_device(settings.device)
    except DeviceUnavailable as exc:
        log.error("device_unavailable", detail=str(exc))
        return 2
    log.info("device_chosen", device=choice.device, backend=choice.backend, reason=choice.reason)
    service = AnalysisService(settings, choice)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    server = uvicorn.Server(uvicorn.Config(
        create_service_app("ai-analysis-service", service.readiness, service.status),
        host=settings.metrics_host,
        port=settings.metrics_port, log_config=None, access_log=False, lifespan="off",
    ))
    # Server.serve() would take SIGINT/SIGTERM from us: its steps are run here without it.
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
    log.info("started", instance_id=settings.instance_id, metrics_port=settings.metrics_port)
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
    if sys.argv[1:2] == ["analyse"]:
        from argus_analysis.cli import analyse_main

        raise SystemExit(analyse_main(sys.argv[2:]))
    settings = get_settings()
    configure_logging("ai-analysis-service", settings.log_level)
    av.logging.set_level(None)  # FFmpeg's own log lines may carry URLs with credentials
    # One thread per camera already: OpenCV's own pool would only add contention.
    cv2.setNumThreads(1)
    for noisy in ("httpx", "httpcore"):  # a line per internal API call
        logging.getLogger(noisy).setLevel(logging.WARNING)
    raise SystemExit(asyncio.run(serve(settings)))
