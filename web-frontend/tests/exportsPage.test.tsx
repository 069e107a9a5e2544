// @vitest-environment jsdom
import { act, fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { Route, Routes } from 'react-router-dom';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ExportJob } from '../src/exports/api';
import { ExportsPage } from '../src/exports/ExportsPage';
import { EventsPage } from '../src/events/EventsPage';
import { camera, json } from './support/fakeManagement';
import { consoleHarness, ME } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

const PERMS = [...ME.permissions, 'recordings:export', 'recordings:hold'];

function job(id: number, extra: Partial<ExportJob> = {}): ExportJob {
  return {
    id, name: `export ${id}`, reason: 'police request', state: 'queued', progress: 0,
    bytes_done: 0, bytes_total: 0, error: null,
    items: [{ camera_id: 3, start: '2026-11-01T10:00:00Z', end: '2026-11-01T10:05:00Z',
      event_id: null }],
    range_start: '2026-11-01T10:00:00Z', range_end: '2026-11-01T10:05:00Z', created_by: 1,
    created_by_name: 'op', created_at: '2026-11-01T11:00:00Z', started_at: null,
    finished_at: null, file_bytes: 0, manifest_sha256: null, files: [], expires_at: null,
    held: false, ...extra,
  };
}

/** Exports kept by the fake server: created, listed, deleted. */
function exportsServer() {
  const jobs: ExportJob[] = [];
  return {
    jobs,
    route: (req: { method: string; path: string; body: unknown }) => {
      if (req.path === '/api/v1/exports/public-key') {
        return json({ algorithm: 'Ed25519', public_key_pem: '-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n',
          fingerprint: 'ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12cd34ef56ab12' });
      }
      if (req.path === '/api/v1/exports' && req.method === 'GET') {
        return json({ items: [...jobs].reverse(), total: jobs.length });
      }
      if (req.path === '/api/v1/exports' && req.method === 'POST') {
        const body = req.body as { name: string };
        const created = job(jobs.length + 1, { name: body.name });
        jobs.push(created);
        return json(created, 202);
      }
      const del = /^\/api\/v1\/exports\/(\d+)$/.exec(req.path);
      if (del && req.method === 'DELETE') {
        jobs.splice(jobs.findIndex((j) => j.id === Number(del[1])), 1);
        return new Response(null, { status: 204 });
      }
      if (req.path === '/api/v1/holds') return json({ items: [], total: 0 });
      return undefined;
    },
  };
}

describe('Exports page', () => {
  it('creates an export, follows its progress on the socket, then offers the download', async () => {
    const h = await consoleHarness({ route: '/exports', me: { permissions: PERMS } });
    h.server.lists.set('/api/v1/cameras', [camera(3), camera(4)]);
    const srv = exportsServer();
    h.server.route(srv.route);
    render(<Routes><Route path="/exports" element={<ExportsPage />} /></Routes>,
      { wrapper: h.wrapper });
    expect(await screen.findByTestId('fingerprint', {}, { timeout: 5000 })).toHaveProperty('textContent',
      'ab12 cd34 ef56 ab12 cd34 ef56 ab12 cd34 ef56 ab12 cd34 ef56 ab12 cd34 ef56 ab12');
    fireEvent.click(await screen.findByLabelText('Camera 0003', {}, { timeout: 5000 }));
    fireEvent.change(screen.getByLabelText('From'), { target: { value: '2026-11-01T10:00:00' } });
    fireEvent.change(screen.getByLabelText('To'), { target: { value: '2026-11-01T10:05:00' } });
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'gate' } });
    const create = screen.getByRole('button', { name: 'Export' });
    expect(create).toHaveProperty('disabled', true); // no reason yet
    fireEvent.change(screen.getByLabelText(/^Reason/), { target: { value: 'case 12' } });
    fireEvent.click(create);
    await screen.findByText('Queued', {}, { timeout: 5000 });
    const post = h.server.requests.find((r) => r.method === 'POST' && r.path === '/api/v1/exports');
    expect(post?.body).toMatchObject({ name: 'gate', reason: 'case 12', cameras: [3] });
    expect((post?.body as { start: string }).start).toBe(new Date('2026-11-01T10:00:00').toISOString());

    await act(async () => h.socket().receive({ type: 'ready' }));
    await act(async () => h.socket().receive({ type: 'export.progress', export_id: 1,
      camera_id: 3, state: 'running', progress: 0.4, bytes_done: 40, bytes_total: 100 }));
    const bar = await screen.findByRole('progressbar', { name: 'Progress of gate' },
      { timeout: 5000 });
    expect(bar.getAttribute('value')).toBe('40');
    srv.jobs[0] = { ...srv.jobs[0]!, state: 'done', progress: 1, file_bytes: 2_500_000 };
    await act(async () => h.socket().receive({ type: 'export.done', export_id: 1,
      camera_id: 3, state: 'done', progress: 1 }));
    const row = (await screen.findByText('Done', {}, { timeout: 5000 })).closest('tr')!;
    expect(within(row).getByRole('button', { name: 'Download' })).toBeTruthy();
    expect(within(row).getByText('2.5 MB')).toBeTruthy();

    fireEvent.click(within(row).getByRole('button', { name: 'Delete' }));
    fireEvent.click(within(row).getByRole('button', { name: 'Delete the export' }));
    await screen.findByText('No exports yet.', {}, { timeout: 5000 });
  });

  it('exports the events picked on the Events page', async () => {
    // Snapshots load when scrolled into view; jsdom has no IntersectionObserver.
    vi.stubGlobal('IntersectionObserver', class { observe() {} disconnect() {} });
    const h = await consoleHarness({ route: '/events', me: { permissions: PERMS } });
    h.server.lists.set('/api/v1/cameras', [camera(3)]);
    const event = (id: number) => ({ id, camera_id: 3, type: 'manual', severity: 'info',
      started_at: '2026-11-01T10:00:00Z', ended_at: null, payload: {}, snapshot: false,
      kept: false, created_at: '2026-11-01T10:00:00Z', source_id: `e${id}`,
      has_snapshot: false });
    h.server.lists.set('/api/v1/events', [event(5), event(6)]);
    h.server.route((req) => (req.path === '/api/v1/holds'
      ? json({ items: [{ id: 9, kind: 'event', event_id: 6, camera_id: 3, export_id: null,
        start: null, end: null, reason: 'case', created_by: 1, created_by_name: 'op',
        created_at: '2026-11-01T10:00:00Z', released_at: null, released_by_name: null,
        release_reason: null, active: true }], total: 1 }) : undefined));
    render(<Routes><Route path="/events" element={<EventsPage />} /></Routes>,
      { wrapper: h.wrapper });
    const cards = await screen.findAllByRole('listitem', {}, { timeout: 5000 });
    await waitFor(() => expect(within(cards[1]!).getByText('On hold')).toBeTruthy(),
      { timeout: 5000 });
    expect(within(cards[1]!).getByRole('button', { name: 'Release hold' })).toBeTruthy();
    expect(within(cards[0]!).getByRole('button', { name: 'Hold' })).toBeTruthy();
    for (const card of cards) fireEvent.click(within(card).getByRole('checkbox'));
    const link = screen.getByRole('link', { name: 'Export 2 selected events' });
    expect(link.getAttribute('href')).toBe('/exports?events=5,6');
  });
});
