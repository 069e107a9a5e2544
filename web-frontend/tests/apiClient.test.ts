import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../src/api/client';
import { ApiError, NetworkError } from '../src/api/errors';

class MemoryStorage {
  data = new Map<string, string>();
  getItem(k: string) { return this.data.get(k) ?? null; }
  setItem(k: string, v: string) { this.data.set(k, v); }
  removeItem(k: string) { this.data.delete(k); }
}

const user = { id: 1, username: 'op', roles: ['operator'], permissions: ['cameras:read'] };
const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });
const tokens = (n: number, ttl = 900) => ({ access_token: `a${n}`, token_type: 'bearer',
  expires_in: ttl, refresh_token: `r${n}`, refresh_expires_in: 86400, user });

function setup(handler: (url: string, init: RequestInit) => Response | Promise<Response>) {
  let now = 1_000_000;
  const storage = new MemoryStorage();
  const fetch = vi.fn(async (url: RequestInfo | URL, init?: RequestInit) => handler(String(url), init ?? {}));
  const timers: { fn: () => void; ms: number }[] = [];
  const client = new ApiClient({ fetch: fetch as unknown as typeof globalThis.fetch, storage,
    now: () => now, setTimer: (fn, ms) => timers.push({ fn, ms }), clearTimer: () => undefined });
  return { client, fetch, storage, timers, advance: (ms: number) => { now += ms; } };
}

const auth = (init: RequestInit) => (init.headers as Record<string, string> | undefined)?.Authorization;

describe('login', () => {
  it('posts the OAuth2 form and keeps the refresh token in session storage only', async () => {
    const { client, fetch, storage } = setup(() => json(tokens(1)));
    expect(await client.login('op', 'secret-pass')).toEqual(user);
    const [url, init] = fetch.mock.calls[0] ?? [];
    expect(url).toBe('/api/v1/auth/login');
    expect(String(init?.body)).toContain('username=op');
    expect(storage.data.get('argus.refresh')).toBe('r1');
    expect([...storage.data.values()]).not.toContain('a1');
  });

  it('reports a wrong password as 401 and a lockout as 429 with Retry-After', async () => {
    const wrong = setup(() => json({ error: 'Unauthorized', detail: 'invalid username or password' }, 401));
    await expect(wrong.client.login('op', 'x')).rejects.toMatchObject({ status: 401 });
    const locked = setup(() => json({ error: 'TooManyRequests', detail: 'locked' }, 429,
      { 'Retry-After': '600' }));
    const err = await locked.client.login('op', 'x').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).retryAfter).toBe(600);
  });

  it('reports an unreachable server as a network error', async () => {
    const { client } = setup(() => { throw new TypeError('Failed to fetch'); });
    await expect(client.login('op', 'x')).rejects.toBeInstanceOf(NetworkError);
  });
});

describe('refresh', () => {
  it('refreshes once for many concurrent 401s (single flight) and retries each call', async () => {
    let refreshes = 0;
    const { client } = setup(async (url, init) => {
      if (url.endsWith('/auth/login')) return json(tokens(1));
      if (url.endsWith('/auth/refresh')) {
        refreshes += 1;
        await new Promise((r) => setTimeout(r, 10));
        return json(tokens(2));
      }
      return auth(init) === 'Bearer a2' ? json({ ok: true }) : json({ error: 'Unauthorized', detail: 'expired' }, 401);
    });
    await client.login('op', 'pw');
    const results = await Promise.all([1, 2, 3, 4, 5].map(() => client.get<{ ok: boolean }>('/api/v1/x')));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(refreshes).toBe(1);
  });

  it('refreshes before the access token expires', async () => {
    const { client, fetch, timers, advance } = setup((url) =>
      json(url.endsWith('/auth/login') ? tokens(1, 900) : url.endsWith('/auth/refresh') ? tokens(2) : {}));
    await client.login('op', 'pw');
    expect(timers.at(-1)?.ms).toBe(840_000);
    advance(840_000);
    timers.at(-1)?.fn();
    await new Promise((r) => setTimeout(r, 0));
    expect(fetch.mock.calls.some(([u]) => String(u).endsWith('/auth/refresh'))).toBe(true);
    expect(await client.accessToken()).toBe('a2');
  });

  it('refreshes on demand when the token is about to expire', async () => {
    const { client, advance } = setup((url) =>
      json(url.endsWith('/auth/login') ? tokens(1, 900) : tokens(2)));
    await client.login('op', 'pw');
    advance(899_000);
    expect(await client.accessToken()).toBe('a2');
  });

  it('ends the session when the refresh token is refused, and says so', async () => {
    const { client, storage } = setup((url) => (url.endsWith('/auth/login') ? json(tokens(1))
      : url.endsWith('/auth/refresh') ? json({ error: 'Unauthorized', detail: 'reused' }, 401)
        : json({ error: 'Unauthorized', detail: 'revoked' }, 401)));
    const events: string[] = [];
    client.subscribe((e) => events.push(e.type === 'logout' ? `logout:${e.reason}` : e.type));
    await client.login('op', 'pw');
    await expect(client.get('/api/v1/x')).rejects.toMatchObject({ status: 401 });
    expect(events).toEqual(['login', 'logout:expired']);
    expect(storage.data.has('argus.refresh')).toBe(false);
    expect(client.signedIn).toBe(false);
  });

  it('keeps the session when the refresh fails for a transient reason', async () => {
    const { client } = setup((url) => (url.endsWith('/auth/login') ? json(tokens(1))
      : json({ error: 'Unavailable', detail: 'redis down' }, 503)));
    await client.login('op', 'pw');
    await expect(client.refresh()).rejects.toMatchObject({ status: 503 });
    expect(client.signedIn).toBe(true);
  });

  it('restores the session of this tab from the stored refresh token', async () => {
    const { client, storage } = setup(() => json(tokens(7)));
    storage.setItem('argus.refresh', 'r6');
    expect(await client.restore()).toEqual(user);
    expect(await client.accessToken()).toBe('a7');
  });

  it('has no session to restore without a stored token', async () => {
    const { client, fetch } = setup(() => json(tokens(1)));
    expect(await client.restore()).toBeNull();
    expect(fetch).not.toHaveBeenCalled();
  });
});

describe('requests', () => {
  it('sends JSON with the bearer token and parses the error envelope', async () => {
    const { client, fetch } = setup((url, init) => (url.endsWith('/auth/login') ? json(tokens(1))
      : init.method === 'POST' ? json({ error: 'Conflict', detail: 'held by bob' }, 409) : json({})));
    await client.login('op', 'pw');
    const err = await client.post('/api/v1/cameras/1/ptz/lock', {}).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409, error: 'Conflict', detail: 'held by bob' });
    const init = fetch.mock.calls.at(-1)?.[1];
    expect(auth(init ?? {})).toBe('Bearer a1');
    expect((init?.headers as Record<string, string>)['Content-Type']).toBe('application/json');
  });

  it('builds query strings without empty values', () => {
    const { client } = setup(() => json({}));
    expect(client.url('/api/v1/events', { camera_id: 3, type: null, start: '', limit: 50 }))
      .toBe('/api/v1/events?camera_id=3&limit=50');
  });

  it('logs out on the server and forgets the tokens', async () => {
    const { client, fetch, storage } = setup(() => json(tokens(1)));
    await client.login('op', 'pw');
    await client.logout();
    const [url, init] = fetch.mock.calls.at(-1) ?? [];
    expect(url).toBe('/api/v1/auth/logout');
    expect(String(init?.body)).toContain('r1');
    expect(storage.data.size).toBe(0);
  });
});
