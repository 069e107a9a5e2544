// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Route, Routes, useLocation } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { EventsPage } from '../src/events/EventsPage';
import { json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

function Where() {
  const { search } = useLocation();
  return <output data-testid="search">{search}</output>;
}

describe('Events filters', () => {
  it('start from the URL, and typing makes one request once it pauses', async () => {
    const h = await consoleHarness({ route: '/events?camera=3&offset=24' });
    h.server.lists.set('/api/v1/cameras', []);
    h.server.route((req) => (req.path === '/api/v1/events'
      ? json({ items: [], total: 0, limit: 24, offset: Number(req.query.get('offset')) })
      : undefined));
    render(<Routes><Route path="/events" element={<><EventsPage /><Where /></>} /></Routes>,
      { wrapper: h.wrapper });
    const events = () => h.server.requests.filter((r) => r.path === '/api/v1/events');
    await waitFor(() => expect(events()).toHaveLength(1));
    expect(events()[0]?.query.get('camera_id')).toBe('3');
    expect(events()[0]?.query.get('offset')).toBe('24');

    const box = screen.getByPlaceholderText('motion.start');
    for (const text of ['m', 'mo', 'mot', 'motion', 'motion.start']) {
      fireEvent.change(box, { target: { value: text } });
    }
    await waitFor(() => expect(events()).toHaveLength(2), { timeout: 2000 });
    expect(events()[1]?.query.get('type')).toBe('motion.start');
    // A new filter goes back to the first page, and the URL says so.
    expect(events()[1]?.query.get('offset')).toBe('0');
    expect(screen.getByTestId('search').textContent).toBe('?camera=3&type=motion.start');
    await new Promise((r) => setTimeout(r, 400));
    expect(events()).toHaveLength(2);
  });
});
