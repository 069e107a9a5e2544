/**
 * Preview stills while hovering or scrubbing a timeline: `GET /vod/{camera}/still?at=`
 * (streaming-service; the keyframe still nearest the instant). Requests wait until the
 * pointer rests for `STILL_DELAY_MS`, are keyed to `STILL_STEP_MS` so moving within one
 * step reuses the answer, and a newer instant aborts the older request. Answers (and
 * "no still here") are kept per camera and step, at most `STILL_CACHE` of them.
 */

import { useEffect, useState } from 'react';
import { api } from '../api/client';

export const STILL_DELAY_MS = 120;
export const STILL_STEP_MS = 5_000;
export const STILL_CACHE = 200;
const RECENT_MS = 180_000;

const cache = new Map<string, string | null>();

function remember(key: string, url: string | null) {
  cache.set(key, url);
  while (cache.size > STILL_CACHE) {
    const oldest = cache.keys().next().value as string;
    const gone = cache.get(oldest);
    if (gone) URL.revokeObjectURL(gone);
    cache.delete(oldest);
  }
}

/** The still's object URL, or null when there is none (or the request failed). */
export async function fetchStill(cameraId: number, at: number,
  signal?: AbortSignal): Promise<string | null> {
  const resp = await api.fetchAuthed('GET', `/vod/${cameraId}/still`, {
    query: { at: new Date(at).toISOString() }, ...(signal ? { signal } : {}),
  });
  if (!resp.ok) return null;
  return URL.createObjectURL(await resp.blob());
}

/** The still to show for `at` (null while none is known), or undefined without `at`. */
export function useStill(cameraId: number | undefined, at: number | null): string | null {
  const step = at === null ? null : Math.round(at / STILL_STEP_MS) * STILL_STEP_MS;
  const key = cameraId === undefined || step === null ? null : `${cameraId}:${step}`;
  const [shown, setShown] = useState<{ key: string; url: string | null } | null>(null);
  useEffect(() => {
    if (key === null || cameraId === undefined || step === null) return undefined;
    if (cache.has(key)) {
      setShown({ key, url: cache.get(key) ?? null });
      return undefined;
    }
    const abort = new AbortController();
    const timer = setTimeout(() => {
      fetchStill(cameraId, step, abort.signal).then((url) => {
        // "None here" near now is not kept: the open segment gets its stills when it closes.
        if (url !== null || step < Date.now() - RECENT_MS) remember(key, url);
        if (!abort.signal.aborted) setShown({ key, url });
      }).catch(() => { /* aborted or unreachable: no preview */ });
    }, STILL_DELAY_MS);
    return () => { clearTimeout(timer); abort.abort(); };
  }, [key, cameraId, step]);
  if (key === null) return null;
  // The previous still stays up until the next one is known (no flicker while moving).
  return shown?.url ?? null;
}
