/** Legal holds: `/api/v1/holds` (types from management's OpenAPI schema). */

import { api } from '../api/client';
import type { ManagementSchemas } from '../api/schema';

export type Hold = ManagementSchemas['HoldOut'];
export type HoldCreate = ManagementSchemas['HoldCreate'];
export type HoldList = ManagementSchemas['HoldPage'];

export const holdKeys = {
  all: ['holds'] as const,
  list: (q: object) => ['holds', q] as const,
};

export const holdsApi = {
  list: (q: { active?: boolean; kind?: string; event_id?: number; export_id?: number;
    limit: number }, signal?: AbortSignal) =>
    api.get<HoldList>('/api/v1/holds', q, signal),
  create: (body: HoldCreate) => api.post<Hold>('/api/v1/holds', body),
  release: (id: number, reason: string) =>
    api.post<Hold>(`/api/v1/holds/${id}/release`, { reason }),
};
