// @vitest-environment jsdom
import { act, render, screen, waitFor } from '@testing-library/react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { WallsPage } from '../src/walls/WallsPage';
import { json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

describe('wall overview', () => {
  it('re-reads the walls at once on a wall.changed frame', async () => {
    const h = await consoleHarness({ me: { permissions: ['cameras:read', 'walls:view',
      'events:read'] } });
    h.server.route((req) => (req.path === '/api/v1/walls' && req.method === 'GET'
      ? json([]) : undefined));
    render(<WallsPage />, { wrapper: h.wrapper });
    await screen.findByRole('heading', { name: 'Video walls' });
    const reads = () => h.server.requests.filter((r) => r.path === '/api/v1/walls').length;
    await waitFor(() => expect(reads()).toBe(1));
    await act(async () => h.socket().receive({ type: 'ready' }));
    await act(async () => h.socket().receive({ type: 'wall.other', wall_id: 1 }));
    await act(async () => h.socket().receive({ type: 'wall.changed', wall_id: 1,
      monitor_id: 2, camera_id: null }));
    // Long before the 3 s poll.
    await waitFor(() => expect(reads()).toBe(2), { timeout: 1000 });
  });
});
