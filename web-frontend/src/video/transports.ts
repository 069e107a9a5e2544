/** Start one transport on a <video>: WebRTC through WHEP, or HLS through hls.js. */

import { api } from '../api/client';
import { errorFromResponse, errorMessage } from '../api/errors';
import type { FailureKind } from './playerMachine';
import { classifyHttpFailure } from './playerMachine';
import { vodUrl, whepUrl, type VideoSource } from './source';
import { WhepClient, WhepError } from './whep';
import { watchFrames } from './frames';
import { noteWebrtc } from './transportHint';

export interface TransportCallbacks {
  onPlaying(): void;
  onFailure(kind: FailureKind, message: string): void;
}

export interface TransportHandle {
  stop(): void;
  /** Decoded frames per second as the receiver measures it (WebRTC only). */
  fps?(): Promise<number | null>;
}

const FIRST_FRAME_MS = { webrtc: 10_000, hls: 20_000 };
const STALL_MS = 8_000;

function once(cb: TransportCallbacks): TransportCallbacks {
  let done = false;
  return {
    onPlaying: () => {
      if (!done) cb.onPlaying();
    },
    onFailure: (kind, message) => {
      if (done) return;
      done = true;
      cb.onFailure(kind, message);
    },
  };
}

export function startWebrtc(video: HTMLVideoElement, source: VideoSource,
  callbacks: TransportCallbacks): TransportHandle {
  const cb = once(callbacks);
  const live = !source.start;
  const client = new WhepClient({
    createPeerConnection: () => new RTCPeerConnection({ bundlePolicy: 'max-bundle' }),
    fetch: (method, url, init) => api.fetchAuthed(method, url, init.body === undefined
      ? { headers: init.headers ?? {}, ...(init.signal ? { signal: init.signal } : {}) }
      : { body: init.body, headers: init.headers ?? {},
        ...(init.signal ? { signal: init.signal } : {}) }),
  });
  let disconnectTimer: ReturnType<typeof setTimeout> | null = null;
  const watch = watchFrames(video, {
    firstFrameTimeoutMs: FIRST_FRAME_MS.webrtc,
    stallMs: STALL_MS,
    onFirstFrame: () => {
      noteWebrtc(true);
      cb.onPlaying();
    },
    onTimeout: () => {
      noteWebrtc(false);
      cb.onFailure('retry', 'no video (WebRTC did not connect)');
    },
    onStall: () => cb.onFailure(live ? 'lost' : 'ended', live ? 'video stalled' : 'end'),
  });
  client.connect(whepUrl(source), (stream) => {
    video.srcObject = stream;
    video.play().catch(() => undefined);
  }, (state) => {
    if (state === 'failed') cb.onFailure('lost', 'connection failed');
    if (state === 'disconnected' && disconnectTimer === null) {
      disconnectTimer = setTimeout(() => cb.onFailure('lost', 'connection lost'), 4000);
    }
    if (state === 'connected' && disconnectTimer !== null) {
      clearTimeout(disconnectTimer);
      disconnectTimer = null;
    }
  }).catch((err: unknown) => {
    if (err instanceof WhepError) cb.onFailure(err.kind, err.message);
    else cb.onFailure('retry', errorMessage(err));
  });
  return {
    stop() {
      watch.stop();
      if (disconnectTimer !== null) clearTimeout(disconnectTimer);
      cb.onFailure = () => undefined;
      void client.close();
      video.srcObject = null;
    },
    async fps() {
      return (await client.inboundVideo())?.framesPerSecond ?? null;
    },
  };
}

/** The playlist URL and whether it needs the bearer token. */
async function hlsPlaylist(source: VideoSource): Promise<{ url: string; bearer: boolean }> {
  if (source.start) return { url: vodUrl({ ...source, start: source.start }), bearer: true };
  const resp = await api.fetchAuthed('POST', '/v1/streams/start',
    { json: { camera_id: source.cameraId } });
  if (!resp.ok) {
    const err = await errorFromResponse(resp);
    throw Object.assign(new Error(err.detail || String(resp.status)),
      { kind: classifyHttpFailure(resp.status, err.detail) });
  }
  const body = (await resp.json()) as { hls_url: string };
  return { url: body.hls_url, bearer: false };
}

export function startHls(video: HTMLVideoElement, source: VideoSource,
  callbacks: TransportCallbacks): TransportHandle {
  const cb = once(callbacks);
  const live = !source.start;
  let stopped = false;
  let player: { destroy(): void } | null = null;
  const watch = watchFrames(video, {
    firstFrameTimeoutMs: FIRST_FRAME_MS.hls,
    stallMs: STALL_MS * 2,
    onFirstFrame: () => cb.onPlaying(),
    onTimeout: () => cb.onFailure('retry', 'no video (HLS)'),
    onStall: () => cb.onFailure(live ? 'lost' : 'ended', live ? 'video stalled' : 'end'),
  });
  (async () => {
    const [{ default: Hls }, playlist, token] = await Promise.all([
      import('hls.js'), hlsPlaylist(source), api.accessToken(),
    ]);
    if (stopped) return;
    if (!Hls.isSupported()) {
      cb.onFailure('fallback', 'this browser cannot play HLS');
      return;
    }
    const hls = new Hls({
      lowLatencyMode: live,
      // Live is LL-HLS: the playlist's PART-HOLD-BACK (three 0.2 s parts) sets the distance
      // to the live edge; catching up at up to 1.5x brings a late start or a stall back to
      // it, and a stall moves it back by one part (hls.js default: one target duration).
      maxLiveSyncPlaybackRate: live ? 1.5 : 1,
      liveSyncOnStallIncrease: live ? 0.2 : 1,
      backBufferLength: live ? 10 : 60,
      xhrSetup: playlist.bearer
        ? (xhr: XMLHttpRequest, url: string) => {
          if (url.includes('.m3u8')) xhr.setRequestHeader('Authorization', `Bearer ${token}`);
        }
        : undefined,
    });
    player = hls;
    hls.on(Hls.Events.ERROR, (_evt, data) => {
      if (!data.fatal) return;
      const status = data.response?.code ?? 0;
      const kind = status ? classifyHttpFailure(status, '') : 'retry';
      cb.onFailure(kind, `HLS: ${data.details}`);
    });
    hls.loadSource(playlist.url);
    hls.attachMedia(video);
    video.play().catch(() => undefined);
  })().catch((err: unknown) => {
    const kind = (err as { kind?: FailureKind }).kind ?? 'retry';
    cb.onFailure(kind, errorMessage(err));
  });
  return {
    stop() {
      stopped = true;
      watch.stop();
      cb.onFailure = () => undefined;
      player?.destroy();
      video.removeAttribute('src');
      video.load();
    },
  };
}
