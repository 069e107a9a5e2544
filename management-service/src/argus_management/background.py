"""Background tasks started with the app (stream consumers, fan-out hubs, health checks)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI

from argus_management.alerts.hub import run_alert_fanout
from argus_management.analysis.consumer import run_analysis_consumer
from argus_management.liveness.checker import run_liveness_checker
from argus_management.notify.webhook import run_webhook_notifier
from argus_management.ptz.watch import run_ptz_sweep, run_ptz_watch
from argus_management.recordings.consumer import run_segment_consumer

BACKGROUND_TASKS: list[Callable[[FastAPI], Coroutine[Any, Any, None]]] = [
    run_alert_fanout,  # the process's one argus:alerts subscription, feeding /ws/alerts
    run_segment_consumer,  # argus:segments -> recording_segments (the recording index)
    run_liveness_checker,  # camera status/last_seen, camera.offline/online, recorder.down
    run_webhook_notifier,  # alert state changes POSTed to MANAGEMENT_WEBHOOK_URL (if set)
    run_ptz_watch,  # argus:ptz -> /ws/alerts clients; argus:cameras -> ONVIF device cache
    run_ptz_sweep,  # PTZ locks that expired unseen: stop the camera, announce it
    run_analysis_consumer,  # argus:analysis -> analysis_results (motion frames, summaries)
]
