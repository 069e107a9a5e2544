// @vitest-environment jsdom
import { act, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VideoSource } from '../src/video/source';
import type { TransportCallbacks } from '../src/video/transports';

/** Each transport start, with its callbacks and whether it was stopped. */
interface Started {
  transport: 'webrtc' | 'hls';
  source: VideoSource;
  cb: TransportCallbacks;
  stopped: boolean;
}
const started: Started[] = [];

vi.mock('../src/video/transports', () => {
  const start = (transport: 'webrtc' | 'hls') =>
    (_el: HTMLVideoElement, source: VideoSource, cb: TransportCallbacks) => {
      const s: Started = { transport, source, cb, stopped: false };
      started.push(s);
      return { stop: () => { s.stopped = true; }, fps: async () => 25 };
    };
  return { startWebrtc: start('webrtc'), startHls: start('hls') };
});

const { usePlayer } = await import('../src/video/usePlayer');
const { resetTransportHint } = await import('../src/video/transportHint');

function mount(initial: VideoSource | null) {
  const video = { current: document.createElement('video') };
  return renderHook(({ source }) => usePlayer(video, source), { initialProps: { source: initial } });
}

const last = () => started[started.length - 1] as Started;

beforeEach(() => {
  started.length = 0;
  resetTransportHint();
});
afterEach(() => vi.useRealTimers());

describe('usePlayer', () => {
  it('starts WebRTC, plays, and stops the transport on unmount', async () => {
    const { result, unmount } = mount({ cameraId: 3, stream: 'sub' });
    expect(started).toHaveLength(1);
    expect(last()).toMatchObject({ transport: 'webrtc', source: { cameraId: 3, stream: 'sub' } });
    act(() => last().cb.onPlaying());
    expect(result.current.state.phase).toBe('playing');
    expect(await result.current.fps()).toBe(25);
    unmount();
    expect(last().stopped).toBe(true);
  });

  it('falls back to HLS at once when WebRTC cannot carry the stream', () => {
    const { result } = mount({ cameraId: 1, stream: 'main' });
    const webrtc = last();
    act(() => webrtc.cb.onFailure('fallback', '502 B-frames'));
    expect(webrtc.stopped).toBe(true);
    expect(started).toHaveLength(2);
    expect(last().transport).toBe('hls');
    expect(result.current.state).toMatchObject({ phase: 'connecting', transport: 'hls' });
  });

  it('waits the backoff when the camera is offline, then starts a new run', () => {
    vi.useFakeTimers();
    const { result } = mount({ cameraId: 1, stream: 'main' });
    act(() => last().cb.onFailure('offline', '504'));
    expect(result.current.state).toMatchObject({ phase: 'offline', retryMs: 1000 });
    expect(started).toHaveLength(1);
    act(() => { vi.advanceTimersByTime(999); });
    expect(started).toHaveLength(1);
    act(() => { vi.advanceTimersByTime(1); });
    expect(started).toHaveLength(2);
    expect(last().transport).toBe('webrtc');
    expect(result.current.state.phase).toBe('connecting');
  });

  it('restarts on a new source and stops with no source', () => {
    const view = mount({ cameraId: 1, stream: 'sub' });
    const first = last();
    view.rerender({ source: { cameraId: 1, stream: 'main' } });
    expect(first.stopped).toBe(true);
    expect(last().source.stream).toBe('main');
    // The same source again (a new object) keeps the run.
    view.rerender({ source: { cameraId: 1, stream: 'main' } });
    expect(started).toHaveLength(2);
    view.rerender({ source: null });
    expect(last().stopped).toBe(true);
    expect(view.result.current.state.phase).toBe('stopped');
  });

  it('ignores a failure after a 401-style fatal stop', () => {
    const { result } = mount({ cameraId: 9, stream: 'main' });
    act(() => last().cb.onFailure('fatal', '403 Forbidden'));
    expect(result.current.state).toMatchObject({ phase: 'failed', message: '403 Forbidden' });
    expect(last().stopped).toBe(true);
    expect(started).toHaveLength(1);
  });
});
