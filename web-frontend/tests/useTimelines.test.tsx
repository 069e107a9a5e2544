// @vitest-environment jsdom
import { renderHook, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { useTimelines } from '../src/playback/useTimelines';
import { json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

const HOUR = 3_600_000;
const T0 = Date.parse('2026-03-01T10:00:00Z');

/** While set, timeline answers wait for it (to observe the switch between windows). */
let gate: Promise<void> | null = null;

async function setup() {
  const h = await consoleHarness();
  gate = null;
  h.server.route(async (req) => {
    const m = /^\/api\/v1\/cameras\/(\d+)\/timeline$/.exec(req.path);
    if (!m) return undefined;
    if (gate) await gate;
    if (m[1] === '2') return json({ error: 'Unavailable', detail: 'recording down' }, 503);
    const start = req.query.get('start') ?? '';
    return json({ camera_id: Number(m[1]), start, end: req.query.get('end'),
      recordings: [{ start, end: new Date(Date.parse(start) + 60_000).toISOString() }],
      events: [{ id: 9, type: 'motion.start', start, end: null, kept: false }], segments: [] });
  });
  return h;
}

describe('useTimelines', () => {
  it('loads each camera of the window, with its own error', async () => {
    const h = await setup();
    const w = { start: T0, end: T0 + HOUR };
    const { result } = renderHook(() => useTimelines([1, 2], w), { wrapper: h.wrapper });
    await waitFor(() => expect(result.current.size).toBe(2));
    expect(result.current.get(1)).toMatchObject({ error: null,
      recordings: [{ start: T0, end: T0 + 60_000 }], events: [{ start: T0, end: null, id: 9 }] });
    expect(result.current.get(2)).toMatchObject({ recordings: [], error: 'recording down' });
  });

  it('a new window cancels the old requests and keeps the old bars until it arrives', async () => {
    const h = await setup();
    const { result, rerender } = renderHook(({ w }) => useTimelines([1], w),
      { wrapper: h.wrapper, initialProps: { w: { start: T0, end: T0 + HOUR } } });
    await waitFor(() => expect(result.current.get(1)?.recordings[0]?.start).toBe(T0));
    // Hold the next answer so the switch can be observed.
    let release: () => void = () => undefined;
    gate = new Promise<void>((r) => { release = r; });
    rerender({ w: { start: T0 + HOUR, end: T0 + 2 * HOUR } });
    rerender({ w: { start: T0 + 2 * HOUR, end: T0 + 3 * HOUR } });
    expect(result.current.get(1)?.recordings[0]?.start).toBe(T0);
    const asked = () => h.server.requests.filter((r) => r.path === '/api/v1/cameras/1/timeline');
    const third = new Date(T0 + 2 * HOUR).toISOString();
    await waitFor(() => expect(asked().some((r) => r.query.get('start') === third)).toBe(true));
    // The middle window was either never sent or cancelled; the last one is live.
    for (const r of asked().slice(1)) {
      expect(r.signal?.aborted).toBe(r.query.get('start') !== third);
    }
    expect(result.current.get(1)?.recordings[0]?.start).toBe(T0);
    release();
    await waitFor(() => expect(result.current.get(1)?.recordings[0]?.start).toBe(T0 + 2 * HOUR));
  });

  it('polls a window that includes now, and only that one', async () => {
    vi.useFakeTimers({ shouldAdvanceTime: true });
    try {
      const h = await setup();
      const now = Date.now();
      const past = renderHook(() => useTimelines([1], { start: T0, end: T0 + HOUR }),
        { wrapper: h.wrapper });
      const live = renderHook(() => useTimelines([3], { start: now - HOUR, end: now + HOUR }),
        { wrapper: h.wrapper });
      await waitFor(() => expect(past.result.current.size + live.result.current.size).toBe(2));
      const count = (id: number) => h.server.requests
        .filter((r) => r.path === `/api/v1/cameras/${id}/timeline`).length;
      expect([count(1), count(3)]).toEqual([1, 1]);
      await vi.advanceTimersByTimeAsync(15_000);
      await waitFor(() => expect(count(3)).toBe(2));
      expect(count(1)).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
