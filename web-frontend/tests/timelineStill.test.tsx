// @vitest-environment jsdom
import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import '../src/i18n';
import { api } from '../src/api/client';
import { Timeline } from '../src/playback/Timeline';
import { STILL_DELAY_MS, STILL_STEP_MS } from '../src/playback/useStill';

const T0 = Date.UTC(2026, 11, 5, 10, 0, 0);
const w = { start: T0, end: T0 + 3_600_000 };

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
});

describe('Timeline preview stills and the growing stretch', () => {
  it('shows the still nearest the hovered instant, one request per step', async () => {
    vi.useFakeTimers();
    vi.stubGlobal('ResizeObserver', class { observe() {} disconnect() {} });
    vi.stubGlobal('URL', Object.assign(URL, {
      createObjectURL: vi.fn(() => 'blob:still-1'), revokeObjectURL: vi.fn() }));
    // A settled answer (undici's body streams would wait on real timers).
    const jpeg = new Blob([new Uint8Array([0xff, 0xd8, 0xff, 0xd9])], { type: 'image/jpeg' });
    const fetched = vi.spyOn(api, 'fetchAuthed').mockImplementation(
      async () => ({ ok: true, blob: async () => jpeg }) as unknown as Response);
    render(<Timeline label="Gate" window={w} playhead={null} onSeek={() => {}} cameraId={7}
      recordings={[{ start: T0, end: T0 + 1_800_000 }]} events={[]}
      growing={[{ start: T0 + 1_800_000, end: T0 + 1_830_000 }]} />);
    const grow = document.querySelector('.tl-growing');
    expect(grow?.getAttribute('data-end')).toBe(new Date(T0 + 1_830_000).toISOString());
    expect(grow?.textContent).toBe('Still being written (up to the last few seconds)');
    const slider = screen.getByRole('slider', { name: 'Timeline of Gate' });
    // jsdom: no layout, the default width of 800 px from x = 0; x 400 is half an hour in.
    fireEvent.mouseMove(slider, { clientX: 400 });
    fireEvent.mouseMove(slider, { clientX: 400.2 }); // same step: no second request
    expect(fetched).not.toHaveBeenCalled(); // waits for the pointer to rest
    await act(async () => { await vi.advanceTimersByTimeAsync(STILL_DELAY_MS + 10); });
    expect(fetched).toHaveBeenCalledTimes(1);
    const [method, path, opts] = fetched.mock.calls[0] ?? [];
    expect([method, path]).toEqual(['GET', '/vod/7/still']);
    const at = Date.parse(String(opts?.query?.at));
    expect(at % STILL_STEP_MS).toBe(0);
    expect(Math.abs(at - (T0 + 1_800_000))).toBeLessThanOrEqual(STILL_STEP_MS);
    await act(async () => { await vi.advanceTimersByTimeAsync(10); }); // the blob is read
    const img = screen.getByRole('img');
    expect(img.getAttribute('src')).toBe('blob:still-1');
    fireEvent.mouseLeave(slider);
    expect(screen.queryByRole('img')).toBeNull();
  });

  it('asks for no still without a camera', async () => {
    vi.useFakeTimers();
    vi.stubGlobal('ResizeObserver', class { observe() {} disconnect() {} });
    const fetched = vi.spyOn(api, 'fetchAuthed');
    render(<Timeline label="Gate" window={w} playhead={null} onSeek={() => {}}
      recordings={[]} events={[]} />);
    fireEvent.mouseMove(screen.getByRole('slider'), { clientX: 100 });
    await act(async () => { await vi.advanceTimersByTimeAsync(STILL_DELAY_MS * 3); });
    expect(fetched).not.toHaveBeenCalled();
  });
});
