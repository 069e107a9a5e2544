/**
 * A query for one view, in the shape the pages use: data, error, loading, reload. Cached and
 * de-duplicated by key, cancelled (the signal reaches fetch) when the key changes or the view
 * leaves, and optionally polled; with `keepPrevious` a new filter keeps the old rows on
 * screen until its answer arrives.
 */

import { keepPreviousData, useQuery, type QueryKey } from '@tanstack/react-query';
import { useCallback } from 'react';

export interface ApiQuery<T> {
  data: T | null;
  error: unknown;
  loading: boolean;
  reload(): void;
}

interface Options {
  refetchInterval?: number;
  enabled?: boolean;
  keepPrevious?: boolean;
}

export function useApiQuery<T>(queryKey: QueryKey, load: (signal: AbortSignal) => Promise<T>,
  opts: Options = {}): ApiQuery<T> {
  const q = useQuery({
    queryKey,
    queryFn: ({ signal }) => load(signal),
    refetchInterval: opts.refetchInterval ?? false,
    enabled: opts.enabled ?? true,
    placeholderData: opts.keepPrevious ? keepPreviousData : undefined,
  });
  const { refetch } = q;
  const reload = useCallback(() => void refetch(), [refetch]);
  return { data: q.data ?? null, error: q.error, loading: q.isPending, reload };
}
