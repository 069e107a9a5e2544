/**
 * The cameras the user may see, from the query cache: every page of the list (api/paging.ts),
 * reloaded every 30 s, patched at once by camera.offline/online frames (socket/querySync.ts)
 * and reloaded when the socket reconnects.
 */

import { useQuery, type QueryClient } from '@tanstack/react-query';
import { useCallback, useMemo } from 'react';
import { keys } from '../api/queryClient';
import { cameras as camerasApi } from '../api/resources';
import type { Camera } from '../api/types';

export interface CamerasValue {
  cameras: Camera[];
  loading: boolean;
  error: unknown;
  byId(id: number): Camera | undefined;
  nameOf(id: number): string;
  reload(): void;
}

const REFRESH_MS = 30_000;
const NONE: Camera[] = [];

export function useCameras(): CamerasValue {
  const q = useQuery({
    queryKey: keys.cameras,
    queryFn: ({ signal }) => camerasApi.list(signal),
    refetchInterval: REFRESH_MS,
  });
  const { refetch } = q;
  const reload = useCallback(() => void refetch(), [refetch]);
  const cameras = q.data ?? NONE;
  return useMemo<CamerasValue>(() => {
    const map = new Map(cameras.map((c) => [c.id, c]));
    return {
      cameras, loading: q.isPending, error: q.error, reload,
      byId: (id) => map.get(id),
      nameOf: (id) => map.get(id)?.name ?? `#${id}`,
    };
  }, [cameras, q.isPending, q.error, reload]);
}

/** A camera's badge changed (live frame): shown at once, before the next reload. */
export function patchCameraStatus(qc: QueryClient, id: number, status: string): void {
  qc.setQueryData<Camera[]>(keys.cameras, (list) =>
    list?.map((c) => (c.id === id ? { ...c, status } : c)));
}
