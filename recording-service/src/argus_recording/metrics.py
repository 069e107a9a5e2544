"""Prometheus metrics of the recorder (``argus_recording_*``).

Per-packet paths never touch these: workers add up bytes per fragment and observe latency
once per fragment, so a hundred cameras cost a few hundred metric updates a second.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

BYTES_WRITTEN = Counter(
    "argus_recording_bytes_written_total", "Media bytes written to segment files", ["camera_id"]
)
SEGMENTS = Counter(
    "argus_recording_segments_total", "Segments finished and announced", ["camera_id", "kind"]
)
ACTIVE_RECORDINGS = Gauge(
    "argus_recording_active_recordings", "Segment files open for writing right now"
)
OWNED_CAMERAS = Gauge("argus_recording_owned_cameras", "Cameras whose lease this recorder holds")
RECONNECTS = Counter(
    "argus_recording_ingest_reconnects_total", "Ingest (re)connection attempts after a failure",
    ["camera_id"],
)
DROPPED_PACKETS = Counter(
    "argus_recording_dropped_packets_total", "Packets received but not written",
    ["camera_id", "reason"],
)
WRITE_LATENCY = Histogram(
    "argus_recording_write_latency_seconds",
    "From a fragment's first packet received to the fragment written to the file",
    buckets=(0.05, 0.1, 0.25, 0.5, 0.75, 1, 1.1, 1.25, 1.5, 2, 3, 5, 10, 30),
)
DISK_FREE = Gauge("argus_recording_disk_free_bytes", "Free bytes on the recordings volume")
DISK_TOTAL = Gauge("argus_recording_disk_total_bytes", "Size of the recordings volume")
LAG = Gauge(
    "argus_recording_lag_seconds",
    "Wall-clock now minus the wall time of the newest packet handled, per camera",
    ["camera_id"],
)
ANNOUNCE_BACKLOG = Gauge(
    "argus_recording_announce_backlog", "Finished segments waiting to be announced"
)
PURGED = Counter(
    "argus_recording_purged_segments_total", "Segments deleted by retention", ["reason"]
)
ADOPTED = Counter(
    "argus_recording_reconciled_files_total", "Files found unindexed at start, by outcome",
    ["outcome"],
)
