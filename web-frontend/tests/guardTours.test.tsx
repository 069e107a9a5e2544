// @vitest-environment jsdom
import { fireEvent, render, screen, waitFor, within } from '@testing-library/react';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OnvifDialog } from '../src/admin/OnvifDialog';
import type { GuardTour } from '../src/api/guardTours';
import { GuardTours } from '../src/ptz/GuardTours';
import { json } from './support/fakeManagement';
import { consoleHarness, type ConsoleHarness } from './support/renderConsole';

afterEach(() => vi.unstubAllGlobals());

beforeAll(() => {
  const proto = HTMLDialogElement.prototype as unknown as Record<string, unknown>;
  proto.showModal ??= function (this: HTMLDialogElement) { this.setAttribute('open', ''); };
  proto.close ??= function (this: HTMLDialogElement) { this.removeAttribute('open'); };
});

const PRESETS = [
  { token: 'p1', name: 'Gate', position: null },
  { token: 'p2', name: 'Yard', position: null },
];

function tour(id: number, extra: Partial<GuardTour> = {}): GuardTour {
  return {
    id, camera_id: 3, name: `Tour ${id}`, enabled: true,
    steps: [{ preset: 'p1', dwell_s: 10 }, { preset: 'p2', dwell_s: 20 }],
    created_by: 1, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
    status: { state: 'running', step: 1, held_by: null, since: null }, ...extra,
  };
}

/** A fake guard tours API over `tours` (changed in place), and the PTZ presets of camera 3. */
function serve(h: ConsoleHarness, tours: GuardTour[]) {
  const bodies: { method: string; path: string; body: unknown }[] = [];
  h.server.route((req) => {
    if (req.path === '/api/v1/cameras/3/ptz/presets') return json(PRESETS);
    if (!req.path.startsWith('/api/v1/guard-tours')) return undefined;
    if (req.method === 'GET') return json(tours);
    bodies.push({ method: req.method, path: req.path, body: req.body });
    const id = Number(req.path.split('/').pop());
    if (req.method === 'POST') {
      const created = tour(9, { ...(req.body as object),
        status: { state: 'idle', step: null, held_by: null, since: null } });
      tours.push(created);
      return json(created, 201);
    }
    const i = tours.findIndex((t) => t.id === id);
    if (req.method === 'PATCH') {
      const updated = { ...tours[i], ...(req.body as object) } as GuardTour;
      tours[i] = updated;
      return json(updated);
    }
    tours.splice(i, 1);
    return new Response(null, { status: 204 });
  });
  return bodies;
}

