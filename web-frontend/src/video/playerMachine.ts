/**
 * The state machine of one video player: WebRTC (WHEP) first, HLS when WebRTC cannot work,
 * reconnection with backoff, and the status an operator sees on the tile.
 *
 * Pure: the hook that drives a <video> (usePlayer) dispatches events and performs the
 * effects the state asks for (connect when `connecting`, wait `retryMs` when
 * `reconnecting`/`offline`).
 */

export type Transport = 'webrtc' | 'hls';
export type Phase =
  | 'idle'
  | 'connecting'
  | 'playing'
  | 'reconnecting'
  | 'offline'
  | 'failed'
  | 'ended'
  | 'stopped';

/**
 * Why a transport stopped:
 * - fatal: retrying cannot help (not found, not allowed);
 * - fallback: this transport cannot carry the stream (B-frames over WebRTC, too many viewers,
 *   no MSE for HLS): switch transport now;
 * - offline: the camera does not answer (502/504): wait and retry, same transport;
 * - retry: a failure that may pass (timeout, network, ICE never connected);
 * - lost: it was playing and stopped (stall, ICE failed);
 * - ended: a recording reached its end (playback only).
 */
export type FailureKind = 'fatal' | 'fallback' | 'offline' | 'retry' | 'lost' | 'ended';

export interface PlayerState {
  phase: Phase;
  transport: Transport;
  /** Consecutive failed attempts (drives the backoff). */
  attempt: number;
  webrtcFailures: number;
  hlsFailures: number;
  message: string | null;
  /** Wait this long, then dispatch `retry` (reconnecting and offline only). */
  retryMs: number | null;
  /** Counts entries into `connecting`: one transport run per value. */
  run: number;
  /** The source (its `sourceKey`) that the last `start` was for. */
  source: string;
}

export type PlayerEvent =
  | { type: 'start'; transport?: Transport; source?: string }
  | { type: 'playing' }
  | { type: 'failure'; kind: FailureKind; message?: string }
  | { type: 'retry' }
  | { type: 'stop' };

export const BACKOFF_MS = [1000, 2000, 5000, 10000] as const;
/** WebRTC failures in a row before HLS is tried. */
export const WEBRTC_FAILURES_BEFORE_HLS = 2;
/** HLS failures in a row before WebRTC is tried again. */
export const HLS_FAILURES_BEFORE_WEBRTC = 3;

export function backoff(attempt: number): number {
  return BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)] ?? 10000;
}

export const initialPlayerState: PlayerState = {
  phase: 'idle',
  transport: 'webrtc',
  attempt: 0,
  webrtcFailures: 0,
  hlsFailures: 0,
  message: null,
  retryMs: null,
  run: 0,
  source: '',
};

function wait(s: PlayerState, phase: 'reconnecting' | 'offline', message: string | null) {
  return { ...s, phase, message, retryMs: backoff(s.attempt), attempt: s.attempt + 1 };
}

function onFailure(s: PlayerState, kind: FailureKind, message: string | null): PlayerState {
  if (kind === 'fatal') return { ...s, phase: 'failed', message, retryMs: null };
  if (kind === 'ended') return { ...s, phase: 'ended', message, retryMs: null };
  if (s.transport === 'webrtc') {
    const failures = s.webrtcFailures + 1;
    const next = { ...s, webrtcFailures: failures };
    if (kind === 'fallback' || (kind !== 'offline' && failures >= WEBRTC_FAILURES_BEFORE_HLS)) {
      // Straight to HLS: no wait, the camera itself is fine.
      return { ...next, transport: 'hls', hlsFailures: 0, phase: 'connecting', message,
        retryMs: null, run: s.run + 1 };
    }
    return wait(next, kind === 'offline' ? 'offline' : 'reconnecting', message);
  }
  if (kind === 'fallback') return { ...s, phase: 'failed', message, retryMs: null };
  const failures = s.hlsFailures + 1;
  if (kind !== 'offline' && failures >= HLS_FAILURES_BEFORE_WEBRTC) {
    return wait({ ...s, transport: 'webrtc', webrtcFailures: 0, hlsFailures: 0 },
      'reconnecting', message);
  }
  return wait({ ...s, hlsFailures: failures }, kind === 'offline' ? 'offline' : 'reconnecting',
    message);
}

export function playerReducer(s: PlayerState, e: PlayerEvent): PlayerState {
  switch (e.type) {
    case 'start':
      return { ...initialPlayerState, phase: 'connecting', run: s.run + 1,
        transport: e.transport ?? 'webrtc', source: e.source ?? '' };
    case 'playing':
      if (s.phase !== 'connecting') return s;
      return {
        ...s, phase: 'playing', attempt: 0, message: null, retryMs: null,
        webrtcFailures: s.transport === 'webrtc' ? 0 : s.webrtcFailures,
        hlsFailures: s.transport === 'hls' ? 0 : s.hlsFailures,
      };
    case 'failure':
      if (s.phase !== 'connecting' && s.phase !== 'playing') return s;
      return onFailure(s, e.kind, e.message ?? null);
    case 'retry':
      if (s.phase !== 'reconnecting' && s.phase !== 'offline') return s;
      return { ...s, phase: 'connecting', retryMs: null, run: s.run + 1 };
    case 'stop':
      return { ...s, phase: 'stopped', retryMs: null };
    default:
      return s;
  }
}

/** The badge of a tile: what an operator needs to know at a glance. */
export type Badge = 'live' | 'playback' | 'connecting' | 'reconnecting' | 'offline' | 'error'
  | 'ended';

export function badgeOf(s: PlayerState, cameraOffline = false): Badge {
  switch (s.phase) {
    case 'playing':
      return 'live';
    case 'offline':
      return 'offline';
    case 'reconnecting':
      return cameraOffline ? 'offline' : 'reconnecting';
    case 'failed':
      return 'error';
    case 'ended':
      return 'ended';
    default:
      return cameraOffline ? 'offline' : 'connecting';
  }
}

/** Classify an HTTP failure of WHEP or of an HLS start. */
export function classifyHttpFailure(status: number, detail: string): FailureKind {
  if (status === 401 || status === 403 || status === 404 || status === 422) return 'fatal';
  if (status === 415 || status === 429 || status === 501 || status === 405) return 'fallback';
  if (status === 502 && /b-?frame/i.test(detail)) return 'fallback';
  if (status === 502 || status === 504) return 'offline';
  return 'retry';
}
