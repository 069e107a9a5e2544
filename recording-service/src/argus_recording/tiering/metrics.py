"""Prometheus metrics of tiering (``argus_recording_tier_*``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

UPLOADS = Counter(
    "argus_recording_tier_uploads_total",
    "Segments moved to the object store, by outcome",
    ["outcome"],
)
UPLOADED_BYTES = Counter(
    "argus_recording_tier_uploaded_bytes_total", "Bytes uploaded to the object store"
)
UPLOAD_SECONDS = Histogram(
    "argus_recording_tier_upload_seconds",
    "One segment: upload, verify, index, unlink",
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
BACKLOG = Gauge(
    "argus_recording_tier_backlog_segments",
    "Segments due for the object store and still local (the tiering lease holder reports)",
)
LAG = Gauge(
    "argus_recording_tier_upload_lag_seconds",
    "How long the longest-waiting due segment has been due (0 when none is)",
)
TIER_BYTES = Gauge("argus_recording_tier_bytes", "Bytes of live segments on each tier", ["tier"])
TIER_SEGMENTS = Gauge("argus_recording_tier_segments", "Live segments on each tier", ["tier"])
RECONCILED = Counter(
    "argus_recording_tier_reconciled_total", "Tiering reconcile repairs, by kind", ["kind"]
)
SIDECAR_BACKFILL = Counter(
    "argus_recording_tier_sidecar_backfill_total",
    "Fragment indexes made for segments tiered without one, by outcome "
    "(made, damaged: skipped, failed: store or disk, gone: purged meanwhile)",
    ["outcome"],
)
