/**
 * Timeline geometry, pure: the visible window for a zoom level, time <-> pixel mapping,
 * bars for recordings (blue) and events (red), tick marks, and event navigation.
 * Times are epoch milliseconds.
 */

/** From a minute to a month: the small ones around the focus, the large ones up to the
 * end of the chosen day. */
export type Zoom = 'minute' | 'tenMinutes' | 'hour' | 'day' | 'week' | 'month';
export const ZOOMS: readonly Zoom[] = ['minute', 'tenMinutes', 'hour', 'day', 'week', 'month'];

export interface TimeWindow {
  start: number;
  end: number;
}

export interface Span {
  start: number;
  /** null: still open (an event in progress); drawn up to `now`. */
  end: number | null;
  id?: number;
}

/** Why nothing was recorded (from the summary timeline). */
export type GapCause = 'camera_offline' | 'recorder_down' | 'disk' | 'events_only' | 'unknown';

export interface Gap {
  start: number;
  end: number;
  cause: GapCause;
}

export interface Bar {
  x: number;
  width: number;
  start: number;
  end: number;
  id?: number;
}

export interface Tick {
  t: number;
  x: number;
  major: boolean;
}

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
export const ZOOM_SPAN: Record<Zoom, number> = {
  minute: MIN, tenMinutes: 10 * MIN, hour: HOUR, day: DAY, week: 7 * DAY, month: 30 * DAY,
};
// Where each window around the focus is aligned, so small moves do not shift the picture.
const ALIGN: Partial<Record<Zoom, number>> = { minute: 10_000, tenMinutes: MIN, hour: 5 * MIN };
/** Windows longer than this are asked for as a summary (merged ranges, gaps, counts). */
export const SUMMARY_FROM_MS = DAY;

/** The summary resolution for a window drawn `width` pixels wide: about a pixel, at
 * least a minute; null for windows short enough to list every segment and event. */
export function resolutionFor(w: TimeWindow, width = 1200): number | null {
  const span = w.end - w.start;
  if (span <= SUMMARY_FROM_MS) return null;
  return Math.max(60, Math.ceil(span / width / 1000));
}

/** Local midnight of a `YYYY-MM-DD` date (the date picker's value). */
export function localDayStart(date: string): number {
  const [y, m, d] = date.split('-').map(Number);
  return new Date(y ?? 1970, (m ?? 1) - 1, d ?? 1).getTime();
}

