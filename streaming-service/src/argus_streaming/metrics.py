"""Prometheus metrics of streaming-service (``argus_`` prefix)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

VIEWERS = Gauge("argus_streaming_viewers", "Live WebRTC viewers", ["camera_id", "stream"])
SESSIONS = Gauge("argus_streaming_sessions", "Open sessions by kind", ["kind"])
SOURCES = Gauge("argus_streaming_sources", "Running RTSP pulls")
SOURCE_RESTARTS = Counter(
    "argus_streaming_source_restarts_total", "RTSP pulls restarted after an error", ["camera_id"]
)
BYTES_SENT = Counter(
    "argus_streaming_bytes_sent_total", "Media payload bytes handed to viewers", ["kind"]
)
FRAMES_DROPPED = Counter(
    "argus_streaming_frames_dropped_total",
    "Video frames dropped for slow viewers (queue full, resync at next keyframe)",
    ["camera_id"],
)
VIEWER_FRAMES_DROPPED = Histogram(
    "argus_streaming_viewer_frames_dropped",
    "Frames dropped per viewer over its whole session",
    buckets=(0, 1, 10, 30, 100, 300, 1000, 10000),
)
TIME_TO_FIRST_FRAME = Histogram(
    "argus_streaming_time_to_first_frame_seconds",
    "From the viewer's request to its first video frame handed to WebRTC/HLS",
    ["kind"],
    buckets=(0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10),
)
