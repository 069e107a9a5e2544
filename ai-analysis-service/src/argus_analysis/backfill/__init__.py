"""Analysis of backfilled footage (issue W2 8/10, ANR): when the recorder announces a
segment restored from a camera's own storage (``backfilled: true`` on ``argus:segments``),
the analyser runs the camera's motion and object detection over the file and reports what
it shows as events at their true (past) times, marked ``payload.backfill``. Opt-in per
camera with ``analysis.backfill``."""
