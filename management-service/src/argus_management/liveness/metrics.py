"""Prometheus metrics of camera liveness and recorder heartbeats (``argus_`` prefix).

``argus_cameras`` and ``argus_camera_up`` are refreshed from the database by every worker
process, so whichever worker Prometheus scrapes reports the same numbers; the check counters
and histograms come from the one process holding the checker lease.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CAMERAS = Gauge("argus_cameras", "Enabled cameras by liveness status", ["status"])
CAMERA_UP = Gauge(
    "argus_camera_up", "1 if the enabled camera is online, 0 if offline (unknown: no series)",
    ["camera_id"],
)
CHECKS = Counter(
    "argus_liveness_checks_total", "Camera liveness checks by result", ["result"]
)
PROBE_DURATION = Histogram(
    "argus_liveness_probe_duration_seconds", "Duration of one active probe",
    ["protocol"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
CYCLE_DURATION = Histogram(
    "argus_liveness_cycle_duration_seconds", "Duration of one check cycle over every camera",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
TRANSITIONS = Counter(
    "argus_liveness_transitions_total", "Camera status changes", ["to"]
)
ALERTS_SUPPRESSED = Counter(
    "argus_liveness_alerts_suppressed_total",
    "camera.offline alerts not raised because one was raised within the alert window",
)
LEADER = Gauge(
    "argus_liveness_leader", "1 while this process holds the liveness checker lease"
)
RECORDERS = Gauge(
    "argus_recorders", "recording-service instances with a live heartbeat"
)
