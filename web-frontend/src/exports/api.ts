/**
 * Evidence exports: `/api/v1/exports`. Types come from management's OpenAPI schema
 * (generated/management.d.ts). Holds have their own folder (holds/api.ts).
 */

import { api } from '../api/client';
import { errorFromResponse } from '../api/errors';
import type { ManagementSchemas } from '../api/schema';

export type ExportJob = ManagementSchemas['ExportOut'];
export type ExportList = ManagementSchemas['ExportPage'];
export type ExportCreate = ManagementSchemas['ExportCreate'];
export type PublicKey = ManagementSchemas['PublicKeyOut'];
export type ServerVerify = ManagementSchemas['VerifyOut'];

const V1 = '/api/v1';

export const exportKeys = {
  all: ['exports'] as const,
  list: (offset: number) => ['exports', 'list', offset] as const,
  publicKey: ['exports', 'public-key'] as const,
};

export const exportsApi = {
  list: (offset: number, limit: number, signal?: AbortSignal) =>
    api.get<ExportList>(`${V1}/exports`, { offset, limit }, signal),
  create: (body: ExportCreate) => api.post<ExportJob>(`${V1}/exports`, body),
  remove: (id: number) => api.delete(`${V1}/exports/${id}`),
  publicKey: (signal?: AbortSignal) => api.get<PublicKey>(`${V1}/exports/public-key`, {}, signal),
  /** The bundle as a Blob (the request carries the bearer token, so no plain link). */
  async download(id: number): Promise<Blob> {
    const resp = await api.fetchAuthed('GET', `${V1}/exports/${id}/download`);
    if (!resp.ok) throw await errorFromResponse(resp);
    return resp.blob();
  },
  async verifyOnServer(file: Blob): Promise<ServerVerify> {
    const form = new FormData();
    form.append('bundle', file, 'bundle.zip');
    const resp = await api.fetchAuthed('POST', `${V1}/exports/verify`, { body: form });
    if (!resp.ok) throw await errorFromResponse(resp);
    return resp.json() as Promise<ServerVerify>;
  },
};

/** `1a2b3c4d…` in groups of four, for reading aloud over the phone. */
export function groupFingerprint(fp: string): string {
  return fp.match(/.{1,4}/g)?.join(' ') ?? fp;
}
