import { describe, expect, it } from 'vitest';
import {
  layoutSpans, localDate, localDayStart, nextEvent, playableFrom, previousEvent, shiftWindow,
  ticks, timeAt, toSpans, windowFor, xOf,
} from '../src/playback/timelineLayout';

const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.UTC(2026, 10, 22, 10, 0, 0);
const win = { start: T0, end: T0 + HOUR };

describe('time <-> pixels', () => {
  it('maps the window onto the width and back', () => {
    expect(xOf(T0, win, 600)).toBe(0);
    expect(xOf(T0 + HOUR, win, 600)).toBe(600);
    expect(xOf(T0 + 30 * MIN, win, 600)).toBe(300);
    expect(timeAt(300, win, 600)).toBe(T0 + 30 * MIN);
  });

  it('clamps clicks outside the bar to the window', () => {
    expect(timeAt(-20, win, 600)).toBe(T0);
    expect(timeAt(900, win, 600)).toBe(T0 + HOUR);
  });
});

describe('layoutSpans', () => {
  it('clips spans to the window and drops those outside', () => {
    const bars = layoutSpans([
      { start: T0 - HOUR, end: T0 - 1 },
      { start: T0 - 10 * MIN, end: T0 + 6 * MIN },
      { start: T0 + 54 * MIN, end: T0 + 2 * HOUR },
    ], win, 600, T0 + 3 * HOUR);
    expect(bars).toHaveLength(2);
    expect(bars[0]).toMatchObject({ x: 0, width: 60, start: T0, end: T0 + 6 * MIN });
    expect(bars[1]).toMatchObject({ x: 540, width: 60, end: T0 + HOUR });
  });

  it('draws an open event up to now', () => {
    const [bar] = layoutSpans([{ start: T0 + 10 * MIN, end: null, id: 7 }], win, 600, T0 + 20 * MIN);
    expect(bar).toMatchObject({ x: 100, width: 100, id: 7 });
  });

  it('gives tiny spans a minimum width so they stay visible and clickable', () => {
    const [bar] = layoutSpans([{ start: T0 + 1000, end: T0 + 1200 }], win, 600, T0, { minWidth: 3 });
    expect(bar?.width).toBe(3);
  });

  it('merges recordings that touch on screen, keeps real gaps', () => {
    const segments = Array.from({ length: 60 }, (_, i) => ({
      start: T0 + i * MIN, end: T0 + (i + 1) * MIN - 50,
    }));
    segments.splice(30, 5); // a five-minute gap
    const bars = layoutSpans(segments, win, 600, T0, { merge: true });
    expect(bars).toHaveLength(2);
    expect(bars[0]?.x).toBe(0);
    expect(bars[0]?.width).toBeCloseTo(300, 0);
    expect(bars[1]?.x).toBeCloseTo(350, 0);
  });

  it('does not merge events', () => {
    const bars = layoutSpans([{ start: T0, end: T0 + 1000 }, { start: T0 + 2000, end: T0 + 3000 }],
      win, 600, T0, { minWidth: 3 });
    expect(bars).toHaveLength(2);
  });

  it('sorts input spans', () => {
    const bars = layoutSpans([{ start: T0 + 40 * MIN, end: T0 + 41 * MIN },
      { start: T0 + 10 * MIN, end: T0 + 11 * MIN }], win, 600, T0);
    expect(bars.map((b) => b.x)).toEqual([100, 400]);
  });
});

describe('windows', () => {
  it('day zoom is the whole local day', () => {
    const day = localDayStart('2026-11-22');
    const w = windowFor('day', day + 5 * HOUR, day);
    expect(w.start).toBe(day);
    expect(new Date(w.end).getDate()).toBe(23);
    expect(new Date(w.end).getHours()).toBe(0);
  });

  it('hour zoom is one hour around the focus, aligned to five minutes', () => {
    const focus = T0 + 17 * MIN + 12_345;
    const w = windowFor('hour', focus, 0);
    expect(w.end - w.start).toBe(HOUR);
    expect(w.start % (5 * MIN)).toBe(0);
    expect(focus).toBeGreaterThan(w.start);
    expect(focus).toBeLessThan(w.end);
  });

  it('shifts by half a window', () => {
    expect(shiftWindow(win, 1)).toEqual({ start: T0 + 30 * MIN, end: T0 + 90 * MIN });
    expect(shiftWindow(win, -1)).toEqual({ start: T0 - 30 * MIN, end: T0 + 30 * MIN });
  });

  it('round-trips local dates', () => {
    expect(localDate(localDayStart('2026-03-09'))).toBe('2026-03-09');
  });
});

describe('ticks', () => {
  it('spaces ticks at least the minimum gap apart on round times', () => {
    const marks = ticks(win, 600, 60);
    expect(marks.length).toBeGreaterThan(3);
    for (let i = 1; i < marks.length; i++) {
      expect((marks[i]?.x ?? 0) - (marks[i - 1]?.x ?? 0)).toBeGreaterThanOrEqual(60);
    }
    for (const m of marks) expect(m.t % MIN).toBe(0);
  });

  it('uses hours at day zoom', () => {
    const day = localDayStart('2026-11-22');
    const marks = ticks(windowFor('day', day, day), 1200, 60);
    const step = (marks[1]?.t ?? 0) - (marks[0]?.t ?? 0);
    expect(step % HOUR).toBe(0);
  });
});

describe('event navigation', () => {
  const events = [{ start: T0 + 5 * MIN, end: T0 + 6 * MIN, id: 1 },
    { start: T0 + 20 * MIN, end: null, id: 2 }, { start: T0 + 40 * MIN, end: T0 + 41 * MIN, id: 3 }];

  it('finds the next and previous event', () => {
    expect(nextEvent(events, T0)?.id).toBe(1);
    expect(nextEvent(events, T0 + 10 * MIN)?.id).toBe(2);
    expect(previousEvent(events, T0 + 30 * MIN)?.id).toBe(2);
    expect(nextEvent(events, T0 + 50 * MIN)).toBeNull();
    expect(previousEvent(events, T0)).toBeNull();
  });

  it('does not return the event playing now (jumped to two seconds early)', () => {
    expect(nextEvent(events, T0 + 20 * MIN - 500)?.id).toBe(3);
    expect(previousEvent(events, T0 + 20 * MIN - 2000)?.id).toBe(1);
  });
});

describe('playableFrom', () => {
  const recordings = [{ start: T0, end: T0 + 10 * MIN }, { start: T0 + 20 * MIN, end: null }];

  it('plays from the click inside a recording', () => {
    expect(playableFrom(T0 + 5 * MIN, recordings, T0 + HOUR)).toBe(T0 + 5 * MIN);
    expect(playableFrom(T0 + 30 * MIN, recordings, T0 + HOUR)).toBe(T0 + 30 * MIN);
  });

  it('skips a gap to the next recording', () => {
    expect(playableFrom(T0 + 15 * MIN, recordings, T0 + HOUR)).toBe(T0 + 20 * MIN);
  });

  it('gives null when nothing follows', () => {
    expect(playableFrom(T0 + 2 * HOUR, recordings, T0 + HOUR)).toBeNull();
  });
});

it('parses API ranges', () => {
  expect(toSpans([{ start: '2026-11-22T10:00:00Z', end: null, id: 4 }]))
    .toEqual([{ start: T0, end: null, id: 4 }]);
});