/** `YYYY-MM-DD` of the local day holding `t`. */
export function localDate(t: number): string {
  const d = new Date(t);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/**
 * The window shown: a whole local day, or one hour around `focus` (aligned to 5 minutes so
 * that small moves of the focus do not shift the picture).
 */
export function windowFor(zoom: Zoom, focus: number, dayStart: number): TimeWindow {
  if (zoom === 'day' || zoom === 'week' || zoom === 'month') {
    // Up to the end of the local day, even across a daylight-saving change (23 or 25 h).
    const next = new Date(dayStart);
    next.setDate(next.getDate() + 1);
    const first = new Date(next);
    first.setDate(first.getDate() - (zoom === 'day' ? 1 : zoom === 'week' ? 7 : 30));
    return { start: first.getTime(), end: next.getTime() };
  }
  const span = ZOOM_SPAN[zoom];
  const align = ALIGN[zoom] ?? 5 * MIN;
  const start = Math.floor((focus - span / 2) / align) * align;
  return { start, end: start + span };
}

/** The window moved by half its span, earlier (-1) or later (+1). */
export function shiftWindow(w: TimeWindow, dir: -1 | 1): TimeWindow {
  const step = (w.end - w.start) / 2;
  return { start: w.start + dir * step, end: w.end + dir * step };
}

export function xOf(t: number, w: TimeWindow, width: number): number {
  return ((t - w.start) / (w.end - w.start)) * width;
}

export function timeAt(x: number, w: TimeWindow, width: number): number {
  const clamped = Math.min(Math.max(x, 0), width);
  return Math.round(w.start + (clamped / width) * (w.end - w.start));
}

/**
 * Bars of `spans` inside the window, at least `minWidth` px wide. With `merge`, bars that
 * touch or overlap on screen become one (recordings: thousands of segments at day zoom).
 */
export function layoutSpans(spans: Span[], w: TimeWindow, width: number, now: number,
  opts: { minWidth?: number; merge?: boolean } = {}): Bar[] {
  const minWidth = opts.minWidth ?? 1;
  const bars: Bar[] = [];
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  for (const s of sorted) {
    const end = s.end ?? now;
    if (end <= w.start || s.start >= w.end || end < s.start) continue;
    const start = Math.max(s.start, w.start);
    const stop = Math.min(end, w.end);
    const x = xOf(start, w, width);
    const bar: Bar = { x, width: Math.max(minWidth, xOf(stop, w, width) - x), start, end: stop };
    if (s.id !== undefined) bar.id = s.id;
    const last = bars[bars.length - 1];
    if (opts.merge && last && bar.x <= last.x + last.width + 0.5) {
      const right = Math.max(last.x + last.width, bar.x + bar.width);
      last.width = right - last.x;
      last.end = Math.max(last.end, bar.end);
      continue;
    }
    bars.push(bar);
  }
  return bars;
}

const STEPS = [5_000, 10_000, 15_000, 30_000, MIN, 2 * MIN, 5 * MIN, 10 * MIN, 15 * MIN,
  30 * MIN, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY];

/** Tick marks at least `minGapPx` apart, on round local times; majors on round hours. */
export function ticks(w: TimeWindow, width: number, minGapPx = 64): Tick[] {
  const span = w.end - w.start;
  const step = STEPS.find((s) => (s / span) * width >= minGapPx) ?? 14 * DAY;
  const offset = new Date(w.start).getTimezoneOffset() * MIN;
  // Round in local time: shift to local, floor, shift back.
  let t = Math.ceil((w.start - offset) / step) * step + offset;
  const out: Tick[] = [];
  for (let i = 0; t <= w.end && i < 500; i++, t += step) {
    const local = t - new Date(t).getTimezoneOffset() * MIN;
    const major = step >= DAY ? local % (7 * DAY) === 0
      : step >= HOUR ? local % (6 * HOUR) === 0 : local % HOUR === 0;
    out.push({ t, x: xOf(t, w, width), major });
  }
  return out;
}

/** Events are "after" a time only past this margin, so next/previous never repeat one. */
const NAV_MARGIN_MS = 1000;

export function nextEvent<T extends Span>(events: T[], t: number): T | null {
  let best: T | null = null;
  for (const e of events) {
    if (e.start > t + NAV_MARGIN_MS && (best === null || e.start < best.start)) best = e;
  }
  return best;
}

export function previousEvent<T extends Span>(events: T[], t: number): T | null {
  let best: T | null = null;
  for (const e of events) {
    if (e.start < t - NAV_MARGIN_MS && (best === null || e.start > best.start)) best = e;
  }
  return best;
}

/**
 * Where playback can start for a click at `t`: `t` inside a recording, else the start of
 * the next recording (a click in a gap plays what comes next); null when nothing follows.
 */
export function playableFrom(t: number, recordings: Span[], now: number): number | null {
  let next: number | null = null;
  for (const r of recordings) {
    const end = r.end ?? now;
    if (t >= r.start && t < end) return t;
    if (r.start > t && (next === null || r.start < next)) next = r.start;
  }
  return next;
}

/** Gaps of the summary timeline, parsed. */
export function toGaps(gaps: { start: string; end: string; cause: string }[]): Gap[] {
  return gaps.map((g) => ({ start: Date.parse(g.start), end: Date.parse(g.end),
    cause: g.cause as GapCause }));
}

/** Parse API times once. */
export function toSpans(ranges: { start: string; end: string | null; id?: number }[]): Span[] {
  return ranges.map((r) => {
    const s: Span = { start: Date.parse(r.start), end: r.end === null ? null : Date.parse(r.end) };
    if (r.id !== undefined) s.id = r.id;
    return s;
  });
}
