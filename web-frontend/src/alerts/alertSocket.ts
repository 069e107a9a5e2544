/**
 * The live alert feed (`WS /ws/alerts`): token in the subprotocol (`bearer, <token>`),
 * answers every ping with a pong, reconnects with backoff, and gets a fresh token when the
 * server closes with 4401.
 */

import type { Severity } from '../api/types';

export interface AlertFrame {
  type: string; // alert.<kind>
  id: string;
  camera_id: number | null;
  ts: string;
  alert_id: number | null;
  kind: string;
  severity: Severity;
  state: 'open' | 'acked' | 'resolved';
  title: string;
  detail: string;
  event_id: number | null;
  payload: Record<string, unknown>;
}

export interface PtzLockFrame {
  type: 'ptz.lock';
  camera_id: number;
  ts: string;
  holder_user_id: number | null;
  holder_username: string | null;
  priority: number | null;
  expires_at: string | null;
  previous_user_id: number | null;
  reason: 'acquired' | 'released' | 'expired' | 'takeover';
}

export type SocketMessage =
  | { type: 'ready' }
  | { type: 'alert'; alert: AlertFrame }
  | { type: 'ptz'; lock: PtzLockFrame }
  | { type: 'status'; status: SocketStatus };

export type SocketStatus = 'connecting' | 'open' | 'closed' | 'forbidden';

export interface AlertSocketDeps {
  url: string;
  token: () => Promise<string>;
  refresh: () => Promise<void>;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
}

const BACKOFF = [1000, 2000, 5000, 10000, 30000];

export function socketUrl(path = '/ws/alerts'): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

export class AlertSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private readonly listeners = new Set<(m: SocketMessage) => void>();

  constructor(private readonly deps: AlertSocketDeps) {}

  on(listener: (m: SocketMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    void this.connect();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const ws = this.ws;
    this.ws = null;
    ws?.close(1000, 'bye');
  }

  private emit(m: SocketMessage): void {
    for (const l of [...this.listeners]) l(m);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.emit({ type: 'status', status: 'connecting' });
    let token: string;
    try {
      token = await this.deps.token();
    } catch {
      this.retry();
      return;
    }
    if (this.stopped) return;
    const create = this.deps.createSocket ?? ((u, p) => new WebSocket(u, p));
    const ws = create(this.deps.url, ['bearer', token]);
    this.ws = ws;
    ws.onmessage = (ev) => this.handle(ws, ev.data);
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      if (this.stopped) return;
      this.emit({ type: 'status', status: 'closed' });
      if (ev.code === 4403) {
        this.emit({ type: 'status', status: 'forbidden' });
        this.stopped = true;
        return;
      }
      if (ev.code === 4401) {
        // Expired or revoked token: refresh, then reconnect at once.
        this.deps.refresh().then(() => this.retry(0), () => this.retry());
        return;
      }
      this.retry();
    };
  }

  private handle(ws: WebSocket, data: unknown): void {
    if (typeof data !== 'string') return;
    let frame: { type?: unknown } & Record<string, unknown>;
    try {
      frame = JSON.parse(data) as typeof frame;
    } catch {
      return;
    }
    const type = typeof frame.type === 'string' ? frame.type : '';
    if (type === 'ping') {
      ws.send('{"type":"pong"}');
    } else if (type === 'ready') {
      this.attempt = 0;
      this.emit({ type: 'status', status: 'open' });
      this.emit({ type: 'ready' });
    } else if (type === 'ptz.lock') {
      this.emit({ type: 'ptz', lock: frame as unknown as PtzLockFrame });
    } else if (type.startsWith('alert.')) {
      this.emit({ type: 'alert', alert: frame as unknown as AlertFrame });
    }
  }

  private retry(delay?: number): void {
    if (this.stopped) return;
    const wait = delay ?? BACKOFF[Math.min(this.attempt, BACKOFF.length - 1)] ?? 30000;
    this.attempt += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, wait);
  }
}
