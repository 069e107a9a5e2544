import { describe, expect, it, vi } from 'vitest';
import { WhepClient, WhepError } from '../src/video/whep';

class FakePc {
  transceivers: unknown[] = [];
  localDescription: { type: string; sdp: string } | null = null;
  remote: { type: string; sdp: string } | null = null;
  iceGatheringState = 'new';
  connectionState = 'new';
  closed = false;
  ontrack: ((e: unknown) => void) | null = null;
  onconnectionstatechange: (() => void) | null = null;
  private listeners: Record<string, (() => void)[]> = {};
  addTransceiver(kind: string, init: unknown) {
    this.transceivers.push([kind, init]);
  }
  async createOffer() {
    return { type: 'offer', sdp: 'v=0 offer' };
  }
  async setLocalDescription(d: { type: string; sdp: string }) {
    this.localDescription = d;
    this.iceGatheringState = 'gathering';
    setTimeout(() => {
      this.iceGatheringState = 'complete';
      this.listeners.icegatheringstatechange?.forEach((f) => f());
    }, 5);
  }
  async setRemoteDescription(d: { type: string; sdp: string }) {
    this.remote = d;
  }
  addEventListener(name: string, f: () => void) {
    (this.listeners[name] ??= []).push(f);
  }
  removeEventListener(name: string, f: () => void) {
    this.listeners[name] = (this.listeners[name] ?? []).filter((x) => x !== f);
  }
  close() {
    this.closed = true;
  }
  async getStats() {
    return new Map([['x', { type: 'inbound-rtp', kind: 'video', framesDecoded: 42,
      framesPerSecond: 30 }]]);
  }
  setState(state: string) {
    this.connectionState = state;
    this.onconnectionstatechange?.();
  }
}

function setup(answer: () => Response) {
  const pc = new FakePc();
  const calls: { method: string; url: string; init: Record<string, unknown> }[] = [];
  const fetch = vi.fn(async (method: string, url: string, init: Record<string, unknown>) => {
    calls.push({ method, url, init });
    return method === 'DELETE' ? new Response(null, { status: 200 }) : answer();
  });
  const client = new WhepClient({
    createPeerConnection: () => pc as unknown as RTCPeerConnection, fetch, gatherTimeoutMs: 200,
  });
  return { pc, calls, client };
}

const created = () => new Response('v=0 answer', { status: 201,
  headers: { 'Content-Type': 'application/sdp', Location: '/whep/sessions/abc' } });

describe('WhepClient', () => {
  it('negotiates: recvonly video, complete offer posted as SDP, answer applied', async () => {
    const { pc, calls, client } = setup(created);
    const states: string[] = [];
    await client.connect('http://console.test/whep/3?stream=sub', () => undefined,
      (s) => states.push(s));
    expect(pc.transceivers).toEqual([['video', { direction: 'recvonly' }]]);
    expect(calls[0]).toMatchObject({ method: 'POST', url: 'http://console.test/whep/3?stream=sub' });
    expect(calls[0]?.init.body).toBe('v=0 offer');
    expect(calls[0]?.init.headers).toEqual({ 'Content-Type': 'application/sdp' });
    expect(pc.remote).toEqual({ type: 'answer', sdp: 'v=0 answer' });
    expect(client.sessionUrl).toBe('http://console.test/whep/sessions/abc');
    expect(client.phase).toBe('negotiating');
    pc.setState('connected');
    expect(client.phase).toBe('connected');
    expect(states).toEqual(['connected']);
  });

  it('waits for ICE gathering (bounded) before posting the offer', async () => {
    const { pc, client } = setup(created);
    await client.connect('http://x/whep/1', () => undefined, () => undefined);
    expect(pc.iceGatheringState).toBe('complete');
  });

  it('hands the remote stream to the caller', async () => {
    const { pc, client } = setup(created);
    const onTrack = vi.fn();
    await client.connect('http://x/whep/1', onTrack, () => undefined);
    const stream = { id: 's' };
    pc.ontrack?.({ streams: [stream], track: {} });
    expect(onTrack).toHaveBeenCalledWith(stream);
  });

  it('deletes the session and closes the connection on close, once', async () => {
    const { pc, calls, client } = setup(created);
    await client.connect('http://x/whep/1', () => undefined, () => undefined);
    await client.close();
    await client.close();
    expect(pc.closed).toBe(true);
    expect(calls.filter((c) => c.method === 'DELETE').map((c) => c.url))
      .toEqual(['http://x/whep/sessions/abc']);
    expect(client.phase).toBe('closed');
  });

  it.each([
    [404, '{"error":"NotFound","detail":"camera not found"}', 'fatal'],
    [429, '{"error":"TooManyRequests","detail":"too many viewers"}', 'fallback'],
    [502, '{"error":"BadGateway","detail":"stream has B-frames"}', 'fallback'],
    [502, '{"error":"BadGateway","detail":"camera unreachable"}', 'offline'],
    [503, 'oops', 'retry'],
  ] as const)('turns HTTP %i into a %s failure', async (status, body, kind) => {
    const { client } = setup(() => new Response(body, { status }));
    const err = await client.connect('http://x/whep/1', () => undefined, () => undefined)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WhepError);
    expect((err as WhepError).kind).toBe(kind);
    expect((err as WhepError).status).toBe(status);
  });

  it('turns a network error into a retry failure', async () => {
    const pc = new FakePc();
    const client = new WhepClient({ createPeerConnection: () => pc as unknown as RTCPeerConnection,
      fetch: async () => { throw new TypeError('Failed to fetch'); }, gatherTimeoutMs: 0 });
    const err = await client.connect('http://x/whep/1', () => undefined, () => undefined)
      .catch((e: unknown) => e);
    expect((err as WhepError).kind).toBe('retry');
  });

  it('closed while the answer is in flight: the session is deleted, nothing applied', async () => {
    let release: () => void = () => undefined;
    const pc = new FakePc();
    const calls: string[] = [];
    const client = new WhepClient({
      createPeerConnection: () => pc as unknown as RTCPeerConnection, gatherTimeoutMs: 0,
      fetch: async (method) => {
        calls.push(method);
        if (method === 'DELETE') return new Response(null, { status: 200 });
        await new Promise<void>((r) => { release = r; });
        return created();
      },
    });
    const pending = client.connect('http://x/whep/1', () => undefined, () => undefined);
    await new Promise((r) => setTimeout(r, 5));
    const closing = client.close();
    release();
    await expect(pending).rejects.toBeInstanceOf(WhepError);
    await closing;
    expect(pc.remote).toBeNull();
    expect(calls).toEqual(['POST', 'DELETE']);
  });

  it('connects only once', async () => {
    const { client } = setup(created);
    await client.connect('http://x/whep/1', () => undefined, () => undefined);
    await expect(client.connect('http://x/whep/1', () => undefined, () => undefined)).rejects
      .toThrow(/once/);
  });

  it('reads inbound video stats', async () => {
    const { client } = setup(created);
    await client.connect('http://x/whep/1', () => undefined, () => undefined);
    expect(await client.inboundVideo()).toEqual({ framesDecoded: 42, framesPerSecond: 30 });
  });
});
