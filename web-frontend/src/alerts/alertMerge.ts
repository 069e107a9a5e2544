/**
 * What the console shows about open alerts — the count in the header and the RTMP emergency
 * banner — merged from two sources: REST (the truth, reloaded after each burst) and live
 * frames (shown at once). Pure, so the merge rules are tested without a socket.
 */

import type { Alert, Page } from '../api/types';
import type { AlertFrame } from '../socket/messages';

/** An RTMP push (phone, body cam) still open: shown as a banner until handled. */
export interface Emergency {
  alertId: number | null;
  cameraId: number | null;
  title: string;
  detail: string;
  ts: string;
}

export interface AlertSummary {
  openCount: number;
  emergencies: Emergency[];
}

export const EMPTY_SUMMARY: AlertSummary = { openCount: 0, emergencies: [] };
export const RTMP_KIND = 'rtmp.received';

function fromAlert(a: Alert): Emergency {
  return { alertId: a.id, cameraId: a.camera_id, title: a.title, detail: a.detail,
    ts: a.created_at };
}

/** The summary as REST tells it: all open alerts (count), open RTMP alerts (banner). */
export function summaryFromRest(open: Page<Alert>, rtmp: Page<Alert>): AlertSummary {
  return { openCount: open.total, emergencies: rtmp.items.map(fromAlert) };
}

/**
 * A live frame applied before REST confirms it: a new open alert counts at once, a new RTMP
 * push raises the banner, and an RTMP alert that is acked or resolved leaves it. Other
 * state changes wait for REST (the frame does not say what the count was).
 */
export function applyFrame(s: AlertSummary, a: AlertFrame): AlertSummary {
  if (a.state !== 'open') {
    if (a.kind !== RTMP_KIND) return s;
    return { ...s, emergencies: s.emergencies.filter((e) => e.alertId !== a.alert_id) };
  }
  const next = { ...s, openCount: s.openCount + 1 };
  if (a.kind !== RTMP_KIND) return next;
  // A frame for an alert already shown (a repeat after a reconnect) is not a second banner.
  const rest = a.alert_id === null ? s.emergencies
    : s.emergencies.filter((e) => e.alertId !== a.alert_id);
  return { ...next, emergencies: [{ alertId: a.alert_id, cameraId: a.camera_id, title: a.title,
    detail: a.detail, ts: a.ts }, ...rest] };
}

/** The banner without the emergencies this operator dismissed (until reload). */
export function visibleEmergencies(s: AlertSummary, dismissed: ReadonlySet<number>): Emergency[] {
  return s.emergencies.filter((e) => e.alertId === null || !dismissed.has(e.alertId));
}
