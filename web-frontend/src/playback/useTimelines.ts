/** Timelines of several cameras over one window, reloaded while the window includes now. */

import { useQueries, type UseQueryResult } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { keys } from '../api/queryClient';
import { cameras as camerasApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import { resolutionFor, toGaps, toSpans, type Gap, type Span,
  type TimeWindow } from './timelineLayout';

export interface CameraTimeline {
  recordings: Span[];
  events: Span[];
  /** Summary windows (over a day) only: gaps with their causes. */
  gaps: Gap[];
  /** Stretches restored from the camera's own storage after an outage. */
  backfilled: Span[];
  /** What the recorder is still writing (the open segment), up to its last fragment. */
  growing: Span[];
  error: string | null;
}

export const LIVE_REFRESH_MS = 15_000;
/** Windows up to an hour that include now are reloaded this often, so their end (the
 * recorder's last fragment) stays within a couple of seconds of live. */
export const LIVE_EDGE_REFRESH_MS = 2_000;
export const LIVE_EDGE_SPAN_MS = 3_600_000;

async function load(id: number, start: number, end: number,
  signal: AbortSignal): Promise<Omit<CameraTimeline, 'error'>> {
  const resolution = resolutionFor({ start, end });
  const tl = await camerasApi.timeline(id, new Date(start), new Date(end), signal, resolution);
  return { recordings: toSpans(tl.recordings),
    events: toSpans(tl.events.map((e) => ({ start: e.start, end: e.end, id: e.id }))),
    gaps: toGaps(tl.gaps ?? []), backfilled: toSpans(tl.backfilled ?? []),
    growing: toSpans(tl.growing ?? []) };
}

/**
 * One query per camera (cached: switching back to a window shows it at once; a new window
 * cancels the requests of the old one). A window that includes now is polled, since
 * recordings and events keep growing at its end.
 */
export function useTimelines(ids: number[], w: TimeWindow): Map<number, CameraTimeline> {
  const { start, end } = w;
  const now = Date.now();
  const live = start <= now && now <= end;
  const idsKey = ids.join(',');
  // Stable while the ids are the same, so the Map is rebuilt only when a result changes.
  const combine = useCallback((results: UseQueryResult<Omit<CameraTimeline, 'error'>>[]) => {
    const list = idsKey ? idsKey.split(',').map(Number) : [];
    return new Map(results.flatMap((r, i): [number, CameraTimeline][] => {
      const id = list[i];
      if (id === undefined || (r.data === undefined && r.error === null)) return [];
      return [[id, { recordings: r.data?.recordings ?? [], events: r.data?.events ?? [],
        gaps: r.data?.gaps ?? [], backfilled: r.data?.backfilled ?? [],
        growing: r.data?.growing ?? [], error: r.error ? errorMessage(r.error) : null }]];
    }));
  }, [idsKey]);
  const fresh = useQueries({
    queries: ids.map((id) => ({
      queryKey: keys.timeline(id, start, end),
      queryFn: ({ signal }: { signal: AbortSignal }) => load(id, start, end, signal),
      refetchInterval: !live ? false as const
        : end - start <= LIVE_EDGE_SPAN_MS ? LIVE_EDGE_REFRESH_MS : LIVE_REFRESH_MS,
      retry: false,
    })),
    combine,
  });
  // The previous window stays drawn until every camera of the new one has answered.
  const [shown, setShown] = useState(fresh);
  const complete = ids.every((id) => fresh.has(id));
  if (complete && fresh !== shown) setShown(fresh);
  return complete ? fresh : shown;
}
