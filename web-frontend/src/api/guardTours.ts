/**
 * PTZ guard tours (`/api/v1/guard-tours`): reading needs ptz:control, changing needs
 * cameras:write. The status is what the server's runner does now.
 */

import { api } from './client';

export interface GuardTourStep {
  preset: string;
  dwell_s: number;
}

export type GuardTourState = 'running' | 'paused' | 'idle' | 'disabled';

export interface GuardTour {
  id: number;
  camera_id: number;
  name: string;
  enabled: boolean;
  steps: GuardTourStep[];
  created_by: number | null;
  created_at: string;
  updated_at: string;
  status: {
    state: GuardTourState;
    step: number | null;
    held_by: string | null;
    since: string | null;
  };
}

export interface GuardTourInput {
  name: string;
  enabled: boolean;
  steps: GuardTourStep[];
}

const BASE = '/api/v1/guard-tours';
export const MAX_STEPS = 32;

export const guardTours = {
  list: (signal?: AbortSignal) => api.get<GuardTour[]>(BASE, {}, signal),
  create: (cameraId: number, body: GuardTourInput) =>
    api.post<GuardTour>(BASE, { camera_id: cameraId, ...body }),
  update: (id: number, body: Partial<GuardTourInput>) =>
    api.patch<GuardTour>(`${BASE}/${id}`, body),
  remove: (id: number) => api.delete(`${BASE}/${id}`),
};
