/**
 * A fake of management's HTTP API for tests: login, paged lists with the server's page cap
 * (422 "limit must be at most N" above it, like `argus_management.pagination`), and any
 * extra routes a test adds. It records every request.
 */

import type { Camera } from '../../src/api/types';

export interface FakeRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  body: unknown;
  signal: AbortSignal | null;
}

export type Route = (req: FakeRequest) => Response | undefined | Promise<Response | undefined>;

export const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });

const user = { id: 1, username: 'op', roles: ['admin'], permissions: [] as string[] };

export function camera(id: number, extra: Partial<Camera> = {}): Camera {
  return {
    id, name: `Camera ${String(id).padStart(4, '0')}`, kind: 'rtsp',
    stream_url: `rtsp://127.0.0.1:8554/cam${id}`, sub_stream_url: null, username: null,
    has_password: false, onvif_host: null, onvif_port: null, has_ptz: false, enabled: true,
    recording_mode: 'continuous', retention_days: 7,
    analysis: { enabled: false, sensitivity: 0.5, min_area: 0.01, zones: [], masks: [],
      start_frames: 2, end_quiet_s: 5 },
    connect_timeout_s: 5, read_timeout_s: 10, status: 'online', last_seen: null,
    created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z', ...extra,
  };
}

export interface FakeManagement {
  fetch: typeof fetch;
  requests: FakeRequest[];
  /** Paged collections by path (`/api/v1/cameras` …). */
  lists: Map<string, unknown[]>;
  route(r: Route): void;
}

export function fakeManagement(opts: { maxPage?: number } = {}): FakeManagement {
  const maxPage = opts.maxPage ?? 500;
  const requests: FakeRequest[] = [];
  const lists = new Map<string, unknown[]>();
  const routes: Route[] = [];

  const handle = async (req: FakeRequest): Promise<Response> => {
    for (const r of routes) {
      const resp = await r(req);
      if (resp) return resp;
    }
    if (req.path === '/api/v1/auth/login' || req.path === '/api/v1/auth/refresh') {
      return json({ access_token: 'a1', token_type: 'bearer', expires_in: 900,
        refresh_token: 'r1', refresh_expires_in: 86400, user });
    }
    const list = lists.get(req.path);
    if (list && req.method === 'GET') {
      const limit = Number(req.query.get('limit') ?? 50);
      const offset = Number(req.query.get('offset') ?? 0);
      if (limit > maxPage) {
        return json({ error: 'Unprocessable', detail: `limit must be at most ${maxPage}` }, 422);
      }
      return json({ items: list.slice(offset, offset + limit), total: list.length, limit, offset });
    }
    return json({ error: 'NotFound', detail: `no route ${req.method} ${req.path}` }, 404);
  };

  const fetchImpl = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    if (init?.signal?.aborted) throw new DOMException('aborted', 'AbortError');
    const url = new URL(String(input), 'http://console.test');
    let body: unknown = init?.body;
    if (typeof body === 'string') {
      try { body = JSON.parse(body); } catch { /* a form or SDP: kept as text */ }
    }
    const req = { method: init?.method ?? 'GET', path: url.pathname, query: url.searchParams, body,
      signal: init?.signal ?? null };
    requests.push(req);
    return handle(req);
  };

  return { fetch: fetchImpl as typeof fetch, requests, lists, route: (r) => routes.push(r) };
}
