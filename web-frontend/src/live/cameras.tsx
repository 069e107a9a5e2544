/** The cameras the user may see, kept fresh: reloaded periodically and on live status alerts. */

import { createContext, useCallback, useContext, useEffect, useMemo, useState,
  type ReactNode } from 'react';
import { cameras as camerasApi } from '../api/resources';
import type { Camera } from '../api/types';
import { useAlertFeed } from '../alerts/AlertsProvider';

interface CamerasValue {
  cameras: Camera[];
  loading: boolean;
  error: unknown;
  byId(id: number): Camera | undefined;
  nameOf(id: number): string;
  reload(): void;
}

const CamerasContext = createContext<CamerasValue | null>(null);
const REFRESH_MS = 30_000;

export function CamerasProvider({ children }: { children: ReactNode }) {
  const [cameras, setCameras] = useState<Camera[]>([]);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<unknown>(null);

  const reload = useCallback(() => {
    camerasApi.list().then((list) => {
      setCameras(list);
      setError(null);
      setLoading(false);
    }, (err: unknown) => {
      setError(err);
      setLoading(false);
    });
  }, []);

  useEffect(() => {
    reload();
    const t = setInterval(reload, REFRESH_MS);
    return () => clearInterval(t);
  }, [reload]);

  // camera.offline / camera.online change the badge at once, before the next reload.
  useAlertFeed((m) => {
    if (m.type === 'ready') reload();
    if (m.type !== 'alert' || m.alert.camera_id === null || m.alert.state !== 'open') return;
    const status = m.alert.kind === 'camera.offline' ? 'offline'
      : m.alert.kind === 'camera.online' ? 'online' : null;
    if (!status) return;
    const id = m.alert.camera_id;
    setCameras((list) => list.map((c) => (c.id === id ? { ...c, status } : c)));
  });

  const value = useMemo<CamerasValue>(() => {
    const map = new Map(cameras.map((c) => [c.id, c]));
    return {
      cameras, loading, error, reload,
      byId: (id) => map.get(id),
      nameOf: (id) => map.get(id)?.name ?? `#${id}`,
    };
  }, [cameras, loading, error, reload]);

  return <CamerasContext.Provider value={value}>{children}</CamerasContext.Provider>;
}

export function useCameras(): CamerasValue {
  const value = useContext(CamerasContext);
  if (!value) throw new Error('useCameras outside CamerasProvider');
  return value;
}
