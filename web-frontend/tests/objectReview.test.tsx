// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TrackedObject } from '../src/objects/api';
import { ReviewPage } from '../src/objects/ReviewPage';
import { camera, json } from './support/fakeManagement';
import { consoleHarness } from './support/renderConsole';
import { trackedObject } from './support/objects';

afterEach(() => vi.unstubAllGlobals());

/** A fake review queue: unreviewed objects, marked through the API. */
function reviewServer(objects: TrackedObject[]) {
  const reviewed = new Set<number>();
  return (req: { method: string; path: string; query: URLSearchParams; body: unknown }) => {
    const open = objects.filter((o) => !reviewed.has(o.id));
    if (req.path === '/api/v1/review/summary') {
      const counts = new Map<number, number>();
      for (const o of open) counts.set(o.camera_id, (counts.get(o.camera_id) ?? 0) + 1);
      return json([...counts].map(([camera_id, unreviewed]) => ({ camera_id, unreviewed,
        newest: null })));
    }
    if (req.path === '/api/v1/review') {
      const cam = req.query.get('camera_id');
      const items = open.filter((o) => !cam || o.camera_id === Number(cam));
      return json({ items, total: items.length, limit: 24, offset: 0 });
    }
    const one = /^\/api\/v1\/objects\/(\d+)\/review$/.exec(req.path);
    if (one && req.method === 'POST') {
      reviewed.add(Number(one[1]));
      return json({ ...objects.find((o) => o.id === Number(one[1])), reviewed: true });
    }
    if (req.path === '/api/v1/objects/review' && req.method === 'POST') {
      const ids = (req.body as { ids: number[] }).ids;
      ids.forEach((id) => reviewed.add(id));
      return json({ count: ids.length });
    }
    return undefined;
  };
}

let posts: () => { path: string }[] = () => [];

const selectedId = () => document.querySelector('[aria-selected="true"]')
  ?.getAttribute('data-object-id');

describe('Review page', () => {
  it('moves with j / k and marks the selected detection with r', async () => {
    const h = await consoleHarness({ route: '/review' });
    posts = () => h.server.requests.filter((r) => r.method === 'POST'
      && r.path.startsWith('/api/v1/objects'));
    h.server.lists.set('/api/v1/cameras', [camera(3), camera(4)]);
    h.server.route(reviewServer([trackedObject(1), trackedObject(2),
      trackedObject(3, { camera_id: 4 })]));
    render(<Routes><Route path="/review" element={<ReviewPage />} /></Routes>,
      { wrapper: h.wrapper });
    await screen.findAllByRole('option', {}, { timeout: 5000 });
    expect(selectedId()).toBe('1');
    const nav = screen.getByRole('navigation', { name: 'Cameras with detections to review' });
    await waitFor(() => expect(within(nav).getByText('All cameras').parentElement?.textContent)
      .toContain('3'), { timeout: 5000 });
    fireEvent.keyDown(window, { key: 'j' });
    expect(selectedId()).toBe('2');
    fireEvent.keyDown(window, { key: 'j' });
    fireEvent.keyDown(window, { key: 'j' }); // stays on the last one
    expect(selectedId()).toBe('3');
    fireEvent.keyDown(window, { key: 'k' });
    expect(selectedId()).toBe('2');
    fireEvent.keyDown(window, { key: 'r' });
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(2), { timeout: 5000 });
    expect(posts().map((r) => r.path))
      .toEqual(['/api/v1/objects/2/review']);
    // The next one moved into place and is selected.
    expect(selectedId()).toBe('3');
    // Keys typed in a form control are not the page's.
    const input = document.createElement('input');
    document.body.appendChild(input);
    fireEvent.keyDown(input, { key: 'r' });
    expect(posts()).toHaveLength(1);
    input.remove();
  });

  it('filters by camera and marks a whole page', async () => {
    const h = await consoleHarness({ route: '/review?camera=4' });
    h.server.lists.set('/api/v1/cameras', [camera(3), camera(4)]);
    h.server.route(reviewServer([trackedObject(1), trackedObject(5, { camera_id: 4 }),
      trackedObject(6, { camera_id: 4 })]));
    render(<Routes><Route path="/review" element={<ReviewPage />} /></Routes>,
      { wrapper: h.wrapper });
    await waitFor(() => expect(screen.getAllByRole('option')).toHaveLength(2), { timeout: 5000 });
    const queue = h.server.requests.find((r) => r.path === '/api/v1/review');
    expect(queue?.query.get('camera_id')).toBe('4');
    expect(queue?.query.get('reviewed')).toBe('false');
    fireEvent.click(screen.getByRole('button', { name: 'Mark these 2 reviewed' }));
    expect(await screen.findByText('Nothing left to review here.', {}, { timeout: 5000 }))
      .toBeTruthy();
    const bulk = h.server.requests.find((r) => r.path === '/api/v1/objects/review');
    expect(bulk?.body).toEqual({ ids: [5, 6], reviewed: true });
  });

  it('has no review buttons for a role without events:ack', async () => {
    const h = await consoleHarness({ route: '/review', me: { roles: ['viewer'],
      permissions: ['cameras:read', 'events:read'] } });
    posts = () => h.server.requests.filter((r) => r.method === 'POST'
      && r.path.startsWith('/api/v1/objects'));
    h.server.lists.set('/api/v1/cameras', [camera(3)]);
    h.server.route(reviewServer([trackedObject(1)]));
    render(<Routes><Route path="/review" element={<ReviewPage />} /></Routes>,
      { wrapper: h.wrapper });
    await screen.findAllByRole('option', {}, { timeout: 5000 });
    expect(screen.queryByRole('button', { name: 'Reviewed' })).toBeNull();
    fireEvent.keyDown(window, { key: 'r' });
    await new Promise((r) => setTimeout(r, 50));
    expect(posts()).toHaveLength(0);
  });
});
