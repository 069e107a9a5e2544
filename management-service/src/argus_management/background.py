"""Background tasks started with the app (stream consumers, fan-out hubs, health checks),
each built from the app's state and run until the lifespan cancels it."""

from __future__ import annotations

from collections.abc import Coroutine
from typing import Any

from argus_management.alerts.hub import run_alert_fanout
from argus_management.analysis.consumer import run_analysis_consumer
from argus_management.analysis.uploads import run_upload_janitor
from argus_management.audit.tasks import run_throttle_flush
from argus_management.audit.video import run_video_audit_consumer
from argus_management.backup.pitr_status import run_pitr_sampler
from argus_management.backup.schedule import run_backup_schedule
from argus_management.backup.settings import BackupSettings
from argus_management.bus_outbox import DurableBus
from argus_management.deps import AppState
from argus_management.exports.runner import ExportRunner
from argus_management.guard_tours.runner import GuardTourRunner
from argus_management.notify.webhook import run_webhook_notifier
from argus_management.offsite.runner import OffsiteRunner
from argus_management.onvif.event_watch import OnvifEventWatch
from argus_management.ptz.watch import run_ptz_sweep, run_ptz_watch
from argus_management.recordings.consumer import run_segment_consumer


def background_tasks(state: AppState) -> dict[str, Coroutine[Any, Any, None]]:
    """The coroutines to run for the life of the app, by task name."""
    tasks: dict[str, Coroutine[Any, Any, None]] = {
        # the process's one argus:alerts subscription, feeding /ws/alerts
        "alert_fanout": run_alert_fanout(state.bus, state.alert_hub),
        # argus:segments -> recording_segments (the recording index)
        "segment_consumer": run_segment_consumer(state.bus, state.sessionmaker),
        # argus:ptz -> /ws/alerts clients; argus:cameras -> ONVIF device cache
        "ptz_watch": run_ptz_watch(state.bus, state.ptz, state.alert_hub),
        # PTZ locks that expired unseen: stop the camera, announce it
        "ptz_sweep": run_ptz_sweep(state.ptz),
        # argus:analysis -> analysis_results (motion frames, summaries)
        "analysis_consumer": run_analysis_consumer(state.bus, state.sessionmaker),
        # analysis uploads never started within MANAGEMENT_UPLOAD_STALE_HOURS; orphan files
        "upload_janitor": run_upload_janitor(state.sessionmaker, state.settings, state.bus),
        # argus:audit -> audit_log (video access reported by streaming-service)
        "video_audit_consumer": run_video_audit_consumer(state.bus, state.sessionmaker),
        # counted anonymous audit events -> one row per key and minute
        "audit_throttle_flush": run_throttle_flush(state.sessionmaker),
        # export jobs: claim, remux, sign; expire old exports
        "export_runner": ExportRunner(state.settings, state.sessionmaker, state.bus).run(),
        # off-site copy jobs: claim, copy to the object store, audit
        "offsite_runner": OffsiteRunner(state.settings, state.sessionmaker).run(),
    }
    backup = BackupSettings()
    if backup.enabled:
        # the daily backup of this database (backup/, docs/operations.md)
        tasks["backup_schedule"] = run_backup_schedule(
            state.settings.database_url,
            backup.backup_dir(state.settings.data_dir),
            backup.at,
            backup.keep_days,
        )
    if backup.enabled and state.settings.database_url.startswith("postgresql"):
        # WAL archive progress (and the newest pgBackRest base backup when
        # MANAGEMENT_PGBACKREST_CONF is set) -> pitr.json (the metrics)
        tasks["pitr_sampler"] = run_pitr_sampler(
            backup.pgbackrest_conf,
            backup.pgbackrest_stanza,
            state.engine,
            backup.backup_dir(state.settings.data_dir),
            backup.pitr_sample_every_s,
        )
    if isinstance(state.bus, DurableBus):
        # events and alerts kept while Redis was away -> Redis, in order
        tasks["bus_outbox"] = state.bus.deliver()
    if state.liveness is not None:
        # camera status/last_seen, camera.offline/online, recorder.down
        tasks["liveness_checker"] = state.liveness.run()
    if state.settings.onvif_events:
        # ONVIF cameras' own events (PullPoint) -> events, alerts, event recording
        tasks["onvif_events"] = OnvifEventWatch(
            state.settings, state.sessionmaker, state.bus, state.event_stored
        ).run()
    if state.settings.guard_tours:
        # enabled PTZ guard tours, under each camera's PTZ lock at the lowest priority
        tasks["guard_tours"] = GuardTourRunner(state.settings, state.sessionmaker, state.ptz).run()
    if state.webhook is not None:
        # argus:alerts -> POSTs to MANAGEMENT_WEBHOOK_URL
        tasks["webhook_notifier"] = run_webhook_notifier(state.bus, state.webhook)
    return tasks
