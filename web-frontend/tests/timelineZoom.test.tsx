// @vitest-environment jsdom
import { fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../src/i18n';
import { Timeline } from '../src/playback/Timeline';
import { resolutionFor, ticks, windowFor, ZOOM_SPAN, ZOOMS } from '../src/playback/timelineLayout';

const MIN = 60_000;
const DAY = 86_400_000;
const day = new Date(2026, 10, 20).getTime(); // local midnight

describe('timeline zoom from a minute to 30 days', () => {
  it('gives each zoom its span, around the focus or up to the end of the day', () => {
    const focus = day + 13 * 3600_000 + 17 * MIN + 5_000;
    for (const z of ['minute', 'tenMinutes', 'hour'] as const) {
      const w = windowFor(z, focus, day);
      expect(w.end - w.start).toBe(ZOOM_SPAN[z]);
      expect(w.start <= focus && focus <= w.end).toBe(true);
    }
    const month = windowFor('month', focus, day);
    expect(month.end).toBe(new Date(2026, 10, 21).getTime());
    expect(new Date(month.start).getDate()).toBe(22); // 30 local days back, in October
    expect(windowFor('week', focus, day).start).toBe(new Date(2026, 10, 14).getTime());
    expect(ZOOMS).toEqual(['minute', 'tenMinutes', 'hour', 'day', 'week', 'month']);
  });

  it('asks for a summary beyond a day, at about a pixel', () => {
    expect(resolutionFor(windowFor('day', day, day))).toBeNull();
    expect(resolutionFor({ start: day, end: day + 30 * DAY }, 1200)).toBe(2160);
    expect(resolutionFor({ start: day, end: day + 2 * DAY }, 1_000_000)).toBe(60);
  });

  it('keeps ticks readable at both ends', () => {
    expect(ticks(windowFor('minute', day + 5 * MIN, day), 1200).length).toBeGreaterThan(3);
    const month = ticks(windowFor('month', day, day), 1200, 64);
    expect(month.length).toBeGreaterThan(3);
    expect(month.length).toBeLessThan(20);
  });
});

afterEach(() => vi.unstubAllGlobals());

describe('Timeline', () => {
  const w = { start: day, end: day + 30 * DAY };
  it('draws gaps by cause and jumps between events with n / p', () => {
    // jsdom has no layout: the timeline keeps its default width.
    vi.stubGlobal('ResizeObserver', class { observe() {} disconnect() {} });
    const onSeek = vi.fn();
    render(<Timeline label="Gate" window={w} playhead={null} onSeek={onSeek}
      recordings={[{ start: day, end: day + 10 * DAY }, { start: day + 12 * DAY, end: day + 30 * DAY }]}
      events={[{ start: day + 3 * DAY, end: null, id: 1 }, { start: day + 20 * DAY, end: null, id: 2 }]}
      gaps={[{ start: day + 10 * DAY, end: day + 11 * DAY, cause: 'camera_offline' },
        { start: day + 11 * DAY, end: day + 12 * DAY, cause: 'disk' }]} />);
    const gaps = document.querySelectorAll('.tl-gap');
    expect([...gaps].map((g) => g.getAttribute('data-cause'))).toEqual(['camera_offline', 'disk']);
    expect(gaps[0]?.textContent).toBe('No recording: the camera was offline');
    const slider = screen.getByRole('slider', { name: 'Timeline of Gate' });
    fireEvent.keyDown(slider, { key: 'n' }); // from the middle (day 15): the event on day 20
    expect(onSeek).toHaveBeenLastCalledWith(day + 20 * DAY);
    fireEvent.keyDown(slider, { key: 'p' });
    fireEvent.keyDown(slider, { key: 'p' });
    expect(onSeek).toHaveBeenLastCalledWith(day + 3 * DAY);
  });

  it('draws backfilled stretches in their own shade over the recordings', () => {
    vi.stubGlobal('ResizeObserver', class { observe() {} disconnect() {} });
    render(<Timeline label="Gate" window={w} playhead={null} onSeek={vi.fn()}
      recordings={[{ start: day, end: day + 30 * DAY }]} events={[]}
      backfilled={[{ start: day + 4 * DAY, end: day + 5 * DAY }]} />);
    const filled = document.querySelectorAll('.tl-backfill');
    expect(filled).toHaveLength(1);
    expect(filled[0]?.getAttribute('data-start')).toBe(new Date(day + 4 * DAY).toISOString());
    expect(filled[0]?.textContent).toBe('Restored from the camera after an outage');
    expect(document.querySelectorAll('.tl-rec')).toHaveLength(1);
  });
});
