/**
 * The one API client of the console: every call to management and streaming goes through it.
 *
 * It owns the tokens: it logs in (OAuth2 password form), refreshes the access token shortly
 * before it expires and again when a request gets a 401 (one refresh at a time: concurrent
 * callers share the same promise, since the server rotates refresh tokens and a reused one
 * would end the session), and logs out. Subscribers hear about login, refresh and logout.
 */

import { ApiError, NetworkError, errorFromResponse } from './errors';
import { TokenStore, defaultStorage, type StorageLike } from './tokens';

export interface UserSummary {
  id: number;
  username: string;
  roles: string[];
  permissions: string[];
}

interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token: string;
  refresh_expires_in: number;
  user: UserSummary;
}

export type SessionEvent =
  | { type: 'login'; user: UserSummary }
  | { type: 'refreshed' }
  | { type: 'logout'; reason: 'user' | 'expired' };

type QueryValue = string | number | boolean | null | undefined;

export interface RequestOptions {
  query?: Record<string, QueryValue>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (SDP, form data). */
  body?: BodyInit;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Send the bearer token (default true). */
  auth?: boolean;
}

export interface ClientOptions {
  baseUrl?: string;
  fetch?: typeof fetch;
  storage?: StorageLike | null;
  now?: () => number;
  /** Refresh this long before the access token expires. */
  refreshMarginMs?: number;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

const API = '/api/v1';

export class ApiClient {
  private readonly baseUrl: string;
  private readonly fetchImpl: typeof fetch;
  private readonly now: () => number;
  private readonly margin: number;
  private readonly setTimer: (fn: () => void, ms: number) => unknown;
  private readonly clearTimer: (handle: unknown) => void;
  private readonly tokens: TokenStore;
  private refreshing: Promise<void> | null = null;
  private timer: unknown = null;
  private readonly listeners = new Set<(e: SessionEvent) => void>();
  private tokenSource: ((renew: boolean) => Promise<string>) | null = null;

