"""Prometheus metrics of the analyser (``argus_analysis_*``; names in docs/contracts.md).

Per-frame paths touch only plain integer counters on the camera's worker; the gauges and
Prometheus counters are brought up to date by the loop every couple of seconds.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

FPS = Gauge(
    "argus_analysis_fps", "Frames analysed per second over the last few seconds", ["camera_id"]
)
FRAMES = Counter("argus_analysis_frames_total", "Frames analysed", ["camera_id"])
FRAMES_DROPPED = Counter(
    "argus_analysis_frames_dropped_total",
    "Decoded frames skipped because analysis fell behind", ["camera_id"],
)
DECODER_ERRORS = Counter(
    "argus_analysis_decoder_errors_total", "Packets the decoder could not decode", ["camera_id"]
)
RECONNECTS = Counter(
    "argus_analysis_reconnects_total", "Connection attempts after a failure", ["camera_id"]
)
EVENTS = Counter(
    "argus_analysis_events_total", "Motion events accepted by management", ["type"]
)
FRAME_TO_EVENT = Histogram(
    "argus_analysis_frame_to_event_seconds",
    "From the capture time of the frame that triggered an event to the event accepted by "
    "management",
    buckets=(0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5, 10),
)
DECODE_TO_EVENT = Histogram(
    "argus_analysis_decode_to_event_seconds",
    "From the triggering frame's packet entering the decoder to the event accepted by "
    "management",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
)
CAMERAS = Gauge("argus_analysis_cameras", "Cameras analysed by this instance")
JOBS = Counter("argus_analysis_jobs_total", "Analysis jobs finished, by outcome", ["outcome"])
RESULTS_QUEUED = Counter(
    "argus_analysis_results_total", "Entries added to the argus:analysis stream", ["kind"]
)

# Objects (objects/engine.py, objects/report.py).
OBJECT_INFERENCES = Counter(
    "argus_analysis_object_inferences_total",
    "Object detector calls (one call may hold the regions of several cameras)", ["detector"],
)
OBJECT_REGIONS = Counter(
    "argus_analysis_object_regions_total", "Picture regions run through a detector", ["detector"]
)
OBJECT_INFERENCE_S = Histogram(
    "argus_analysis_object_inference_seconds", "Time of one object detector call", ["detector"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1, 2.5),
)
OBJECT_QUEUE = Gauge(
    "argus_analysis_object_queue_depth", "Frames waiting for the object detector"
)
OBJECT_DROPPED = Counter(
    "argus_analysis_object_frames_dropped_total",
    "Frames not run through the object detector because a newer frame of the camera came "
    "first (the detector is behind)", ["camera_id"],
)
OBJECT_TRACKS = Gauge(
    "argus_analysis_object_tracks_active", "Objects being tracked", ["camera_id"]
)
OBJECT_EVENTS = Counter(
    "argus_analysis_object_events_total", "Object events accepted by management", ["type"]
)

# Backfill analysis (backfill/).
BACKFILL_SEGMENTS = Counter(
    "argus_analysis_backfill_segments_total",
    "Backfilled segments announced by the recorder, by outcome (analysed, skipped: the "
    "camera does not opt in, unreadable)", ["outcome"],
)
