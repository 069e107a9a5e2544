/**
 * The console's one WebSocket (`WS /ws/alerts`): token in the subprotocol (`bearer, <token>`),
 * answers every ping with a pong, reconnects with backoff, gets a fresh token when the server
 * closes with 4401, and hands each frame to the handlers of its channel (messages.ts).
 */

import { channelOf, type Channel, type SocketChannels } from './messages';

export interface ConsoleSocketDeps {
  url: string;
  token: () => Promise<string>;
  refresh: () => Promise<void>;
  createSocket?: (url: string, protocols: string[]) => WebSocket;
}

type Handler<C extends Channel> = (value: SocketChannels[C]) => void;

const BACKOFF = [1000, 2000, 5000, 10000, 30000];

export function socketUrl(path = '/ws/alerts'): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

export class ConsoleSocket {
  private ws: WebSocket | null = null;
  private attempt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private stopped = true;
  private readonly handlers = new Map<Channel, Set<(value: never) => void>>();

  constructor(private readonly deps: ConsoleSocketDeps) {}

  /** Call `handler` for every frame of `channel`; returns the unsubscribe function. */
  on<C extends Channel>(channel: C, handler: Handler<C>): () => void {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
    }
    const entry = handler as (value: never) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
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

  private emit<C extends Channel>(channel: C, value: SocketChannels[C]): void {
    for (const h of [...(this.handlers.get(channel) ?? [])]) {
      try {
        (h as Handler<C>)(value);
      } catch (err) {
        // One failing page must not keep the frame from the others.
        console.error('console socket: handler failed', channel, err);
      }
    }
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    this.emit('status', 'connecting');
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
      this.emit('status', 'closed');
      if (ev.code === 4403) {
        this.emit('status', 'forbidden');
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
      return;
    }
    const channel = channelOf(type);
    if (channel === null) return;
    if (channel === 'ready') {
      this.attempt = 0;
      this.emit('status', 'open');
    }
    // The server is the source of these shapes (messages.ts); fields are read defensively.
    this.emit(channel, frame as never);
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
