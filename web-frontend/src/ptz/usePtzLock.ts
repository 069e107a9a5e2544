/** The PTZ lock of one camera: who holds it, until when; take, renew, release. */

import { useCallback, useEffect, useRef, useState } from 'react';
import { ptz } from '../api/ptz';
import { ApiError, errorMessage } from '../api/errors';
import type { PtzLock } from '../api/types';
import { useAlertFeed } from '../alerts/AlertsProvider';
import { useMe } from '../auth/session';

export interface LockState {
  lock: PtzLock | null;
  mine: boolean;
  error: string | null;
  /** Someone took control away from this user (name of the new holder). */
  takenBy: string | null;
  acquire(takeover?: boolean): Promise<boolean>;
  release(): Promise<void>;
  /** The lock as a command answered it (commands renew it). */
  update(lock: PtzLock | null): void;
  clearNotice(): void;
}

const POLL_MS = 10_000;

export function usePtzLock(cameraId: number): LockState {
  const me = useMe();
  const [lock, setLock] = useState<PtzLock | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [takenBy, setTakenBy] = useState<string | null>(null);
  const lockRef = useRef(lock);
  lockRef.current = lock;
  const mine = lock !== null && lock.holder_user_id === me.id;

  const refresh = useCallback(() => {
    ptz.lock(cameraId).then((l) => setLock(l ?? null), (err: unknown) => setError(errorMessage(err)));
  }, [cameraId]);

  useEffect(() => {
    refresh();
    const t = setInterval(refresh, POLL_MS);
    return () => clearInterval(t);
  }, [refresh]);

  // Live lock changes (acquired, released, expired, takeover) from /ws/alerts.
  useAlertFeed((m) => {
    if (m.type !== 'ptz' || m.lock.camera_id !== cameraId) return;
    const f = m.lock;
    const hadIt = lockRef.current?.holder_user_id === me.id;
    if (f.holder_user_id === null || f.reason === 'released' || f.reason === 'expired') {
      setLock(null);
    } else {
      setLock({ camera_id: cameraId, holder_user_id: f.holder_user_id,
        holder_username: f.holder_username ?? '?', priority: f.priority ?? 0,
        acquired_at: f.ts, expires_at: f.expires_at ?? f.ts,
        yours: f.holder_user_id === me.id });
    }
    if (hadIt && f.holder_user_id !== me.id && (f.reason === 'takeover' || f.reason === 'acquired')) {
      setTakenBy(f.holder_username ?? '?');
    }
  });

  // Keep the lock while this panel holds it: renew at half of the time left.
  useEffect(() => {
    if (!mine || !lock) return undefined;
    const left = new Date(lock.expires_at).getTime() - Date.now();
    const t = setTimeout(() => {
      ptz.acquire(cameraId).then(setLock, (err: unknown) => {
        setError(errorMessage(err));
        refresh();
      });
    }, Math.max(1000, left / 2));
    return () => clearTimeout(t);
  }, [mine, lock, cameraId, refresh]);

  const acquire = useCallback(async (takeover = false) => {
    setError(null);
    try {
      setLock(await ptz.acquire(cameraId, takeover));
      setTakenBy(null);
      return true;
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? err.detail : errorMessage(err));
      refresh();
      return false;
    }
  }, [cameraId, refresh]);

  const release = useCallback(async () => {
    setError(null);
    try {
      await ptz.release(cameraId);
      setLock(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [cameraId]);

  // Leaving the panel gives control back, so others need not wait for the expiry.
  useEffect(() => () => {
    if (lockRef.current?.holder_user_id === me.id) void ptz.release(cameraId).catch(() => undefined);
  }, [cameraId, me.id]);

  return { lock, mine, error, takenBy, acquire, release,
    update: (l) => { if (l) setLock(l); }, clearNotice: () => setTakenBy(null) };
}
