// @vitest-environment jsdom
import { act, fireEvent, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../src/i18n';
import { ErrorBoundary } from '../src/components/ErrorBoundary';
import { emptyGrid } from '../src/live/layoutState';
import { initialPlayerState } from '../src/video/playerMachine';
import { camera } from './support/fakeManagement';

/** Cameras whose tile throws while rendering. */
const broken = new Set<number>();

vi.mock('../src/video/usePlayer', () => ({
  usePlayer: (_video: unknown, source: { cameraId: number } | null) => {
    if (source && broken.has(source.cameraId)) throw new Error(`tile ${source.cameraId} broke`);
    return { state: { ...initialPlayerState, phase: 'playing' }, fps: async () => null };
  },
}));

const { VideoGrid } = await import('../src/live/VideoGrid');

beforeEach(() => {
  broken.clear();
  // React reports caught render errors on the console; keep the test output readable.
  vi.spyOn(console, 'error').mockImplementation(() => undefined);
});
afterEach(() => vi.restoreAllMocks());

const cams = new Map([1, 2, 3, 4].map((id) => [id, camera(id)]));

describe('error boundaries', () => {
  it('a tile that throws leaves the other tiles rendered, and Retry brings it back', () => {
    broken.add(2);
    const state = { ...emptyGrid(4), cells: [1, 2, 3, 4] };
    const { container } = render(<VideoGrid state={state} dispatch={() => undefined}
      byId={(id) => cams.get(id)} />);
    const playing = [...container.querySelectorAll('[data-camera-id]')]
      .map((el) => el.getAttribute('data-camera-id'));
    expect(playing).toEqual(['1', '3', '4']);
    const card = screen.getByRole('alert');
    expect(card.textContent).toContain('Camera 0002');
    broken.delete(2);
    fireEvent.click(screen.getByRole('button', { name: 'Retry' }));
    expect(container.querySelectorAll('[data-camera-id]')).toHaveLength(4);
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('a broken tile retries by itself after its delay', () => {
    vi.useFakeTimers();
    try {
      broken.add(1);
      render(<ErrorBoundary variant="tile" autoRetryMs={1000}><Thrower /></ErrorBoundary>);
      expect(screen.getByRole('alert')).toBeTruthy();
      broken.delete(1);
      act(() => { vi.advanceTimersByTime(999); });
      expect(screen.queryByText('fine')).toBeNull();
      act(() => { vi.advanceTimersByTime(1); });
      expect(screen.getByText('fine')).toBeTruthy();
    } finally {
      vi.useRealTimers();
    }
  });

  it('a page error shows Retry in place of the page, and a new route key starts clean', () => {
    broken.add(1);
    const view = render(<ErrorBoundary resetKey="/events"><Thrower /></ErrorBoundary>);
    expect(screen.getByRole('heading').textContent).toBe('Something went wrong');
    expect(screen.getByRole('alert').textContent).toContain('tile 1 broke');
    broken.delete(1);
    view.rerender(<ErrorBoundary resetKey="/live"><Thrower /></ErrorBoundary>);
    expect(screen.getByText('fine')).toBeTruthy();
  });
});

function Thrower() {
  if (broken.has(1)) throw new Error('tile 1 broke');
  return <span>fine</span>;
}
