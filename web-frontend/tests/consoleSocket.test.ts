import { describe, expect, it, vi } from 'vitest';
import { ConsoleSocket } from '../src/socket/consoleSocket';
import { channelOf } from '../src/socket/messages';

class FakeSocket {
  sent: string[] = [];
  closed = false;
  onmessage: ((e: { data: unknown }) => void) | null = null;
  onclose: ((e: { code: number }) => void) | null = null;
  constructor(readonly url: string, readonly protocols: string[]) {}
  send(s: string) { this.sent.push(s); }
  close() { this.closed = true; }
  receive(frame: unknown) { this.onmessage?.({ data: JSON.stringify(frame) }); }
}

function setup() {
  const sockets: FakeSocket[] = [];
  let token = 't1';
  const refresh = vi.fn(async () => { token = 't2'; });
  const socket = new ConsoleSocket({
    url: 'ws://console.test/ws/alerts', token: async () => token, refresh,
    createSocket: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s as unknown as WebSocket;
    },
  });
  // Every channel into one list, in arrival order.
  const messages: { type: string; value: unknown }[] = [];
  for (const channel of ['ready', 'status', 'alert', 'ptz.lock', 'export', 'wall', 'object'] as const) {
    socket.on(channel, (value) => messages.push({ type: channel, value }));
  }
  return { socket, sockets, messages, refresh };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('console socket', () => {
  it('sends the token as the bearer subprotocol and answers pings', async () => {
    const { socket, sockets, messages } = setup();
    socket.start();
    await flush();
    expect(sockets[0]?.protocols).toEqual(['bearer', 't1']);
    sockets[0]?.receive({ type: 'ready', ping_interval_s: 30 });
    sockets[0]?.receive({ type: 'ping' });
    expect(sockets[0]?.sent).toEqual(['{"type":"pong"}']);
    expect(messages).toContainEqual({ type: 'ready', value: { type: 'ready', ping_interval_s: 30 } });
    expect(messages).toContainEqual({ type: 'status', value: 'open' });
    socket.stop();
  });

  it('hands each frame to the handlers of its channel only', async () => {
    const { socket, sockets, messages } = setup();
    socket.start();
    await flush();
    sockets[0]?.receive({ type: 'alert.camera.offline', kind: 'camera.offline', camera_id: 2,
      state: 'open', severity: 'critical', title: 'Camera 2 offline' });
    sockets[0]?.receive({ type: 'ptz.lock', camera_id: 1, reason: 'takeover', holder_username: 'ann' });
    sockets[0]?.receive({ type: 'export.done', export_id: 4 });
    sockets[0]?.receive({ type: 'wall.show_layout', wall_id: 1, layout_id: 2 });
    sockets[0]?.receive({ type: 'object.person', camera_id: 3, score: 0.9 });
    sockets[0]?.receive({ type: 'unknown.thing' });
    sockets[0]?.receive({ type: 'alertish' });
    const frames = messages.filter((m) => m.type !== 'status');
    expect(frames.map((m) => m.type)).toEqual(['alert', 'ptz.lock', 'export', 'wall', 'object']);
    expect(frames[1]?.value).toMatchObject({ camera_id: 1, reason: 'takeover' });
    socket.stop();
  });

  it('keeps delivering when one handler throws, and stops after unsubscribe', async () => {
    const { socket, sockets } = setup();
    const seen: string[] = [];
    const err = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    socket.on('alert', () => { throw new Error('page bug'); });
    const off = socket.on('alert', (a) => seen.push(a.kind));
    socket.start();
    await flush();
    sockets[0]?.receive({ type: 'alert.motion', kind: 'motion', state: 'open' });
    off();
    sockets[0]?.receive({ type: 'alert.motion', kind: 'motion2', state: 'open' });
    expect(seen).toEqual(['motion']);
    expect(err).toHaveBeenCalled();
    err.mockRestore();
    socket.stop();
  });

  it('maps frame types to channels', () => {
    expect(channelOf('alert.camera.offline')).toBe('alert');
    expect(channelOf('ptz.lock')).toBe('ptz.lock');
    expect(channelOf('ptz.other')).toBeNull();
    expect(channelOf('status.x')).toBeNull();
    expect(channelOf('ready')).toBe('ready');
    expect(channelOf('')).toBeNull();
  });

  it('refreshes the token and reconnects when the server says 4401', async () => {
    vi.useFakeTimers();
    try {
      const { socket, sockets, refresh } = setup();
      socket.start();
      await vi.advanceTimersByTimeAsync(0);
      sockets[0]?.onclose?.({ code: 4401 });
      await vi.advanceTimersByTimeAsync(10);
      expect(refresh).toHaveBeenCalledOnce();
      expect(sockets[1]?.protocols).toEqual(['bearer', 't2']);
      socket.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it('backs off after other closes, and gives up on 4403', async () => {
    vi.useFakeTimers();
    try {
      const { socket, sockets, messages } = setup();
      socket.start();
      await vi.advanceTimersByTimeAsync(0);
      sockets[0]?.onclose?.({ code: 1006 });
      await vi.advanceTimersByTimeAsync(500);
      expect(sockets).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(600);
      expect(sockets).toHaveLength(2);
      sockets[1]?.onclose?.({ code: 4403 });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(sockets).toHaveLength(2);
      expect(messages).toContainEqual({ type: 'status', value: 'forbidden' });
    } finally {
      vi.useRealTimers();
    }
  });
});
