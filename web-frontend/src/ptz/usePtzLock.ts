/** The PTZ lock of one camera: who holds it, until when; take, renew, release. */

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { ptz } from '../api/ptz';
import { keys } from '../api/queryClient';
import { ApiError, errorMessage } from '../api/errors';
import type { PtzLock } from '../api/types';
import { useMe } from '../auth/session';
import type { PtzLockFrame } from '../socket/messages';
import { useSocketMessage } from '../socket/SocketProvider';

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

/** Polled as a safety net: `ptz.lock` frames on the socket carry every change at once. */
const POLL_MS = 10_000;

/** The lock that a `ptz.lock` frame describes (null: nobody holds it). */
export function lockFromFrame(f: PtzLockFrame, myId: number): PtzLock | null {
  if (f.holder_user_id === null || f.reason === 'released' || f.reason === 'expired') return null;
  return { camera_id: f.camera_id, holder_user_id: f.holder_user_id,
    holder_username: f.holder_username ?? '?', priority: f.priority ?? 0,
    acquired_at: f.ts, expires_at: f.expires_at ?? f.ts, yours: f.holder_user_id === myId };
}

export function usePtzLock(cameraId: number): LockState {
  const me = useMe();
  const qc = useQueryClient();
  const key = keys.ptzLock(cameraId);
  const query = useQuery({
    queryKey: key,
    queryFn: async ({ signal }) => (await ptz.lock(cameraId, signal)) ?? null,
    refetchInterval: POLL_MS,
  });
  const lock = query.data ?? null;
  const [error, setError] = useState<string | null>(null);
  const [takenBy, setTakenBy] = useState<string | null>(null);
  const mine = lock !== null && lock.holder_user_id === me.id;

  // An answer to a command or a frame is newer than any poll still on its way: that poll is
  // cancelled first (and its revert settled), then the cache takes the new lock.
  const setLock = useCallback(async (l: PtzLock | null) => {
    await qc.cancelQueries({ queryKey: keys.ptzLock(cameraId) });
    qc.setQueryData<PtzLock | null>(keys.ptzLock(cameraId), l);
  }, [qc, cameraId]);
  const refresh = useCallback(() => {
    void qc.invalidateQueries({ queryKey: keys.ptzLock(cameraId) });
  }, [qc, cameraId]);
  const shownError = error ?? (query.error ? errorMessage(query.error) : null);

  // Live lock changes (acquired, released, expired, takeover) from the socket.
  useSocketMessage('ptz.lock', (f) => {
    if (f.camera_id !== cameraId) return;
    const hadIt = qc.getQueryData<PtzLock | null>(key)?.holder_user_id === me.id;
    void setLock(lockFromFrame(f, me.id));
    if (hadIt && f.holder_user_id !== me.id && (f.reason === 'takeover' || f.reason === 'acquired')) {
      setTakenBy(f.holder_username ?? '?');
    }
  });

  // Keep the lock while this panel holds it: renew at half of the time left.
  useEffect(() => {
    if (!mine || !lock) return undefined;
    const left = new Date(lock.expires_at).getTime() - Date.now();
    const t = setTimeout(() => {
      ptz.acquire(cameraId).then((l) => setLock(l), (err: unknown) => {
        setError(errorMessage(err));
        refresh();
      });
    }, Math.max(1000, left / 2));
    return () => clearTimeout(t);
  }, [mine, lock, cameraId, refresh, setLock]);

  const acquire = useCallback(async (takeover = false) => {
    setError(null);
    try {
      await setLock(await ptz.acquire(cameraId, takeover));
      setTakenBy(null);
      return true;
    } catch (err) {
      setError(err instanceof ApiError && err.status === 409 ? err.detail : errorMessage(err));
      refresh();
      return false;
    }
  }, [cameraId, refresh, setLock]);

  const release = useCallback(async () => {
    setError(null);
    try {
      await ptz.release(cameraId);
      await setLock(null);
    } catch (err) {
      setError(errorMessage(err));
    }
  }, [cameraId, setLock]);

  // Leaving the panel gives control back, so others need not wait for the expiry.
  const mineRef = useRef(mine);
  useEffect(() => {
    mineRef.current = mine;
  }, [mine]);
  useEffect(() => () => {
    if (mineRef.current) void ptz.release(cameraId).catch(() => undefined);
  }, [cameraId]);

  return { lock, mine, error: shownError, takenBy, acquire, release,
    update: (l) => { if (l) void setLock(l); }, clearNotice: () => setTakenBy(null) };
}
