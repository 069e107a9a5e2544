/**
 * A wall monitor's display credential and the display tokens traded for it.
 *
 * The credential arrives in the URL's fragment (`/wall/1/2#key=…`: never sent to a server,
 * never in a log) and is kept in localStorage for this wall and monitor, so the kiosk
 * browser finds it again after a reload or a restart without the fragment. This is the
 * one secret the console writes to storage: it opens nothing but this monitor's feed.
 */

import { ApiError } from '../api/errors';
import { displayToken } from './api';

const storageKey = (wall: number, monitor: number) => `argus.wall.${wall}.${monitor}`;

/** The credential from the fragment (remembered, and removed from the address bar) or
 * the remembered one. */
export function takeDisplayKey(wall: number, monitor: number): string | null {
  const hash = new URLSearchParams(window.location.hash.replace(/^#/, ''));
  const given = hash.get('key');
  if (given) {
    try {
      localStorage.setItem(storageKey(wall, monitor), given);
    } catch {
      // No storage (private mode): the fragment stays the way to reload.
      return given;
    }
    window.history.replaceState(null, '', window.location.pathname);
    return given;
  }
  try {
    return localStorage.getItem(storageKey(wall, monitor));
  } catch {
    return null;
  }
}

export function rememberDisplayKey(wall: number, monitor: number, key: string): void {
  try {
    localStorage.setItem(storageKey(wall, monitor), key);
  } catch {
    // Kept in memory for this page only.
  }
}

export function forgetDisplayKey(wall: number, monitor: number): void {
  try {
    localStorage.removeItem(storageKey(wall, monitor));
  } catch {
    // Nothing stored.
  }
}

/** Display tokens for one credential: reused until a minute before expiry, renewed on
 * demand; `onRefused` hears when the credential itself is refused (revoked, replaced). */
export function displayTokens(wall: number, monitor: number, key: string,
  onRefused: () => void): (renew: boolean) => Promise<string> {
  let token: string | null = null;
  let expires = 0;
  let pending: Promise<string> | null = null;
  return (renew) => {
    if (!renew && token && expires - Date.now() > 60_000) return Promise.resolve(token);
    pending ??= displayToken(wall, monitor, key).then((t) => {
      token = t.access_token;
      expires = Date.now() + t.expires_in * 1000;
      return token;
    }).catch((err: unknown) => {
      if (err instanceof ApiError && err.status === 401) onRefused();
      throw err;
    }).finally(() => {
      pending = null;
    });
    return pending;
  };
}
