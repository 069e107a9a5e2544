/** Typed calls of the video-wall API (`/api/v1/walls`) and of a monitor's display API. */

import { api } from '../api/client';
import { errorFromResponse } from '../api/errors';
import type { ManagementSchemas } from '../api/schema';

export type Wall = ManagementSchemas['WallOut'];
export type Monitor = ManagementSchemas['MonitorOut'];
export type MonitorContent = ManagementSchemas['MonitorContent'];
export type Credential = ManagementSchemas['CredentialOut'];
export type DisplayState = ManagementSchemas['DisplayState'];
export type DisplayToken = ManagementSchemas['DisplayToken'];
export type Push =
  | { kind: 'camera'; camera_id: number }
  | { kind: 'layout'; layout_id: number }
  | { kind: 'tour'; cameras: number[]; dwell_s: number }
  | { kind: 'clear' };

const WALLS = '/api/v1/walls';
const DISPLAY = '/api/v1/wall-display';

export const walls = {
  list: (signal?: AbortSignal) => api.get<Wall[]>(WALLS, undefined, signal),
  create: (name: string) => api.post<Wall>(WALLS, { name }),
  remove: (id: number) => api.delete(`${WALLS}/${id}`),
  addMonitor: (wallId: number, name: string, position: number) =>
    api.post<Monitor>(`${WALLS}/${wallId}/monitors`, { name, position }),
  updateMonitor: (m: Monitor, data: { name?: string; alarm_kinds?: string[] }) =>
    api.patch<Monitor>(`${WALLS}/${m.wall_id}/monitors/${m.id}`, data),
  removeMonitor: (m: Monitor) => api.delete(`${WALLS}/${m.wall_id}/monitors/${m.id}`),
  push: (m: Monitor, body: Push) =>
    api.post<Monitor>(`${WALLS}/${m.wall_id}/monitors/${m.id}/push`, body),
  issueCredential: (m: Monitor) =>
    api.post<Credential>(`${WALLS}/${m.wall_id}/monitors/${m.id}/credential`),
  revokeCredential: (m: Monitor) =>
    api.delete(`${WALLS}/${m.wall_id}/monitors/${m.id}/credential`),
};

/** Trade a monitor's display credential for a display token (no user session). */
export async function displayToken(wallId: number, monitorId: number,
  key: string): Promise<DisplayToken> {
  const resp = await api.fetchAuthed('POST', `${DISPLAY}/token`, {
    auth: false, json: { wall_id: wallId, monitor_id: monitorId, key } });
  if (!resp.ok) throw await errorFromResponse(resp);
  return (await resp.json()) as DisplayToken;
}

export const display = {
  state: (signal?: AbortSignal) => api.get<DisplayState>(`${DISPLAY}/state`, undefined, signal),
};

/** The camera ids a monitor's content shows. */
export function contentCameras(c: MonitorContent): number[] {
  const ids = (c.cells ?? []).filter((x): x is number => x !== null);
  for (const t of c.tours ?? []) ids.push(...t.cameras);
  return [...new Set(ids)];
}