  constructor(opts: ClientOptions = {}) {
    this.baseUrl = opts.baseUrl ?? '';
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.now = opts.now ?? (() => Date.now());
    this.margin = opts.refreshMarginMs ?? 60_000;
    this.setTimer = opts.setTimer ?? ((fn, ms) => setTimeout(fn, ms));
    this.clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as ReturnType<typeof setTimeout>));
    this.tokens = new TokenStore(opts.storage === undefined ? defaultStorage() : opts.storage);
  }

  subscribe(listener: (e: SessionEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get signedIn(): boolean {
    return this.tokens.current !== null;
  }

  url(path: string, query?: Record<string, QueryValue>): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) {
      if (v !== undefined && v !== null && v !== '') params.set(k, String(v));
    }
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ''}`;
  }

  /** Log in with the OAuth2 password form; throws ApiError (401 wrong password, 429 lockout). */
  async login(username: string, password: string): Promise<UserSummary> {
    const form = new URLSearchParams({ username, password, grant_type: 'password' });
    const resp = await this.send(`${API}/auth/login`, {
      method: 'POST',
      body: form,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    if (!resp.ok) throw await errorFromResponse(resp);
    const body = (await resp.json()) as TokenResponse;
    this.accept(body);
    this.emit({ type: 'login', user: body.user });
    return body.user;
  }

  /** Resume the session of this tab from its stored refresh token; null when there is none. */
  async restore(): Promise<UserSummary | null> {
    if (this.tokens.storedRefreshToken() === null) return null;
    try {
      const user = await this.refreshWith();
      return user;
    } catch (err) {
      if (err instanceof ApiError) return null;
      throw err;
    }
  }

  /** End the session on the server (best effort) and forget the tokens. */
  async logout(): Promise<void> {
    const current = this.tokens.current;
    if (current) {
      try {
        await this.send(`${API}/auth/logout`, {
          method: 'POST',
          body: JSON.stringify({ refresh_token: current.refreshToken }),
          headers: {
            'Content-Type': 'application/json',
            Authorization: `Bearer ${current.accessToken}`,
          },
        });
      } catch {
        // The server forgets the session by itself when the tokens expire.
      }
    }
    this.endSession('user');
  }

  /**
   * A page without a user session (a wall monitor, `walls/WallMonitor.tsx`) supplies its
   * own access tokens: `renew` asks for a fresh one after a 401. null: back to the session.
   */
  setTokenSource(source: ((renew: boolean) => Promise<string>) | null): void {
    this.tokenSource = source;
  }

  /** A valid access token, refreshed first when it is about to expire. */
  async accessToken(): Promise<string> {
    if (this.tokenSource) return this.tokenSource(false);
    const current = this.tokens.current;
    if (current && current.accessExpiresAt - this.now() > this.margin / 4) {
      return current.accessToken;
    }
    await this.refresh();
    const next = this.tokens.current;
    if (!next) throw new ApiError(401, 'Unauthorized', 'not signed in');
    return next.accessToken;
  }

  /** Rotate the tokens; concurrent callers share one request. */
  refresh(): Promise<void> {
    if (!this.refreshing) {
      this.refreshing = this.refreshWith()
        .then(() => undefined)
        .finally(() => {
          this.refreshing = null;
        });
    }
    return this.refreshing;
  }

  /** A JSON API call; throws ApiError for any non-2xx answer. 204 gives undefined. */
  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const resp = await this.fetchAuthed(method, path, opts);
    if (!resp.ok) throw await errorFromResponse(resp);
    if (resp.status === 204) return undefined as T;
    const text = await resp.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  get<T>(path: string, query?: Record<string, QueryValue>, signal?: AbortSignal): Promise<T> {
    return this.request<T>('GET', path, signal ? { query, signal } : { query });
  }

  post<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>('POST', path, json === undefined ? {} : { json });
  }

  patch<T>(path: string, json: unknown): Promise<T> {
    return this.request<T>('PATCH', path, { json });
  }

  put<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>('PUT', path, json === undefined ? {} : { json });
  }

  delete<T = void>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  /**
   * A request with the bearer token, retried once after a refresh when it gets a 401.
   * The raw Response is returned whatever its status (WHEP, blobs, streaming APIs).
   */
  async fetchAuthed(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const auth = opts.auth ?? true;
    const build = (token: string | null): RequestInit => {
      const headers: Record<string, string> = { ...(opts.headers ?? {}) };
      let body = opts.body;
      if (opts.json !== undefined) {
        headers['Content-Type'] = 'application/json';
        body = JSON.stringify(opts.json);
      }
      if (token) headers.Authorization = `Bearer ${token}`;
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = body;
      if (opts.signal) init.signal = opts.signal;
      return init;
    };
    const url = path.startsWith('http') ? path : this.url(path, opts.query);
    if (!auth) return this.send(url, build(null));
    const token = await this.accessToken();
    const resp = await this.send(url, build(token));
    if (resp.status !== 401) return resp;
    if (this.tokenSource) return this.send(url, build(await this.tokenSource(true)));
    // The token may have been revoked or expired early: one refresh, one retry.
    const current = this.tokens.current;
    if (current && current.accessToken === token) {
      try {
        await this.refresh();
      } catch {
        return resp;
      }
    }
    const retryToken = this.tokens.current?.accessToken;
    if (!retryToken) return resp;
    return this.send(url, build(retryToken));
  }

  private async send(url: string, init: RequestInit): Promise<Response> {
    try {
      return await this.fetchImpl(url, init);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') throw err;
      throw new NetworkError(err instanceof Error ? err.message : String(err));
    }
  }

  private async refreshWith(): Promise<UserSummary> {
    const refreshToken = this.tokens.storedRefreshToken();
    if (refreshToken === null) {
      this.endSession('expired');
      throw new ApiError(401, 'Unauthorized', 'not signed in');
    }
    const resp = await this.send(`${API}/auth/refresh`, {
      method: 'POST',
      body: JSON.stringify({ refresh_token: refreshToken }),
      headers: { 'Content-Type': 'application/json' },
    });
    if (!resp.ok) {
      const err = await errorFromResponse(resp);
      // 5xx and 429 are transient: keep the session and let the caller try again later.
      if (resp.status < 500 && resp.status !== 429) this.endSession('expired');
      throw err;
    }
    const body = (await resp.json()) as TokenResponse;
    this.accept(body);
    this.emit({ type: 'refreshed' });
    return body.user;
  }

  private accept(body: TokenResponse): void {
    this.tokens.set({
      accessToken: body.access_token,
      accessExpiresAt: this.now() + body.expires_in * 1000,
      refreshToken: body.refresh_token,
    });
    this.schedule(body.expires_in * 1000);
  }

  private schedule(ttlMs: number): void {
    if (this.timer !== null) this.clearTimer(this.timer);
    // Before expiry, never sooner than half the lifetime (short test TTLs) nor within 5 s.
    const delay = Math.max(5_000, ttlMs / 2, ttlMs - this.margin);
    this.timer = this.setTimer(() => {
      this.timer = null;
      this.refresh().catch(() => undefined);
    }, delay);
  }

  private endSession(reason: 'user' | 'expired'): void {
    const had = this.tokens.current !== null || this.tokens.storedRefreshToken() !== null;
    if (this.timer !== null) this.clearTimer(this.timer);
    this.timer = null;
    this.tokens.clear();
    if (had) this.emit({ type: 'logout', reason });
  }

  private emit(event: SessionEvent): void {
    for (const l of [...this.listeners]) l(event);
  }
}

/** The console's single client instance. */
export const api = new ApiClient();
