/** The signed-in user, their permissions, and the login/logout actions for the whole UI. */

import { createContext, useCallback, useContext, useEffect, useMemo, useState,
  type ReactNode } from 'react';
import { api } from '../api/client';
import { account } from '../api/resources';
import type { Me } from '../api/types';

export type Permission =
  | 'cameras:read' | 'cameras:write' | 'ptz:control' | 'recordings:read'
  | 'recordings:export' | 'recordings:trigger' | 'recordings:hold' | 'events:read'
  | 'events:ack' | 'layouts:write' | 'rtmp:keys' | 'users:manage' | 'audit:read'
  | 'analysis:read' | 'walls:view' | 'walls:control' | 'walls:manage';

export type SessionStatus = 'loading' | 'anonymous' | 'ready';

interface SessionValue {
  status: SessionStatus;
  me: Me | null;
  /** The last session ended by itself (refresh refused): tell the user why. */
  expired: boolean;
  can(permission: Permission): boolean;
  login(username: string, password: string): Promise<void>;
  logout(): Promise<void>;
}

const SessionContext = createContext<SessionValue | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [status, setStatus] = useState<SessionStatus>('loading');
  const [me, setMe] = useState<Me | null>(null);
  const [expired, setExpired] = useState(false);

  useEffect(() => {
    const off = api.subscribe((e) => {
      if (e.type === 'logout') {
        setMe(null);
        setStatus('anonymous');
        setExpired(e.reason === 'expired');
      }
    });
    let cancelled = false;
    (async () => {
      try {
        const user = await api.restore();
        const profile = user ? await account.me() : null;
        if (cancelled) return;
        setMe(profile);
        setStatus(profile ? 'ready' : 'anonymous');
      } catch {
        if (!cancelled) setStatus('anonymous');
      }
    })();
    return () => {
      cancelled = true;
      off();
    };
  }, []);

  const login = useCallback(async (username: string, password: string) => {
    await api.login(username, password);
    const profile = await account.me();
    setExpired(false);
    setMe(profile);
    setStatus('ready');
  }, []);

  const logout = useCallback(async () => {
    await api.logout();
    setExpired(false);
  }, []);

  const value = useMemo<SessionValue>(() => {
    const perms = new Set(me?.permissions ?? []);
    return { status, me, expired, can: (p) => perms.has(p), login, logout };
  }, [status, me, expired, login, logout]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in profile (only under a route that requires a session). */
export function useMe(): Me {
  const { me } = useSession();
  if (!me) throw new Error('not signed in');
  return me;
}
