// @vitest-environment jsdom
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiClient, api } from '../src/api/client';
import { contentCameras } from '../src/walls/api';
import { displayTokens, takeDisplayKey } from '../src/walls/displayKey';

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

afterEach(() => {
  vi.unstubAllGlobals();
  api.setTokenSource(null);
  localStorage.clear();
});

describe('a token source (wall monitors)', () => {
  it('supplies the bearer and a renewed one after a 401', async () => {
    const seen: string[] = [];
    const fetch = vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      const bearer = (init?.headers as Record<string, string>).Authorization ?? '';
      seen.push(bearer);
      return bearer === 'Bearer t2' ? json({ ok: true }) : json({ error: 'Unauthorized' }, 401);
    });
    const client = new ApiClient({ fetch: fetch as unknown as typeof globalThis.fetch,
      storage: null });
    let n = 0;
    client.setTokenSource(async (renew) => (renew ? `t${++n + 1}` : 't1'));
    expect(await client.get('/api/v1/wall-display/state')).toEqual({ ok: true });
    expect(seen).toEqual(['Bearer t1', 'Bearer t2']);
  });
});

describe('display tokens', () => {
  it('trade the key once, reuse the token, and report a refused key', async () => {
    const bodies: unknown[] = [];
    let refuse = false;
    vi.stubGlobal('fetch', vi.fn(async (_url: RequestInfo | URL, init?: RequestInit) => {
      bodies.push(JSON.parse(String(init?.body)));
      return refuse ? json({ error: 'Unauthorized', detail: 'invalid' }, 401)
        : json({ access_token: `d${bodies.length}`, token_type: 'bearer', expires_in: 900,
          wall_id: 1, monitor_id: 2 });
    }));
    const refused = vi.fn();
    const tokens = displayTokens(1, 2, 'wdk_secret', refused);
    expect(await tokens(false)).toBe('d1');
    expect(await tokens(false)).toBe('d1');
    expect(bodies).toEqual([{ wall_id: 1, monitor_id: 2, key: 'wdk_secret' }]);
    refuse = true;
    await expect(tokens(true)).rejects.toThrow();
    expect(refused).toHaveBeenCalledOnce();
  });

  it('take the key from the fragment, remember it and clear the address bar', () => {
    window.history.replaceState(null, '', '/wall/1/2#key=wdk_abc');
    expect(takeDisplayKey(1, 2)).toBe('wdk_abc');
    expect(window.location.hash).toBe('');
    expect(takeDisplayKey(1, 2)).toBe('wdk_abc');
    expect(takeDisplayKey(1, 3)).toBeNull();
  });
});

describe('contentCameras', () => {
  it('lists cells and tour cameras once', () => {
    expect(contentCameras({ grid: 4, cells: [3, null, 5, 3],
      tours: [{ cell: 1, cameras: [5, 7], dwell_s: 5 }],
      source: { kind: 'layout', id: 1, name: 'L' } })).toEqual([3, 5, 7]);
  });
});
