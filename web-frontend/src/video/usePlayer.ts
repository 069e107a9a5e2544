/** Drive a <video> with the player state machine: connect, fall back, reconnect. */

import { useEffect, useReducer, useRef, type RefObject } from 'react';
import { initialPlayerState, playerReducer, type PlayerState } from './playerMachine';
import { sourceKey, type VideoSource } from './source';
import { preferredTransport } from './transportHint';
import { startHls, startWebrtc, type TransportHandle } from './transports';

export interface PlayerHandle {
  state: PlayerState;
  /** Frames per second measured by the receiver (WebRTC only). */
  fps(): Promise<number | null>;
}

export function usePlayer(video: RefObject<HTMLVideoElement | null>,
  source: VideoSource | null): PlayerHandle {
  const [state, dispatch] = useReducer(playerReducer, initialPlayerState);
  const handle = useRef<TransportHandle | null>(null);
  const key = sourceKey(source);
  const sourceRef = useRef(source);
  sourceRef.current = source;

  // A new source restarts the machine; no source stops it.
  useEffect(() => {
    dispatch(key ? { type: 'start', transport: preferredTransport(), source: key }
      : { type: 'stop' });
    return () => dispatch({ type: 'stop' });
  }, [key]);

  // One transport per run: started on entering `connecting`, kept while `playing`, stopped
  // when the phase leaves both or a new run (fallback, retry, new source) begins. The run is
  // named by the source its `start` was for, not by the current prop: in the render where the
  // prop changes, the old run stays until the new `start` is dispatched (no wasted WHEP offer).
  const active = state.phase === 'connecting' || state.phase === 'playing';
  const runKey = active && key && state.source === key ? `${key}#${state.run}` : '';
  const transport = state.transport;
  useEffect(() => {
    const el = video.current;
    const src = sourceRef.current;
    if (!runKey || !el || !src) return undefined;
    const start = transport === 'webrtc' ? startWebrtc : startHls;
    const h = start(el, src, {
      onPlaying: () => dispatch({ type: 'playing' }),
      onFailure: (kind, message) => dispatch({ type: 'failure', kind, message }),
    });
    handle.current = h;
    return () => {
      h.stop();
      if (handle.current === h) handle.current = null;
    };
    // `transport` changes only together with `run`, so it never restarts a run by itself.
  }, [runKey, transport, video]);

  // Waiting phases: retry after the backoff.
  useEffect(() => {
    if (state.retryMs === null) return undefined;
    const t = setTimeout(() => dispatch({ type: 'retry' }), state.retryMs);
    return () => clearTimeout(t);
  }, [state.retryMs, state.attempt, state.phase]);

  return {
    state,
    fps: async () => (handle.current?.fps ? handle.current.fps() : null),
  };
}
