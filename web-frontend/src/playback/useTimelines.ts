/** Timelines of several cameras over one window, reloaded while the window includes now. */

import { useEffect, useState } from 'react';
import { cameras as camerasApi } from '../api/resources';
import { errorMessage } from '../api/errors';
import { toSpans, type Span, type TimeWindow } from './timelineLayout';

export interface CameraTimeline {
  recordings: Span[];
  events: Span[];
  error: string | null;
}

const LIVE_REFRESH_MS = 15_000;

export function useTimelines(ids: number[], w: TimeWindow): Map<number, CameraTimeline> {
  const [data, setData] = useState<Map<number, CameraTimeline>>(new Map());
  // The effect depends on the ids' values, not on the array a render happened to build.
  const idsKey = ids.join(',');
  const { start, end } = w;

  useEffect(() => {
    const idList = idsKey ? idsKey.split(',').map(Number) : [];
    let abort = new AbortController();
    const load = () => {
      abort.abort();
      abort = new AbortController();
      const signal = abort.signal;
      Promise.all(idList.map(async (id): Promise<[number, CameraTimeline]> => {
        try {
          const tl = await camerasApi.timeline(id, new Date(start), new Date(end), signal);
          return [id, { recordings: toSpans(tl.recordings), error: null,
            events: toSpans(tl.events.map((e) => ({ start: e.start, end: e.end, id: e.id }))) }];
        } catch (err) {
          return [id, { recordings: [], events: [], error: errorMessage(err) }];
        }
      })).then((entries) => {
        if (!signal.aborted) setData(new Map(entries));
      }, () => undefined);
    };
    load();
    const live = start <= Date.now() && Date.now() <= end;
    const timer = live ? setInterval(load, LIVE_REFRESH_MS) : null;
    return () => {
      abort.abort();
      if (timer) clearInterval(timer);
    };
  }, [idsKey, start, end]);

  return data;
}
