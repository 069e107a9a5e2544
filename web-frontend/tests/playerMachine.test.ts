import { describe, expect, it } from 'vitest';
import {
  BACKOFF_MS, HLS_FAILURES_BEFORE_WEBRTC, badgeOf, classifyHttpFailure, initialPlayerState,
  playerReducer, type PlayerEvent, type PlayerState,
} from '../src/video/playerMachine';

function run(events: PlayerEvent[], from: PlayerState = initialPlayerState): PlayerState {
  return events.reduce(playerReducer, from);
}
type Kind = 'fatal' | 'fallback' | 'offline' | 'retry' | 'lost' | 'ended';
const fail = (kind: Kind, message: string = kind): PlayerEvent => ({ type: 'failure', kind, message });

describe('player state machine', () => {
  it('starts with WebRTC and plays', () => {
    const s = run([{ type: 'start' }, { type: 'playing' }]);
    expect(s).toMatchObject({ phase: 'playing', transport: 'webrtc', attempt: 0 });
    expect(badgeOf(s)).toBe('live');
  });

  it('reconnects by itself after losing a playing stream, with backoff', () => {
    let s = run([{ type: 'start' }, { type: 'playing' }, fail('lost')]);
    expect(s).toMatchObject({ phase: 'reconnecting', retryMs: BACKOFF_MS[0], transport: 'webrtc' });
    expect(badgeOf(s)).toBe('reconnecting');
    const run1 = s.run;
    s = playerReducer(s, { type: 'retry' });
    expect(s.phase).toBe('connecting');
    expect(s.run).toBe(run1 + 1);
    s = playerReducer(s, { type: 'playing' });
    expect(s).toMatchObject({ phase: 'playing', attempt: 0, webrtcFailures: 0 });
  });

  it('falls back to HLS after two WebRTC failures in a row, at once', () => {
    const s = run([{ type: 'start' }, fail('retry'), { type: 'retry' }, fail('retry')]);
    expect(s).toMatchObject({ phase: 'connecting', transport: 'hls', retryMs: null });
  });

  it('falls back to HLS at once when WebRTC cannot carry the stream', () => {
    const s = run([{ type: 'start' }, fail('fallback', 'B-frames')]);
    expect(s).toMatchObject({ phase: 'connecting', transport: 'hls', message: 'B-frames' });
  });

  it('stays on WebRTC and shows offline while the camera does not answer', () => {
    let s = run([{ type: 'start' }, fail('offline')]);
    for (let i = 0; i < 5; i++) s = run([{ type: 'retry' }, fail('offline')], s);
    expect(s.transport).toBe('webrtc');
    expect(s.phase).toBe('offline');
    expect(badgeOf(s)).toBe('offline');
    expect(s.retryMs).toBe(BACKOFF_MS[BACKOFF_MS.length - 1]);
  });

  it('grows the backoff and caps it', () => {
    let s = run([{ type: 'start' }, fail('offline')]);
    const waits = [s.retryMs];
    for (let i = 0; i < 5; i++) {
      s = run([{ type: 'retry' }, fail('offline')], s);
      waits.push(s.retryMs);
    }
    expect(waits).toEqual([1000, 2000, 5000, 10000, 10000, 10000]);
  });

  it('stops for good on a fatal failure', () => {
    const s = run([{ type: 'start' }, fail('fatal', 'not found'), { type: 'retry' }]);
    expect(s).toMatchObject({ phase: 'failed', message: 'not found', retryMs: null });
    expect(badgeOf(s)).toBe('error');
  });

  it('goes back to WebRTC after repeated HLS failures', () => {
    let s = run([{ type: 'start' }, fail('fallback')]);
    for (let i = 0; i < HLS_FAILURES_BEFORE_WEBRTC; i++) {
      expect(s.transport).toBe('hls');
      s = run([fail('retry'), { type: 'retry' }], s);
    }
    expect(s.transport).toBe('webrtc');
    expect(s.webrtcFailures).toBe(0);
  });

  it('fails when HLS itself is unsupported', () => {
    const s = run([{ type: 'start' }, fail('fallback'), fail('fallback', 'no MSE')]);
    expect(s.phase).toBe('failed');
  });

  it('ends playback at the end of a recording', () => {
    const s = run([{ type: 'start' }, { type: 'playing' }, fail('ended')]);
    expect(s.phase).toBe('ended');
    expect(badgeOf(s)).toBe('ended');
  });

  it('ignores late events from a stopped player', () => {
    const stopped = run([{ type: 'start' }, { type: 'stop' }]);
    expect(run([{ type: 'playing' }, fail('retry'), { type: 'retry' }], stopped)).toEqual(stopped);
  });

  it('a new start resets everything', () => {
    const s = run([{ type: 'start' }, fail('fallback'), fail('retry'), { type: 'start' }]);
    expect(s).toMatchObject({ phase: 'connecting', transport: 'webrtc', attempt: 0,
      webrtcFailures: 0, hlsFailures: 0 });
  });

  it('shows offline while connecting to a camera management reports offline', () => {
    const s = run([{ type: 'start' }]);
    expect(badgeOf(s, true)).toBe('offline');
    expect(badgeOf(s, false)).toBe('connecting');
  });
});

describe('HTTP failure classes', () => {
  it.each([
    [401, '', 'fatal'], [403, '', 'fatal'], [404, 'camera not found', 'fatal'],
    [429, 'too many viewers', 'fallback'], [415, '', 'fallback'],
    [502, 'the stream has B-frames', 'fallback'], [502, 'camera unreachable', 'offline'],
    [504, 'timed out', 'offline'], [503, 'busy', 'retry'], [500, '', 'retry'],
  ] as const)('%i %s -> %s', (status, detail, kind) => {
    expect(classifyHttpFailure(status, detail)).toBe(kind);
  });
});

describe('transport hint', () => {
  it('starts on HLS when WebRTC never delivered on this page', async () => {
    const hint = await import('../src/video/transportHint');
    hint.resetTransportHint();
    expect(hint.preferredTransport()).toBe('webrtc');
    hint.noteWebrtc(false);
    hint.noteWebrtc(false);
    expect(hint.preferredTransport()).toBe('webrtc');
    hint.noteWebrtc(false);
    expect(hint.preferredTransport()).toBe('hls');
    expect(playerReducer(initialPlayerState, { type: 'start', transport: 'hls' }))
      .toMatchObject({ phase: 'connecting', transport: 'hls' });
    hint.noteWebrtc(true);
    expect(hint.preferredTransport()).toBe('webrtc');
    hint.resetTransportHint();
  });

  it('never prefers HLS once WebRTC has worked', async () => {
    const hint = await import('../src/video/transportHint');
    hint.resetTransportHint();
    hint.noteWebrtc(true);
    for (let i = 0; i < 5; i++) hint.noteWebrtc(false);
    expect(hint.preferredTransport()).toBe('webrtc');
    hint.resetTransportHint();
  });
});
