import { describe, expect, it, vi } from 'vitest';
import { AlertSocket, type SocketMessage } from '../src/alerts/alertSocket';

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
  const socket = new AlertSocket({
    url: 'ws://console.test/ws/alerts', token: async () => token, refresh,
    createSocket: (url, protocols) => {
      const s = new FakeSocket(url, protocols);
      sockets.push(s);
      return s as unknown as WebSocket;
    },
  });
  const messages: SocketMessage[] = [];
  socket.on((m) => messages.push(m));
  return { socket, sockets, messages, refresh };
}

const flush = () => new Promise((r) => setTimeout(r, 0));

describe('alert socket', () => {
  it('sends the token as the bearer subprotocol and answers pings', async () => {
    const { socket, sockets, messages } = setup();
    socket.start();
    await flush();
    expect(sockets[0]?.protocols).toEqual(['bearer', 't1']);
    sockets[0]?.receive({ type: 'ready', ping_interval_s: 30 });
    sockets[0]?.receive({ type: 'ping' });
    expect(sockets[0]?.sent).toEqual(['{"type":"pong"}']);
    expect(messages).toContainEqual({ type: 'ready' });
    socket.stop();
  });

  it('passes alerts and PTZ lock changes on', async () => {
    const { socket, sockets, messages } = setup();
    socket.start();
    await flush();
    sockets[0]?.receive({ type: 'alert.camera.offline', kind: 'camera.offline', camera_id: 2,
      state: 'open', severity: 'critical', title: 'Camera 2 offline' });
    sockets[0]?.receive({ type: 'ptz.lock', camera_id: 1, reason: 'takeover', holder_username: 'ann' });
    sockets[0]?.receive({ type: 'unknown.thing' });
    const kinds = messages.filter((m) => m.type === 'alert' || m.type === 'ptz').map((m) => m.type);
    expect(kinds).toEqual(['alert', 'ptz']);
    socket.stop();
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
      expect(messages).toContainEqual({ type: 'status', status: 'forbidden' });
    } finally {
      vi.useRealTimers();
    }
  });
});