describe('guard tours in the PTZ panel', () => {
  it('lists the camera’s tours with what the runner does', async () => {
    const h = await consoleHarness();
    serve(h, [
      tour(1),
      tour(2, { status: { state: 'paused', step: 0, held_by: 'alice', since: null } }),
      tour(3, { enabled: false, status: { state: 'disabled', step: null, held_by: null,
        since: null } }),
      tour(4, { camera_id: 8 }),
    ]);
    render(<GuardTours cameraId={3} />, { wrapper: h.wrapper });
    const running = await screen.findByTestId('guard-tour-1');
    expect(within(running).getByText('Running: at Yard')).toBeTruthy();
    expect(within(running).getByText('Gate (10 s) → Yard (20 s)')).toBeTruthy();
    expect(within(screen.getByTestId('guard-tour-2')).getByText('Paused: alice has control'))
      .toBeTruthy();
    expect(within(screen.getByTestId('guard-tour-3')).getByText('Disabled')).toBeTruthy();
    expect(screen.queryByTestId('guard-tour-4')).toBeNull(); // another camera's
  });

  it('creates, edits and deletes a tour', async () => {
    const h = await consoleHarness();
    const bodies = serve(h, [tour(1)]);
    render(<GuardTours cameraId={3} />, { wrapper: h.wrapper });
    await screen.findByTestId('guard-tour-1');
    await waitFor(() => expect((screen.getByRole('button', { name: 'New guard tour' }) as
      HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByRole('button', { name: 'New guard tour' }));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: ' Night round ' } });
    fireEvent.change(screen.getByLabelText('Preset of step 1'), { target: { value: 'p2' } });
    fireEvent.change(screen.getByLabelText('Dwell of step 2 (seconds)'),
      { target: { value: '45' } });
    fireEvent.click(screen.getByRole('button', { name: 'Add a preset' }));
    fireEvent.click(screen.getByRole('button', { name: 'Remove step 1' }));
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect(await screen.findByTestId('guard-tour-9')).toBeTruthy();
    expect(bodies[0]).toEqual({ method: 'POST', path: '/api/v1/guard-tours', body: {
      camera_id: 3, name: 'Night round', enabled: true,
      steps: [{ preset: 'p2', dwell_s: 45 }, { preset: 'p1', dwell_s: 10 }] } });

    fireEvent.click(screen.getByRole('button', { name: 'Edit guard tour Tour 1' }));
    const form = screen.getByRole('form', { name: 'Edit guard tour Tour 1' });
    fireEvent.click(within(form).getByLabelText('Enabled (the server runs it)'));
    fireEvent.click(within(form).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(bodies).toHaveLength(2));
    expect(bodies[1]).toMatchObject({ method: 'PATCH', path: '/api/v1/guard-tours/1',
      body: { name: 'Tour 1', enabled: false } });

    fireEvent.click(within(screen.getByTestId('guard-tour-1')).getByRole('button',
      { name: 'Delete' }));
    fireEvent.click(screen.getByRole('button', { name: 'Confirm' }));
    await waitFor(() => expect(screen.queryByTestId('guard-tour-1')).toBeNull());
    expect(bodies[2]).toMatchObject({ method: 'DELETE', path: '/api/v1/guard-tours/1' });
  });

  it('shows a rejected tour’s error and offers no changes to operators', async () => {
    const h = await consoleHarness();
    h.server.route((req) => (req.method === 'POST' && req.path === '/api/v1/guard-tours'
      ? json({ error: 'Unprocessable', detail: 'unknown preset p2' }, 422) : undefined));
    serve(h, []);
    const view = render(<GuardTours cameraId={3} />, { wrapper: h.wrapper });
    expect(await screen.findByText('No guard tour on this camera.')).toBeTruthy();
    await waitFor(() => expect((screen.getByRole('button', { name: 'New guard tour' }) as
      HTMLButtonElement).disabled).toBe(false));
    fireEvent.click(screen.getByRole('button', { name: 'New guard tour' }));
    fireEvent.change(screen.getByLabelText('Name'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    expect((await screen.findByRole('alert')).textContent).toContain('unknown preset p2');
    view.unmount();

    const op = await consoleHarness({ me: { roles: ['operator'],
      permissions: ['cameras:read', 'ptz:control'] } });
    serve(op, [tour(1)]);
    render(<GuardTours cameraId={3} />, { wrapper: op.wrapper });
    await screen.findByTestId('guard-tour-1');
    expect(screen.queryByRole('button', { name: /Edit|New guard tour|Delete/ })).toBeNull();
  });
});

describe('ONVIF probe warnings', () => {
  it('shows what the device cannot do before it is added', async () => {
    const h = await consoleHarness();
    h.server.route((req) => (req.path === '/api/v1/cameras/onvif/probe' ? json({
      host: '10.0.0.9', port: 80,
      device: { manufacturer: 'Acme', model: 'X1', firmware_version: '1', serial_number: 's' },
      profiles: [{ token: 'main', name: 'Main', encoding: 'H265', width: 3840, height: 2160,
        fps: 25, has_ptz: false, stream_uri: 'rtsp://10.0.0.9/main', snapshot_uri: null }],
      main_profile: 'main', sub_profile: null,
      ptz: { supported: false, profile: null, presets: [], presets_available: true },
      capabilities: { media2: true, ptz: false, events: false, imaging: false, time: true },
      time_offset_s: 0,
      warnings: ['snapshot URI of profile \'main\' not available: camera does not support it',
        'events not available: the camera lists no such service'],
    }) : undefined));
    render(<OnvifDialog onClose={() => undefined} onAdded={() => undefined} />,
      { wrapper: h.wrapper });
    fireEvent.change(await screen.findByLabelText('Host'), { target: { value: '10.0.0.9' } });
    const [probe] = screen.getAllByRole('button', { name: 'Probe device' });
    if (!probe) throw new Error('no probe button');
    fireEvent.click(probe);
    const box = await screen.findByTestId('onvif-warnings');
    expect(within(box).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      'snapshot URI of profile \'main\' not available: camera does not support it',
      'events not available: the camera lists no such service']);
    expect(screen.getByText('Media2 (H.265 profiles)')).toBeTruthy();
    expect(screen.getAllByRole('option', { name: /Main 3840×2160 H265/ })).toHaveLength(2);
  });
});
