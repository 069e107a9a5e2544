/** Live alerts for the whole console: the socket, toasts, the RTMP emergency banner. */

import { createContext, useCallback, useContext, useEffect, useMemo, useRef, useState,
  type ReactNode } from 'react';
import { api } from '../api/client';
import { alerts as alertsApi } from '../api/resources';
import type { Alert } from '../api/types';
import { useSession } from '../auth/session';
import { AlertSocket, socketUrl, type AlertFrame, type SocketMessage,
  type SocketStatus } from './alertSocket';
import { playAlarm, saveSoundPreference, soundPreference } from './sound';

export interface Toast {
  key: string;
  alert: AlertFrame;
}

/** An RTMP push (phone, body cam) still open: shown as a banner until handled. */
export interface Emergency {
  alertId: number | null;
  cameraId: number | null;
  title: string;
  detail: string;
  ts: string;
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
  subscribe(listener: (m: SocketMessage) => void): () => void;
}

const AlertsContext = createContext<AlertsValue | null>(null);
const TOAST_MS = { info: 6000, warning: 10000, critical: 20000 } as const;
const MAX_TOASTS = 5;

function fromAlert(a: Alert): Emergency {
  return { alertId: a.id, cameraId: a.camera_id, title: a.title, detail: a.detail,
    ts: a.created_at };
}

export function AlertsProvider({ children }: { children: ReactNode }) {
  const { can } = useSession();
  const enabled = can('events:read');
  const [status, setStatus] = useState<SocketStatus>('closed');
  const [toasts, setToasts] = useState<Toast[]>([]);
  const [emergencies, setEmergencies] = useState<Emergency[]>([]);
  const [openCount, setOpenCount] = useState(0);
  const [sound, setSoundState] = useState(soundPreference);
  const soundRef = useRef(sound);
  soundRef.current = sound;
  const socketRef = useRef<AlertSocket | null>(null);
  const pending = useRef(new Set<(m: SocketMessage) => void>());
  socketRef.current ??= new AlertSocket({
    url: socketUrl(), token: () => api.accessToken(), refresh: () => api.refresh(),
  });

  // REST is the truth for the count and the banner. Answers are applied in order: an older
  // answer arriving after a newer request (or after a live frame) is dropped.
  const seq = useRef(0);
  const dismissed = useRef(new Set<number>());
  const refreshCount = useCallback(() => {
    if (!enabled) return;
    const mine = ++seq.current;
    Promise.all([
      alertsApi.list({ state: 'open', limit: 1 }),
      alertsApi.list({ state: 'open', kind: 'rtmp.received', limit: 20 }),
    ]).then(([open, rtmp]) => {
      if (mine !== seq.current) return;
      setOpenCount(open.total);
      setEmergencies(rtmp.items.filter((a) => !dismissed.current.has(a.id)).map(fromAlert));
    }, () => undefined);
  }, [enabled]);

  // The count and the banner from REST at once; the socket's `ready` refreshes them again.
  useEffect(() => refreshCount(), [refreshCount]);

  const dismissToast = useCallback((key: string) => {
    setToasts((list) => list.filter((x) => x.key !== key));
  }, []);

  useEffect(() => {
    const socket = socketRef.current;
    if (!enabled || !socket) return undefined;
    const timers = new Set<ReturnType<typeof setTimeout>>();
    let settle: ReturnType<typeof setTimeout> | null = null;
    const off = socket.on((m) => {
      for (const l of [...pending.current]) l(m);
      if (m.type === 'status') setStatus(m.status);
      if (m.type === 'ready') refreshCount();
      if (m.type !== 'alert') return;
      // Shown at once from the frame, then confirmed from REST (a burst makes one request).
      seq.current += 1;
      if (settle) clearTimeout(settle);
      settle = setTimeout(refreshCount, 400);
      const a = m.alert;
      if (a.state !== 'open') {
        if (a.kind === 'rtmp.received') {
          setEmergencies((list) => list.filter((e) => e.alertId !== a.alert_id));
        }
        return;
      }
      setOpenCount((n) => n + 1);
      const key = `${a.id}-${a.alert_id ?? ''}`;
      setToasts((list) => [{ key, alert: a }, ...list].slice(0, MAX_TOASTS));
      const timer = setTimeout(() => {
        timers.delete(timer);
        dismissToast(key);
      }, TOAST_MS[a.severity] ?? 8000);
      timers.add(timer);
      if (a.kind === 'rtmp.received') {
        setEmergencies((list) => [{ alertId: a.alert_id, cameraId: a.camera_id,
          title: a.title, detail: a.detail, ts: a.ts }, ...list]);
        if (soundRef.current) playAlarm();
      }
    });
    socket.start();
    return () => {
      off();
      socket.stop();
      timers.forEach(clearTimeout);
      if (settle) clearTimeout(settle);
    };
  }, [enabled, refreshCount, dismissToast]);

  const value = useMemo<AlertsValue>(() => ({
    status, toasts, dismissToast, emergencies, openCount, refreshCount, sound,
    dismissEmergency: (e) => {
      if (e.alertId !== null) dismissed.current.add(e.alertId);
      setEmergencies((list) => list.filter((x) => x !== e));
    },
    setSound: (on) => {
      saveSoundPreference(on);
      setSoundState(on);
      if (on) playAlarm();
    },
    subscribe: (listener) => {
      pending.current.add(listener);
      return () => pending.current.delete(listener);
    },
  }), [status, toasts, dismissToast, emergencies, openCount, refreshCount, sound]);

  return <AlertsContext.Provider value={value}>{children}</AlertsContext.Provider>;
}

export function useAlerts(): AlertsValue {
  const value = useContext(AlertsContext);
  if (!value) throw new Error('useAlerts outside AlertsProvider');
  return value;
}

/** Run `listener` for every frame of the live feed while the component is mounted. */
export function useAlertFeed(listener: (m: SocketMessage) => void): void {
  const { subscribe } = useAlerts();
  const ref = useRef(listener);
  ref.current = listener;
  useEffect(() => subscribe((m) => ref.current(m)), [subscribe]);
}
