/** The active holds on a page of events, looked up once for the whole page. */

import type { ReactNode } from 'react';
import { useSession } from '../auth/session';
import { useApiQuery } from '../components/useApiQuery';
import { holdKeys, holdsApi, type Hold } from './api';

interface EventHoldsProps {
  events: { id: number }[];
  children(holdFor: (eventId: number) => Hold | null): ReactNode;
}

export function EventHolds({ events, children }: EventHoldsProps) {
  const { can } = useSession();
  const holds = useApiQuery(holdKeys.list({ kind: 'event', active: true }),
    (signal) => holdsApi.list({ active: true, kind: 'event', limit: 500 }, signal),
    { enabled: events.length > 0 && can('recordings:read') });
  const byEvent = new Map((holds.data?.items ?? []).map((h) => [h.event_id, h]));
  return <>{children((id) => byEvent.get(id) ?? null)}</>;
}
