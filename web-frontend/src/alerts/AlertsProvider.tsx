/** Live alerts for the whole console: toasts, the open count, the RTMP emergency banner. */

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState,
  type ReactNode } from 'react';
import { keys } from '../api/queryClient';
import { alerts as alertsApi } from '../api/resources';
import { useSession } from '../auth/session';
import type { AlertFrame, SocketStatus } from '../socket/messages';
import { useSocketMessage, useSocketStatus } from '../socket/SocketProvider';
import { applyFrame, EMPTY_SUMMARY, RTMP_KIND, summaryFromRest, visibleEmergencies,
  type AlertSummary, type Emergency } from './alertMerge';
import { playAlarm, saveSoundPreference, soundPreference } from './sound';

export type { Emergency } from './alertMerge';

export interface Toast {
  key: string;
  alert: AlertFrame;
}

interface AlertsValue {
  status: SocketStatus;
  toasts: Toast[];
  dismissToast(key: string): void;
  emergencies: Emergency[];
  dismissEmergency(e: Emergency): void;
  openCount: number;
  refreshCount(): void;
  sound: boolean;
  setSound(on: boolean): void;
}

const AlertsContext = createContext<AlertsValue | null>(null);
const TOAST_MS = { info: 6000, warning: 10000, critical: 20000 } as const;
const MAX_TOASTS = 5;

export function AlertsProvider({ children }: { children: ReactNode }) {
  const { can } = useSession();
  const enabled = can('events:read');
  const qc = useQueryClient();
  const status = useSocketStatus();
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [dismissed, setDismissed] = useState<ReadonlySet<number>>(new Set());
  const [sound, setSoundState] = useState(soundPreference);

  // REST is the truth for the count and the banner; socket/querySync reloads it after each
  // burst of frames and on reconnect.
  const summary = useQuery({
    queryKey: keys.alertSummary,
    enabled,
    queryFn: async ({ signal }): Promise<AlertSummary> => {
      const [open, rtmp] = await Promise.all([
        alertsApi.list({ state: 'open', limit: 1 }, signal),
        alertsApi.list({ state: 'open', kind: RTMP_KIND, limit: 20 }, signal),
      ]);
      return summaryFromRest(open, rtmp);
    },
  });

  const refreshCount = useCallback(() => {
    void qc.invalidateQueries({ queryKey: keys.alerts });
  }, [qc]);
  const dismissToast = useCallback((key: string) => {
    setToasts((list) => list.filter((x) => x.key !== key));
  }, []);

  const timers = useRef(new Set<ReturnType<typeof setTimeout>>());
  useEffect(() => {
    const pending = timers.current;
    return () => pending.forEach(clearTimeout);
  }, []);

  useSocketMessage('alert', (a) => {
    // Shown at once from the frame; an older REST answer still on its way must not undo it.
    void qc.cancelQueries({ queryKey: keys.alertSummary });
    qc.setQueryData<AlertSummary>(keys.alertSummary, (s) => applyFrame(s ?? EMPTY_SUMMARY, a));
    if (a.state !== 'open') return;
    const key = `${a.id}-${a.alert_id ?? ''}`;
    setToasts((list) => [{ key, alert: a }, ...list.filter((x) => x.key !== key)]
      .slice(0, MAX_TOASTS));
    const timer = setTimeout(() => {
      timers.current.delete(timer);
      dismissToast(key);
    }, TOAST_MS[a.severity] ?? 8000);
    timers.current.add(timer);
    if (a.kind === RTMP_KIND && sound) playAlarm();
  });

  const data = summary.data ?? EMPTY_SUMMARY;
  const value = useMemo<AlertsValue>(() => ({
    status, toasts, dismissToast, openCount: data.openCount, refreshCount, sound,
    emergencies: visibleEmergencies(data, dismissed),
    dismissEmergency: (e) => {
      if (e.alertId !== null) setDismissed((d) => new Set(d).add(e.alertId as number));
      else {
        qc.setQueryData<AlertSummary>(keys.alertSummary, (s) => s && {
          ...s, emergencies: s.emergencies.filter((x) => x !== e) });
      }
    },
    setSound: (on) => {
      saveSoundPreference(on);
      setSoundState(on);
      if (on) playAlarm();
    },
  }), [status, toasts, dismissToast, data, dismissed, refreshCount, sound, qc]);

  return <AlertsContext.Provider value={value}>{children}</AlertsContext.Provider>;
}

export function useAlerts(): AlertsValue {
  const value = useContext(AlertsContext);
  if (!value) throw new Error('useAlerts outside AlertsProvider');
  return value;
}
