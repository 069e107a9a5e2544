/** Typed calls of the management API, all through the one ApiClient. */

import { api } from './client';
import { Pager } from './paging';
import type {
  Alert, AlertState, ArgusEvent, AuditEntry, Camera, CameraGroup, CameraInput, DiscoveredDevice,
  Grants, Layout, LayoutInput, Me, Page, ProbeResult, Role, Timeline, User,
} from './types';
import type { RtmpKey, RtmpKeyCreated } from './schema';

const V1 = '/api/v1';
/** Whole lists follow `total` page by page (see paging.ts). */
const pager = new Pager(api);

export const account = {
  me: () => api.get<Me>(`${V1}/users/me`),
  changePassword: (current_password: string, new_password: string) =>
    api.put<void>(`${V1}/users/me/password`, { current_password, new_password }),
};

export const cameras = {
  list: (signal?: AbortSignal): Promise<Camera[]> =>
    pager.all<Camera>(`${V1}/cameras`, {}, signal),
  get: (id: number) => api.get<Camera>(`${V1}/cameras/${id}`),
  create: (data: CameraInput) => api.post<Camera>(`${V1}/cameras`, data),
  update: (id: number, data: CameraInput) => api.patch<Camera>(`${V1}/cameras/${id}`, data),
  remove: (id: number) => api.delete(`${V1}/cameras/${id}`),
  /** With `resolution` (seconds): the summary (merged ranges, gaps with causes, event
   * counts; windows up to 31 days). */
  timeline: (id: number, start: Date, end: Date, signal?: AbortSignal,
    resolution: number | null = null) =>
    api.get<Timeline>(`${V1}/cameras/${id}/timeline`,
      { start: start.toISOString(), end: end.toISOString(),
        ...(resolution ? { resolution_s: resolution } : {}) }, signal),
  discover: (target?: { host: string; port: number }) =>
    api.post<{ devices: DiscoveredDevice[] }>(`${V1}/cameras/onvif/discover`,
      target ? { target, timeout_s: 2 } : { timeout_s: 2 }),
  probe: (body: { host: string; port: number; username?: string; password?: string }) =>
    api.post<ProbeResult>(`${V1}/cameras/onvif/probe`, body),
};

export const layouts = {
  list: (signal?: AbortSignal): Promise<Layout[]> =>
    pager.all<Layout>(`${V1}/layouts`, {}, signal),
  create: (data: LayoutInput) => api.post<Layout>(`${V1}/layouts`, data),
  update: (id: number, data: LayoutInput) => api.patch<Layout>(`${V1}/layouts/${id}`, data),
  remove: (id: number) => api.delete(`${V1}/layouts/${id}`),
};

export interface EventQuery {
  camera_id?: number | null;
  type?: string | null;
  start?: string | null;
  end?: string | null;
  limit?: number;
  offset?: number;
}

export const events = {
  list: (q: EventQuery, signal?: AbortSignal) =>
    api.get<Page<ArgusEvent>>(`${V1}/events`, { ...q }, signal),
  /** The snapshot image as a blob, or null when the event has none (404). */
  snapshot: async (id: number, signal?: AbortSignal): Promise<Blob | null> => {
    const resp = await api.fetchAuthed('GET', `${V1}/events/${id}/snapshot`,
      signal ? { signal } : {});
    if (!resp.ok) return null;
    return resp.blob();
  },
};

export interface AlertQuery {
  state?: AlertState | null;
  kind?: string | null;
  camera_id?: number | null;
  severity?: string | null;
  limit?: number;
  offset?: number;
}

export const alerts = {
  list: (q: AlertQuery, signal?: AbortSignal) =>
    api.get<Page<Alert>>(`${V1}/alerts`, { ...q }, signal),
  ack: (id: number) => api.post<Alert>(`${V1}/alerts/${id}/ack`),
};

export const users = {
  list: (signal?: AbortSignal): Promise<User[]> =>
    pager.all<User>(`${V1}/users`, {}, signal),
  create: (data: { username: string; email?: string | null; password: string; roles: string[] }) =>
    api.post<User>(`${V1}/users`, data),
  update: (id: number, data: Partial<{ email: string | null; roles: string[];
    is_active: boolean; password: string }>) => api.patch<User>(`${V1}/users/${id}`, data),
  remove: (id: number) => api.delete<User | undefined>(`${V1}/users/${id}`),
  grants: (id: number) => api.get<Grants>(`${V1}/users/${id}/cameras`),
  setGrants: (id: number, camera_ids: number[], group_ids: number[]) =>
    api.put<Grants>(`${V1}/users/${id}/cameras`, { camera_ids, group_ids }),
  roles: (signal?: AbortSignal) => api.get<Role[]>(`${V1}/roles`, {}, signal),
  groups: (signal?: AbortSignal): Promise<CameraGroup[]> =>
    pager.all<CameraGroup>(`${V1}/camera-groups`, {}, signal),
};

export interface AuditQuery {
  user?: string;
  action?: string;
  target_type?: string;
  target_id?: string;
  start?: string;
  end?: string;
  limit?: number;
  offset?: number;
}

export const audit = {
  list: (q: AuditQuery, signal?: AbortSignal) =>
    api.get<Page<AuditEntry>>(`${V1}/audit`, { ...q }, signal),
};

export const rtmpKeys = {
  /** Every key (paged like the other lists: `Page_KeyOut_` in management's schema). */
  list: (signal?: AbortSignal): Promise<RtmpKey[]> =>
    pager.all<RtmpKey>(`${V1}/rtmp/keys`, {}, signal),
  create: (name: string, expires_at?: string | null) =>
    api.post<RtmpKeyCreated>(`${V1}/rtmp/keys`, expires_at ? { name, expires_at } : { name }),
  remove: (id: number) => api.delete(`${V1}/rtmp/keys/${id}`),
};
