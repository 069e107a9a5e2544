/** Tracked objects as management's search and review answer them, for tests. */

import type { TrackedObject } from '../../src/objects/api';

export function trackedObject(id: number, extra: Partial<TrackedObject> = {}): TrackedObject {
  return {
    id, camera_id: 3, track_id: `t-${id}`, label: 'person',
    first_seen: '2026-12-08T09:00:02Z', last_seen: '2026-12-08T09:00:12Z', dwell_s: 10,
    score: 0.91, color: 'red', box: { x: 0.4, y: 0.5, w: 0.1, h: 0.3 }, zones: ['door'],
    lines: [], direction: 'right', speed: 0.05, event_id: 100 + id, snapshot_url: null,
    snapshot_ts: null, ended: true, reviewed: false, reviewed_by: null, reviewed_at: null,
    ...extra,
  };
}
