// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes, useLocation } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SearchPage } from '../src/objects/SearchPage';
import { camera, json } from './support/fakeManagement';
import { trackedObject } from './support/objects';
import { consoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

function Where() {
  const { pathname, search } = useLocation();
  return <output data-testid="where">{pathname + search}</output>;
}

describe('Search page', () => {
  it('sends the URL filters, toggles colours into the URL and shows the grid', async () => {
    const h = await consoleHarness({ route: '/search?label=person,vehicle&camera=3&zone=door' });
    h.server.lists.set('/api/v1/cameras', [camera(3)]);
    h.server.route((req) => (req.path === '/api/v1/search'
      ? json({ items: [trackedObject(1), trackedObject(2, { label: 'vehicle', color: null,
        zones: [], lines: ['gate'], reviewed: true })], total: 2, limit: 24, offset: 0 })
      : undefined));
    render(<Routes><Route path="/search" element={<><SearchPage /><Where /></>} /></Routes>,
      { wrapper: h.wrapper });
    const searches = () => h.server.requests.filter((r) => r.path === '/api/v1/search');
    await waitFor(() => expect(searches()).toHaveLength(1), { timeout: 5000 });
    const first = searches()[0]!.query;
    expect(first.getAll('label')).toEqual(['person', 'vehicle']);
    expect(first.getAll('camera_id')).toEqual(['3']);
    expect(first.get('zone')).toBe('door');
    expect(first.get('sort')).toBe('time');

    const cards = await screen.findAllByRole('button', { name: /^Play .* on Camera 0003/ },
      { timeout: 5000 });
    expect(cards).toHaveLength(2);
    expect(within(cards[0]!).getByText('Person')).toBeTruthy();
    expect(within(cards[0]!).getByText('door')).toBeTruthy();
    expect(within(cards[1]!).getByText('gate')).toBeTruthy();
    expect(within(cards[1]!).getByText('Reviewed')).toBeTruthy();
    // The box is drawn over each snapshot, where the object is.
    const rect = within(cards[0]!).getByTestId('object-box').querySelector('rect');
    expect(rect?.getAttribute('x')).toBe('0.4');
    expect(rect?.getAttribute('height')).toBe('0.3');
    expect(screen.getByText('2 objects found')).toBeTruthy();

    fireEvent.click(screen.getByRole('button', { name: 'Blue' }));
    await waitFor(() => expect(searches()).toHaveLength(2), { timeout: 5000 });
    expect(searches()[1]!.query.getAll('color')).toEqual(['blue']);
    fireEvent.click(screen.getByRole('button', { name: 'Red' }));
    await waitFor(() => expect(searches()).toHaveLength(3), { timeout: 5000 });
    expect(searches()[2]!.query.getAll('color')).toEqual(['blue', 'red']);
    expect(screen.getByTestId('where').textContent).toBe(
      '/search?label=person%2Cvehicle&camera=3&zone=door&color=blue%2Cred');
    fireEvent.change(screen.getByLabelText('Sort'), { target: { value: 'score' } });
    await waitFor(() => expect(searches()).toHaveLength(4), { timeout: 5000 });
    expect(searches()[3]!.query.get('sort')).toBe('score');
  });

  it('opens an object: playback from two seconds before, with its box, and a link', async () => {
    // jsdom has no modal dialogs: open and close set the attribute, as browsers do.
    const proto = HTMLDialogElement.prototype as unknown as Record<string, unknown>;
    proto.showModal ??= function (this: HTMLDialogElement) { this.setAttribute('open', ''); };
    proto.close ??= function (this: HTMLDialogElement) { this.removeAttribute('open'); };
    const h = await consoleHarness({ route: '/search' });
    h.server.lists.set('/api/v1/cameras', [camera(3)]);
    const obj = trackedObject(7);
    h.server.route((req) => {
      if (req.path === '/api/v1/search') return json({ items: [obj], total: 1, limit: 24, offset: 0 });
      if (req.path === '/api/v1/objects/7') {
        return json({ ...obj, mean_score: 0.8, path: [[0, 0.45, 0.65]], events: [] });
      }
      return undefined;
    });
    render(<Routes><Route path="/search" element={<SearchPage />} /></Routes>,
      { wrapper: h.wrapper });
    fireEvent.click(await screen.findByRole('button', { name: /^Play Person on Camera 0003/ },
      { timeout: 5000 }));
    const dialog = await screen.findByRole('dialog', {}, { timeout: 5000 });
    expect(within(dialog).getByText('Person on Camera 0003')).toBeTruthy();
    const link = within(dialog).getByRole('link', { name: 'Open in playback' });
    expect(link.getAttribute('href')).toBe(
      '/playback?camera=3&t=2026-12-08T09%3A00%3A00.000Z');
    expect(within(dialog).getByTestId('object-player')).toBeTruthy();
    await waitFor(() => expect(h.server.requests.some((r) => r.path === '/api/v1/objects/7'))
      .toBe(true), { timeout: 5000 });
  });

  it('says when nothing matches and shows a refused filter as an error', async () => {
    const h = await consoleHarness({ route: '/search?color=blue' });
    h.server.lists.set('/api/v1/cameras', []);
    h.server.route((req) => {
      if (req.path !== '/api/v1/search') return undefined;
      return req.query.get('min_score') === '7'
        ? json({ error: 'Unprocessable', detail: 'min_score: must be at most 1' }, 422)
        : json({ items: [], total: 0, limit: 24, offset: 0 });
    });
    render(<Routes><Route path="/search" element={<SearchPage />} /></Routes>,
      { wrapper: h.wrapper });
    expect(await screen.findByText('No objects match these filters.', {}, { timeout: 5000 }))
      .toBeTruthy();
    fireEvent.change(screen.getByLabelText('Score at least (0–1)'), { target: { value: '7' } });
    expect(await screen.findByRole('alert', {}, { timeout: 5000 })).toBeTruthy();
  });
});
