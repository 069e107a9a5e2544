/**
 * The console's query layer: TanStack Query over the one ApiClient. Caching and
 * de-duplication (two components asking for the cameras make one request), polling
 * (`refetchInterval`), cancellation (each query function gets an AbortSignal, passed on to
 * fetch) and invalidation, by socket frames among others (socket/querySync.ts).
 */

import { QueryClient } from '@tanstack/react-query';
import { ApiError } from './errors';

/** Query keys: one prefix per resource, so invalidating a prefix reloads all its views. */
export const keys = {
  cameras: ['cameras'] as const,
  layouts: ['layouts'] as const,
  users: ['users'] as const,
  groups: ['camera-groups'] as const,
  roles: ['roles'] as const,
  rtmpKeys: ['rtmp-keys'] as const,
  alerts: ['alerts'] as const,
  alertSummary: ['alerts', 'summary'] as const,
  alertList: (q: object) => ['alerts', 'list', q] as const,
  events: (q: object) => ['events', q] as const,
  audit: (q: object) => ['audit', q] as const,
  ptzLock: (cameraId: number) => ['ptz-lock', cameraId] as const,
  ptzPresets: (cameraId: number) => ['ptz-presets', cameraId] as const,
  timeline: (cameraId: number, start: number, end: number) =>
    ['timeline', cameraId, start, end] as const,
};

/** Client errors (4xx) are answers, not accidents: retrying them cannot help. */
function shouldRetry(failures: number, err: unknown): boolean {
  if (err instanceof ApiError && err.status < 500 && err.status !== 429) return false;
  return failures < 2;
}

export function createQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        retry: shouldRetry,
        staleTime: 5_000,
        // Operators switch windows all day; polling and socket frames keep data fresh.
        refetchOnWindowFocus: false,
      },
      mutations: { retry: false },
    },
  });
}
