/**
 * The one WHEP client (RFC 9725 egress) of the console: an RTCPeerConnection that receives
 * one video track, negotiated with a single POST of the complete offer (the server does not
 * take trickle ICE), ended with DELETE of the session resource.
 */

import { errorFromResponse } from '../api/errors';
import { classifyHttpFailure, type FailureKind } from './playerMachine';

export class WhepError extends Error {
  constructor(
    readonly kind: FailureKind,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = 'WhepError';
  }
}

/** What the client needs from its surroundings (injected, so tests need no browser). */
export interface WhepDeps {
  createPeerConnection: () => RTCPeerConnection;
  /** An authenticated fetch (the API client's, with refresh on 401). */
  fetch: (method: string, url: string, init: { body?: string; headers?: Record<string, string>;
    signal?: AbortSignal }) => Promise<Response>;
  /** Wait at most this long for host candidates before sending the offer. */
  gatherTimeoutMs?: number;
}

export type WhepPhase = 'new' | 'negotiating' | 'connected' | 'closed';

export class WhepClient {
  private pc: RTCPeerConnection | null = null;
  private resource: string | null = null;
  private phaseValue: WhepPhase = 'new';
  private readonly abort = new AbortController();

  constructor(private readonly deps: WhepDeps) {}

  get phase(): WhepPhase {
    return this.phaseValue;
  }

  /** Session URL from the Location header (null until answered). */
  get sessionUrl(): string | null {
    return this.resource;
  }

  /**
   * Negotiate with the WHEP endpoint `url`. Resolves once the answer is applied; `onTrack`
   * gets the remote stream and `onConnection` every change of the connection state.
   * Throws WhepError with the failure kind the player machine understands.
   */
  async connect(
    url: string,
    onTrack: (stream: MediaStream) => void,
    onConnection: (state: RTCPeerConnectionState) => void,
  ): Promise<void> {
    if (this.phaseValue !== 'new') throw new Error('a WhepClient connects once');
    this.phaseValue = 'negotiating';
    const pc = this.deps.createPeerConnection();
    this.pc = pc;
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.ontrack = (e) => onTrack(e.streams[0] ?? new MediaStream([e.track]));
    pc.onconnectionstatechange = () => {
      if (this.phaseValue === 'closed') return;
      if (pc.connectionState === 'connected') this.phaseValue = 'connected';
      onConnection(pc.connectionState);
    };
    await pc.setLocalDescription(await pc.createOffer());
    await this.gathered(pc);
    if (this.closed()) throw new WhepError('retry', 'closed');
    let resp: Response;
    try {
      resp = await this.deps.fetch('POST', url, {
        body: pc.localDescription?.sdp ?? '',
        headers: { 'Content-Type': 'application/sdp' },
        signal: this.abort.signal,
      });
    } catch (err) {
      throw new WhepError('retry', err instanceof Error ? err.message : String(err));
    }
    if (resp.status !== 201) {
      const err = await errorFromResponse(resp);
      throw new WhepError(classifyHttpFailure(resp.status, err.detail),
        err.detail || `${resp.status}`, resp.status);
    }
    const location = resp.headers.get('Location');
    if (location) this.resource = new URL(location, absoluteBase(url)).toString();
    const answer = await resp.text();
    if (this.closed()) {
      await this.deleteResource();
      throw new WhepError('retry', 'closed');
    }
    await pc.setRemoteDescription({ type: 'answer', sdp: answer });
  }

  /** The receiver's inbound video stats, for stall detection and benchmarks. */
  async inboundVideo(): Promise<{ framesDecoded: number; framesPerSecond: number } | null> {
    if (!this.pc) return null;
    const stats = await this.pc.getStats();
    let out: { framesDecoded: number; framesPerSecond: number } | null = null;
    stats.forEach((r: Record<string, unknown>) => {
      if (r.type === 'inbound-rtp' && r.kind === 'video') {
        out = { framesDecoded: Number(r.framesDecoded ?? 0),
          framesPerSecond: Number(r.framesPerSecond ?? 0) };
      }
    });
    return out;
  }

  /** End the session: DELETE the resource (best effort) and close the connection. */
  async close(): Promise<void> {
    if (this.phaseValue === 'closed') return;
    this.phaseValue = 'closed';
    this.abort.abort();
    // DELETE before closing the connection: a closed connection ends the session on the
    // server first, and the DELETE would then find nothing (a 404 in the console).
    const pc = this.pc;
    const timer = setTimeout(() => pc?.close(), 1000);
    await this.deleteResource();
    clearTimeout(timer);
    pc?.close();
  }

  /** A method, not a field read, so the compiler does not narrow across awaits. */
  private closed(): boolean {
    return this.phaseValue === 'closed';
  }

  private async deleteResource(): Promise<void> {
    const resource = this.resource;
    this.resource = null;
    if (!resource) return;
    try {
      await this.deps.fetch('DELETE', resource, {});
    } catch {
      // The server closes sessions that stop receiving ICE by itself.
    }
  }

  private gathered(pc: RTCPeerConnection): Promise<void> {
    const timeout = this.deps.gatherTimeoutMs ?? 400;
    if (pc.iceGatheringState === 'complete' || timeout <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        pc.removeEventListener('icegatheringstatechange', check);
        resolve();
      };
      const check = () => {
        if (pc.iceGatheringState === 'complete') done();
      };
      const timer = setTimeout(done, timeout);
      pc.addEventListener('icegatheringstatechange', check);
    });
  }
}

function absoluteBase(url: string): string {
  if (/^https?:/.test(url)) return url;
  return typeof location === 'undefined' ? 'http://localhost/' : location.href;
}
