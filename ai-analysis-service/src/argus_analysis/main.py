"""``argus-analysis``: the analyser process (one asyncio loop, a thread per camera).

``argus-analysis analyse <file or URL>`` analyses one input without Redis or management
and prints its motion events as JSON lines (see ``cli.py``).
"""

from __future__ import annotations

import asyncio
import logging
import sys

import av
import cv2
import structlog

from argus_analysis.config import Settings, get_settings
from argus_analysis.detect.object_base import ObjectDetectorUnavailable
from argus_analysis.detect.select import DeviceUnavailable, choose_device
from argus_analysis.objects.select import build_detectors
from argus_analysis.service import AnalysisService
from argus_common.logging import configure_logging
from argus_common.service_http import create_service_app
from argus_common.serving import serve

log = structlog.get_logger("argus.analysis")


async def main(settings: Settings) -> int:
    """Run until SIGINT/SIGTERM, then shut down cleanly; returns the exit status."""
    try:
        choice = choose_device(settings.device)
    except DeviceUnavailable as exc:
        log.error("device_unavailable", detail=str(exc))
        return 2
    log.info("device_chosen", device=choice.device, backend=choice.backend, reason=choice.reason)
    try:
        detectors = build_detectors(settings)
    except ObjectDetectorUnavailable as exc:
        log.error("object_detector_unavailable", detail=str(exc))
        return 2
    log.info("object_detectors", default=detectors[1],
             providers={name: d.provider for name, d in detectors[0].items()})
    service = AnalysisService(settings, choice, detectors)
    app = create_service_app("ai-analysis-service", service.readiness, service.status)
    return await serve(app, settings.metrics_host, settings.metrics_port, service, log=log,
                       instance_id=settings.instance_id)


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
    raise SystemExit(asyncio.run(main(settings)))
