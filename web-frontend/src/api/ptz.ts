/** PTZ API of one camera (`/api/v1/cameras/{id}/ptz/...`, permission ptz:control). */

import { api } from './client';
import type { PtzCommand, PtzLock, PtzPreset, PtzStatus } from './types';

export interface Velocity {
  pan?: number;
  tilt?: number;
  zoom?: number;
}

const base = (id: number) => `/api/v1/cameras/${id}/ptz`;

export const ptz = {
  status: (id: number) => api.get<PtzStatus>(`${base(id)}/status`),
  lock: (id: number, signal?: AbortSignal) =>
    api.get<PtzLock | null>(`${base(id)}/lock`, {}, signal),
  acquire: (id: number, takeover = false) =>
    api.post<PtzLock>(`${base(id)}/lock`, takeover ? { takeover: true } : {}),
  release: (id: number) => api.delete(`${base(id)}/lock`),
  /** Continuous move at a velocity; the server stops it after timeoutS at the latest. */
  move: (id: number, v: Velocity, timeoutS: number) =>
    api.post<PtzCommand>(`${base(id)}/move`, { mode: 'continuous', ...v, timeout_s: timeoutS }),
  stop: (id: number) => api.post<PtzCommand>(`${base(id)}/stop`),
  presets: (id: number, signal?: AbortSignal) =>
    api.get<PtzPreset[]>(`${base(id)}/presets`, {}, signal),
  setPreset: (id: number, name: string) =>
    api.post<{ token: string; name: string }>(`${base(id)}/presets`, { name }),
  removePreset: (id: number, token: string) =>
    api.delete(`${base(id)}/presets/${encodeURIComponent(token)}`),
  gotoPreset: (id: number, token: string) =>
    api.post<PtzCommand>(`${base(id)}/presets/${encodeURIComponent(token)}/goto`),
  home: (id: number) => api.post<PtzCommand>(`${base(id)}/home/goto`),
  setHome: (id: number) => api.put<PtzCommand>(`${base(id)}/home`),
};
